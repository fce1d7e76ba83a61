package identity_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/token"
)

// TestGetMeWithDevIdP checks the verifier against tokens of the real dev identity provider,
// obtained through its login form and token endpoint.
func TestGetMeWithDevIdP(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}})
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(identity.NewService(identity.Config{Policy: func() *policy.Policy { return pol }})))
	srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
	t.Cleanup(srv.Close)
	client := identityv1connect.NewIdentityServiceClient(srv.Client(), srv.URL)

	getMe := func(tok string) (*identityv1.GetMeResponse, error) {
		ctx, info := connect.NewClientContext(context.Background())
		info.RequestHeader().Set("Authorization", "Bearer "+tok)
		return client.GetMe(ctx, &identityv1.GetMeRequest{})
	}
	tests := []struct {
		name   string
		token  func() string
		code   connect.Code
		user   string
		models int
		admin  bool
	}{
		{"alice", func() string { return idp.AccessToken(t, "alice") }, ok, "alice", 7, false},
		{"dana", func() string { return idp.AccessToken(t, "dana") }, ok, "dana", 8, true},
		{"bob", func() string { return idp.AccessToken(t, "bob") }, ok, "bob", 0, false},
		{"machine", func() string { return idp.MachineToken(t) }, ok, "portico-machine", 2, false},
		{"machine, inference only", func() string { return idp.MachineToken(t, "portico/inference") }, connect.CodePermissionDenied, "", 0, false},
		{"ID token", func() string { return idp.IDToken(t, "alice", "n-1") }, connect.CodeUnauthenticated, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me, err := getMe(tt.token())
			if got := codeOf(err); got != tt.code {
				t.Fatalf("code %v (%v), want %v", got, err, tt.code)
			}
			if err != nil {
				return
			}
			if me.GetPrincipal().GetUsername() != tt.user || len(me.GetEntitlements().GetModelIds()) != tt.models ||
				me.GetEntitlements().GetUsageAdmin() != tt.admin {
				t.Errorf("GetMe = %v", me)
			}
		})
	}
}
