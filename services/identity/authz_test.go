package identity_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// adminStub is an admin-protected handler: it only checks RequireUsageAdmin.
type adminStub struct {
	adminv1connect.UnimplementedAdminServiceHandler
	pol *policy.Policy
}

func (a adminStub) ListUsage(ctx context.Context, _ *adminv1.ListUsageRequest) (*adminv1.ListUsageResponse, error) {
	if err := authn.RequireUsageAdmin(ctx, a.pol); err != nil {
		return nil, err
	}
	return &adminv1.ListUsageResponse{}, nil
}

// ok stands for a successful call in the table.
const ok connect.Code = 0

// codeOf returns ok for nil, else the error's code.
func codeOf(err error) connect.Code {
	if err == nil {
		return ok
	}
	return connect.CodeOf(err)
}

// TestAuthz calls every RPC this package guards as every kind of caller, over Connect and
// gRPC, through the real middleware and handlers, and expects an exact code.
func TestAuthz(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.WebClientID, tokentest.MachineClientID}})
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(identity.NewService(identity.Config{Policy: func() *policy.Policy { return pol }})))
	mux.Handle(adminv1connect.NewAdminServiceHandler(adminStub{pol: pol}))
	// The real inference service lives elsewhere; the unimplemented one shows what the
	// middleware lets through (Unimplemented) and what it stops.
	mux.Handle(inferencev1connect.NewInferenceServiceHandler(inferencev1connect.UnimplementedInferenceServiceHandler{}))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewUnstartedServer(authn.New(v, logger)(mux))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	now := time.Now()
	alice := func(mut func(tokentest.Claims)) string {
		c := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
		mut(c)
		return iss.Sign(c)
	}
	aliceClaims := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
	const (
		unauth = connect.CodeUnauthenticated
		denied = connect.CodePermissionDenied
		unimpl = connect.CodeUnimplemented
	)
	tests := []struct {
		name                  string
		token                 string
		getMe, admin, infer   connect.Code
		models                int
		usageAdmin, isMachine bool
	}{
		{name: "no token", token: "", getMe: unauth, admin: unauth, infer: unauth},
		{name: "malformed", token: "not.a.jwt", getMe: unauth, admin: unauth, infer: unauth},
		{name: "expired", token: alice(func(c tokentest.Claims) { c["exp"] = now.Add(-time.Hour).Unix() }), getMe: unauth, admin: unauth, infer: unauth},
		{name: "not yet valid", token: alice(func(c tokentest.Claims) { c["nbf"] = now.Add(time.Hour).Unix() }), getMe: unauth, admin: unauth, infer: unauth},
		{name: "wrong issuer", token: alice(func(c tokentest.Claims) { c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/other" }), getMe: unauth, admin: unauth, infer: unauth},
		{name: "wrong client_id", token: alice(func(c tokentest.Claims) { c["client_id"] = "someone-else" }), getMe: unauth, admin: unauth, infer: unauth},
		{name: "ID token as access token", token: alice(func(c tokentest.Claims) {
			c["token_use"] = "id"
			c["aud"] = tokentest.WebClientID
			c["nonce"] = "n"
			delete(c, "client_id")
		}), getMe: unauth, admin: unauth, infer: unauth},
		{name: "alg none", token: iss.Unsigned(aliceClaims), getMe: unauth, admin: unauth, infer: unauth},
		{name: "HS256 with the public key", token: iss.HS256WithPublicKey(aliceClaims), getMe: unauth, admin: unauth, infer: unauth},
		{name: "unknown kid", token: tokentest.SignWithUnknownKey(aliceClaims, "not-published"), getMe: unauth, admin: unauth, infer: unauth},
		{name: "tampered payload", token: tokentest.Tamper(iss.AccessToken("bob"), iss.PersonClaims("bob", tokentest.WebClientID, "Administrators")), getMe: unauth, admin: unauth, infer: unauth},
		{name: "bob, no ML group", token: iss.AccessToken("bob"), getMe: ok, admin: denied, infer: unimpl, models: 0},
		{name: "alice, MLUsers", token: iss.AccessToken("alice", "MLUsers"), getMe: ok, admin: denied, infer: unimpl, models: 7},
		{name: "dana, Administrators", token: iss.AccessToken("dana", "Administrators", "MLUsers"), getMe: ok, admin: ok, infer: unimpl, models: 8, usageAdmin: true},
		{name: "machine with both scopes", token: iss.MachineToken(tokentest.ScopeIdentity, tokentest.ScopeInference), getMe: ok, admin: denied, infer: unimpl, models: 2, isMachine: true},
		{name: "machine with identity scope", token: iss.MachineToken(tokentest.ScopeIdentity), getMe: ok, admin: denied, infer: denied, models: 0, isMachine: true},
		{name: "machine with inference scope", token: iss.MachineToken(tokentest.ScopeInference), getMe: denied, admin: denied, infer: unimpl},
		{name: "machine without scope", token: iss.MachineToken(), getMe: denied, admin: denied, infer: denied},
	}
	protocols := map[string][]connect.ClientOption{"connect": nil, "grpc": {connect.WithGRPC()}, "grpc-web": {connect.WithGRPCWeb()}}
	for pname, opts := range protocols {
		idc := identityv1connect.NewIdentityServiceClient(srv.Client(), srv.URL, opts...)
		adc := adminv1connect.NewAdminServiceClient(srv.Client(), srv.URL, opts...)
		inc := inferencev1connect.NewInferenceServiceClient(srv.Client(), srv.URL, opts...)
		for _, tt := range tests {
			t.Run(pname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				call := func() context.Context {
					ctx, info := connect.NewClientContext(context.Background())
					if tt.token != "" {
						info.RequestHeader().Set("Authorization", "Bearer "+tt.token)
					}
					return ctx
				}
				me, err := idc.GetMe(call(), &identityv1.GetMeRequest{})
				if got := codeOf(err); got != tt.getMe {
					t.Errorf("GetMe: code %v (%v), want %v", got, err, tt.getMe)
				}
				if tt.getMe == unauth {
					var ce *connect.Error
					if pname == "connect" && (!asConnectError(err, &ce) || ce.Meta().Get("WWW-Authenticate") == "") {
						t.Errorf("GetMe: no WWW-Authenticate on %v", err)
					}
				}
				if err == nil {
					e := me.GetEntitlements()
					if len(e.GetModelIds()) != tt.models || e.GetUsageAdmin() != tt.usageAdmin {
						t.Errorf("GetMe entitlements = %v", e)
					}
					if tt.models == 0 && len(e.GetQuotas()) != 0 {
						t.Errorf("no models but quotas %v", e.GetQuotas())
					}
					wantKind := identityv1.PrincipalKind_PRINCIPAL_KIND_PERSON
					if tt.isMachine {
						wantKind = identityv1.PrincipalKind_PRINCIPAL_KIND_MACHINE
					}
					if me.GetPrincipal().GetKind() != wantKind || me.GetPrincipal().GetSessionExpiresAt() == nil {
						t.Errorf("GetMe principal = %v", me.GetPrincipal())
					}
				}
				_, err = adc.ListUsage(call(), &adminv1.ListUsageRequest{})
				if got := codeOf(err); got != tt.admin {
					t.Errorf("ListUsage: code %v (%v), want %v", got, err, tt.admin)
				}
				_, err = inc.ListModels(call(), &inferencev1.ListModelsRequest{})
				if got := codeOf(err); got != tt.infer {
					t.Errorf("ListModels: code %v (%v), want %v", got, err, tt.infer)
				}
			})
		}
	}
}

func asConnectError(err error, target **connect.Error) bool {
	return errors.As(err, target)
}
