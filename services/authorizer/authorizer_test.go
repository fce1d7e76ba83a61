package authorizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/portico-dev/portico/services/authorizer"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

const (
	methodARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/portico.identity.v1.IdentityService/GetMe"
	stage     = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"
)

func newAuthorizer(t testing.TB) (*authorizer.Authorizer, *tokentest.Issuer) {
	t.Helper()
	iss := tokentest.Start(t)
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.WebClientID, tokentest.MachineClientID}})
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	return authorizer.New(v, pol, slog.New(slog.NewTextHandler(io.Discard, nil))), iss
}

func requestEvent(headers map[string]string, arn string) json.RawMessage {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: arn, Headers: headers, HTTPMethod: "POST",
		Path: "/portico.identity.v1.IdentityService/GetMe",
	})
	return b
}

func tokenEvent(tok, arn string) json.RawMessage {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: arn})
	return b
}

func TestHandle(t *testing.T) {
	t.Parallel()
	a, iss := newAuthorizer(t)
	expired := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }
	alice := iss.AccessToken("alice", "MLUsers")
	const unauthorized = "Unauthorized"
	tests := []struct {
		name      string
		event     json.RawMessage
		err       string
		effect    string
		resources []string
		kind      string
	}{
		{"request, no header", requestEvent(nil, methodARN), unauthorized, "", nil, ""},
		{"request, basic", requestEvent(map[string]string{"Authorization": "Basic YTpi"}, methodARN), unauthorized, "", nil, ""},
		{"request, garbage token", requestEvent(bearer("x.y.z"), methodARN), unauthorized, "", nil, ""},
		{"request, expired", requestEvent(bearer(iss.Sign(expired)), methodARN), unauthorized, "", nil, ""},
		{"request, alg none", requestEvent(bearer(iss.Unsigned(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers"))), methodARN), unauthorized, "", nil, ""},
		{"request, alice", requestEvent(bearer(alice), methodARN), "", "Allow", []string{stage + "/*/*"}, "person"},
		{"request, dana", requestEvent(bearer(iss.AccessToken("dana", "Administrators", "MLUsers")), methodARN), "", "Allow", []string{stage + "/*/*"}, "person"},
		{"request, bob", requestEvent(bearer(iss.AccessToken("bob")), methodARN), "", "Deny", []string{stage + "/*/*"}, "person"},
		{"request, unknown group", requestEvent(bearer(iss.AccessToken("eve", "Sales")), methodARN), "", "Deny", []string{stage + "/*/*"}, "person"},
		{"request, machine with inference", requestEvent(bearer(iss.MachineToken(tokentest.ScopeInference)), methodARN), "", "Allow",
			[]string{stage + "/*/portico.inference.v1.InferenceService/*"}, "machine"},
		{"request, machine with both", requestEvent(bearer(iss.MachineToken(tokentest.ScopeInference, tokentest.ScopeIdentity)), methodARN), "", "Allow",
			[]string{stage + "/*/portico.identity.v1.IdentityService/*", stage + "/*/portico.inference.v1.InferenceService/*"}, "machine"},
		{"request, machine without scope", requestEvent(bearer(iss.MachineToken()), methodARN), "", "Deny", []string{stage + "/*/*"}, "machine"},
		{"request, bad ARN", requestEvent(bearer(alice), "not-an-arn"), unauthorized, "", nil, ""},
		{"request, ARN without stage", requestEvent(bearer(alice), "arn:aws:execute-api:us-east-1:1:abc"), unauthorized, "", nil, ""},
		{"token, alice", tokenEvent("Bearer "+alice, methodARN), "", "Allow", []string{stage + "/*/*"}, "person"},
		{"token, bare token", tokenEvent(alice, methodARN), "", "Allow", []string{stage + "/*/*"}, "person"},
		{"token, empty", tokenEvent("", methodARN), unauthorized, "", nil, ""},
		{"token, HS256", tokenEvent("Bearer "+iss.HS256WithPublicKey(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")), methodARN), unauthorized, "", nil, ""},
		{"unknown type", json.RawMessage(`{"type":"WHAT"}`), unauthorized, "", nil, ""},
		{"not json", json.RawMessage(`{`), unauthorized, "", nil, ""},
		{"wrong field types", json.RawMessage(`{"type":"REQUEST","headers":7}`), unauthorized, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := a.Handle(context.Background(), tt.event)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, authorizer.ErrUnauthorized) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := resp.PolicyDocument.Statement
			if resp.PolicyDocument.Version != "2012-10-17" || len(st) != 1 || st[0].Effect != tt.effect ||
				!slices.Equal(st[0].Resource, tt.resources) || !slices.Equal(st[0].Action, []string{"execute-api:Invoke"}) {
				t.Fatalf("policy = %+v, want %s %v", resp.PolicyDocument, tt.effect, tt.resources)
			}
			if resp.PrincipalID == "" || resp.Context["kind"] != tt.kind {
				t.Errorf("principal %q context %v", resp.PrincipalID, resp.Context)
			}
		})
	}
}

func TestIssuerDown(t *testing.T) {
	t.Parallel()
	a, iss := newAuthorizer(t)
	alice := iss.AccessToken("alice", "MLUsers")
	iss.SetDown(true)
	for _, event := range []json.RawMessage{tokenEvent("Bearer "+alice, methodARN), requestEvent(map[string]string{"Authorization": "Bearer " + alice}, methodARN)} {
		// Twice: the second attempt falls within the key set's retry interval.
		for range 2 {
			if _, err := a.Handle(context.Background(), event); !errors.Is(err, authorizer.ErrUnavailable) {
				t.Fatalf("issuer down: err = %v, want ErrUnavailable (not a 401 that signs the user out)", err)
			}
		}
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	a, iss := newAuthorizer(t)
	resp, err := a.Handle(context.Background(), tokenEvent("Bearer "+iss.AccessToken("dana", "MLUsers", "Administrators"), methodARN))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": "sub-dana", "username": "dana", "groups": "Administrators,MLUsers",
		"scopes": "email,openid,profile", "clientId": tokentest.WebClientID, "kind": "person",
	}
	for k, v := range want {
		if resp.Context[k] != v {
			t.Errorf("context[%s] = %v, want %v", k, resp.Context[k], v)
		}
	}
	// The whole response must survive the JSON round trip API Gateway does.
	if _, err := json.Marshal(resp); err != nil {
		t.Fatal(err)
	}
}

// FuzzHandle checks that no event makes the authorizer panic or answer anything but a policy,
// Unauthorized or (issuer unreachable) ErrUnavailable.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(requestEvent(map[string]string{"Authorization": "Bearer a.b.c"}, methodARN)))
	f.Add([]byte(tokenEvent("Bearer x", "arn:aws:execute-api:r:a:api/stage/GET/")))
	f.Add([]byte(`{"type":"TOKEN","methodArn":"arn:::::"}`))
	a, _ := newAuthorizer(f)
	f.Fuzz(func(t *testing.T, event []byte) {
		_, err := a.Handle(context.Background(), event)
		if err != nil && !errors.Is(err, authorizer.ErrUnauthorized) && !errors.Is(err, authorizer.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}
