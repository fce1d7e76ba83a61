package authorizer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/authorizer"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

const (
	methodARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/portico.identity.v1.IdentityService/GetMe"
	stage     = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"
)

func newAuthorizer(t testing.TB, opts ...token.Option) (*authorizer.Authorizer, *tokentest.Issuer) {
	t.Helper()
	iss := tokentest.Start(t)
	return newAuthorizerFor(t, newVerifier(iss, opts...), io.Discard), iss
}

func newVerifier(iss *tokentest.Issuer, opts ...token.Option) *token.Verifier {
	return token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.WebClientID, tokentest.MachineClientID}}, opts...)
}

// newAuthorizerFor returns an Authorizer of v with the default policy, logging to log.
func newAuthorizerFor(t testing.TB, v authn.TokenVerifier, log io.Writer) *authorizer.Authorizer {
	t.Helper()
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	return authorizer.New(v, func() *policy.Policy { return pol }, slog.New(slog.NewTextHandler(log, nil)))
}

// flipFirst returns s with its first character changed.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// credentialsOf returns the parts of the credentials an event carries (each dot- or
// space-separated piece of at least 16 characters), which its logs must never show.
func credentialsOf(event json.RawMessage) []string {
	var e struct {
		Token   string              `json:"authorizationToken"`
		Headers map[string]string   `json:"headers"`
		Multi   map[string][]string `json:"multiValueHeaders"`
	}
	_ = json.Unmarshal(event, &e)
	values := []string{e.Token}
	for _, v := range e.Headers {
		values = append(values, v)
	}
	for _, vs := range e.Multi {
		values = append(values, vs...)
	}
	var out []string
	for _, v := range values {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == ' ' }) {
			if len(part) >= 16 {
				out = append(out, part)
			}
		}
	}
	return out
}

func requestEvent(headers map[string]string, arn string) json.RawMessage {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: arn, Headers: headers, HTTPMethod: "POST",
		Path: "/portico.identity.v1.IdentityService/GetMe",
	})
	return b
}

func multiRequestEvent(multi map[string][]string, single map[string]string, arn string) json.RawMessage {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: arn, Headers: single, MultiValueHeaders: multi, HTTPMethod: "POST",
		Path: "/portico.identity.v1.IdentityService/GetMe",
	})
	return b
}

func tokenEvent(tok, arn string) json.RawMessage {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: arn})
	return b
}

// TestHandle is the authorizer's table of attacks and decisions: every refusal is the exact
// error "Unauthorized" (401), every decision a one-statement policy (Allow or an explicit Deny,
// 403) on wildcard resources of the stage.
func TestHandle(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := newVerifier(iss)
	now := time.Now()
	claims := func(mut func(tokentest.Claims)) tokentest.Claims {
		c := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
		if mut != nil {
			mut(c)
		}
		return c
	}
	set := func(k string, v any) func(tokentest.Claims) { return func(c tokentest.Claims) { c[k] = v } }
	del := func(k string) func(tokentest.Claims) { return func(c tokentest.Claims) { delete(c, k) } }
	withHeader := func(mut func(map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": iss.Kid()}
		mut(h)
		return iss.SignWithHeader(h, claims(nil))
	}
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }
	alice := iss.AccessToken("alice", "MLUsers")
	parts := strings.Split(alice, ".")
	everything := []string{stage + "/*/*"}
	const unauthorized = "Unauthorized"
	type want struct {
		err       string
		effect    string
		resources []string
		kind      string
	}
	refused := want{err: unauthorized}
	allowPerson := want{effect: "Allow", resources: everything, kind: "person"}
	denyPerson := want{effect: "Deny", resources: everything, kind: "person"}
	tests := []struct {
		name  string
		event json.RawMessage
		want  want
	}{
		// Decisions.
		{"request, alice", requestEvent(bearer(alice), methodARN), allowPerson},
		{"request, dana", requestEvent(bearer(iss.AccessToken("dana", "Administrators", "MLUsers")), methodARN), allowPerson},
		{"request, bob", requestEvent(bearer(iss.AccessToken("bob")), methodARN), denyPerson},
		{"request, unknown group", requestEvent(bearer(iss.AccessToken("eve", "Sales")), methodARN), denyPerson},
		{"request, group of another case", requestEvent(bearer(iss.AccessToken("eve", "mlusers")), methodARN), denyPerson},
		{"request, machine with inference", requestEvent(bearer(iss.MachineToken(tokentest.ScopeInference)), methodARN),
			want{effect: "Allow", resources: []string{stage + "/*/portico.inference.v1.InferenceService/*", stage + "/*/v1/*"}, kind: "machine"}},
		{"request, machine with both", requestEvent(bearer(iss.MachineToken(tokentest.ScopeInference, tokentest.ScopeIdentity)), methodARN),
			want{effect: "Allow", resources: []string{stage + "/*/portico.identity.v1.IdentityService/*", stage + "/*/portico.inference.v1.InferenceService/*", stage + "/*/v1/*"}, kind: "machine"}},
		{"request, machine without scope", requestEvent(bearer(iss.MachineToken()), methodARN), want{effect: "Deny", resources: everything, kind: "machine"}},
		{"request, machine claiming people's groups", requestEvent(bearer(iss.Sign(func() tokentest.Claims {
			c := iss.MachineClaims(tokentest.MachineClientID)
			c["cognito:groups"] = []string{"MLUsers", "Administrators"}
			return c
		}())), methodARN), want{effect: "Deny", resources: everything, kind: "machine"}},
		{"request, another method of the stage", requestEvent(bearer(alice), stage+"/GET/portico.inference.v1.InferenceService/ListModels"), allowPerson},

		// The Authorization header.
		{"request, no header", requestEvent(nil, methodARN), refused},
		{"request, basic", requestEvent(map[string]string{"Authorization": "Basic YTpi"}, methodARN), refused},
		{"request, scheme only", requestEvent(map[string]string{"Authorization": "Bearer"}, methodARN), refused},
		{"request, empty token", requestEvent(map[string]string{"Authorization": "Bearer "}, methodARN), refused},
		{"request, token without a scheme", requestEvent(map[string]string{"Authorization": alice}, methodARN), refused},
		{"request, valid token under Basic", requestEvent(map[string]string{"Authorization": "Basic " + alice}, methodARN), refused},
		{"request, valid token under DPoP", requestEvent(map[string]string{"Authorization": "DPoP " + alice}, methodARN), refused},
		{"request, lower-case scheme", requestEvent(map[string]string{"Authorization": "bearer " + alice}, methodARN), allowPerson},
		{"request, upper-case header name", requestEvent(map[string]string{"AUTHORIZATION": "Bearer " + alice}, methodARN), allowPerson},
		{"request, two headers", multiRequestEvent(map[string][]string{"Authorization": {"Bearer " + alice, "Bearer " + alice}},
			map[string]string{"Authorization": "Bearer " + alice}, methodARN), refused},
		{"request, two header names", multiRequestEvent(map[string][]string{"Authorization": {"Bearer " + alice}, "authorization": {"Bearer x"}},
			nil, methodARN), refused},
		{"request, multi-value header only", multiRequestEvent(map[string][]string{"Authorization": {"Bearer " + alice}}, nil, methodARN), allowPerson},
		{"request, two single headers", requestEvent(map[string]string{"Authorization": "Bearer " + alice, "authorization": "Bearer " + alice}, methodARN), refused},

		// Tokens that do not verify.
		{"request, garbage token", requestEvent(bearer("x.y.z"), methodARN), refused},
		{"request, malformed base64", requestEvent(bearer(parts[0]+"."+parts[1]+"!."+parts[2]), methodARN), refused},
		{"request, extra segment", requestEvent(bearer(alice+"."+parts[2]), methodARN), refused},
		{"request, expired", requestEvent(bearer(iss.Sign(claims(set("exp", now.Add(-time.Hour).Unix())))), methodARN), refused},
		{"request, no exp", requestEvent(bearer(iss.Sign(claims(del("exp")))), methodARN), refused},
		{"request, nbf in the future", requestEvent(bearer(iss.Sign(claims(set("nbf", now.Add(time.Hour).Unix())))), methodARN), refused},
		{"request, iat in the future", requestEvent(bearer(iss.Sign(claims(set("iat", now.Add(time.Hour).Unix())))), methodARN), refused},
		{"request, alg none", requestEvent(bearer(iss.Unsigned(claims(nil))), methodARN), refused},
		{"request, alg HS256", requestEvent(bearer(iss.HS256WithPublicKey(claims(nil))), methodARN), refused},
		{"request, alg RS384", requestEvent(bearer(withHeader(func(h map[string]any) { h["alg"] = "RS384" })), methodARN), refused},
		{"request, crit", requestEvent(bearer(withHeader(func(h map[string]any) { h["crit"] = []string{"x"} })), methodARN), refused},
		{"request, unknown kid", requestEvent(bearer(tokentest.SignWithUnknownKey(claims(nil), "stranger")), methodARN), refused},
		{"request, known kid, other key", requestEvent(bearer(tokentest.SignWithUnknownKey(claims(nil), iss.Kid())), methodARN), refused},
		{"request, tampered payload", requestEvent(bearer(tokentest.Tamper(alice, claims(set("cognito:groups", []string{"Administrators"})))), methodARN), refused},
		{"request, tampered signature", requestEvent(bearer(parts[0]+"."+parts[1]+"."+flipFirst(parts[2])), methodARN), refused},
		{"request, id token", requestEvent(bearer(iss.Sign(claims(func(c tokentest.Claims) {
			c["token_use"], c["aud"] = "id", tokentest.WebClientID
			delete(c, "client_id")
		}))), methodARN), refused},
		{"request, no token_use", requestEvent(bearer(iss.Sign(claims(del("token_use")))), methodARN), refused},
		{"request, token_use a number", requestEvent(bearer(iss.Sign(claims(set("token_use", 1)))), methodARN), refused},
		{"request, unknown client_id", requestEvent(bearer(iss.Sign(claims(set("client_id", "other-app")))), methodARN), refused},
		{"request, no client_id", requestEvent(bearer(iss.Sign(claims(del("client_id")))), methodARN), refused},
		{"request, issuer with trailing slash", requestEvent(bearer(iss.Sign(claims(set("iss", iss.URL+"/")))), methodARN), refused},
		{"request, issuer over https", requestEvent(bearer(iss.Sign(claims(set("iss", "https"+strings.TrimPrefix(iss.URL, "http"))))), methodARN), refused},
		{"request, issuer of another pool", requestEvent(bearer(iss.Sign(claims(set("iss", iss.URL+"/us-east-1_other")))), methodARN), refused},
		{"request, person named like a machine account", requestEvent(bearer(iss.Sign(claims(set("username", "client:portico-machine")))), methodARN), refused},
		{"request, person without sub", requestEvent(bearer(iss.Sign(claims(del("sub")))), methodARN), refused},

		// The method ARN.
		{"request, bad ARN", requestEvent(bearer(alice), "not-an-arn"), refused},
		{"request, ARN without stage", requestEvent(bearer(alice), "arn:aws:execute-api:us-east-1:1:abc"), refused},
		{"request, ARN of another service", requestEvent(bearer(alice), "arn:aws:lambda:us-east-1:123456789012:abc123/prod/POST/x"), refused},
		{"request, ARN not starting with arn", requestEvent(bearer(alice), "urn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/x"), refused},
		{"request, ARN with an empty api id", requestEvent(bearer(alice), "arn:aws:execute-api:us-east-1:123456789012:/prod/POST/x"), refused},
		{"request, ARN with an empty stage", requestEvent(bearer(alice), "arn:aws:execute-api:us-east-1:123456789012:abc123//POST/x"), refused},
		{"request, ARN with five fields", requestEvent(bearer(alice), "arn:aws:execute-api:us-east-1:abc123/prod/POST/x"), refused},

		// TOKEN events.
		{"token, alice", tokenEvent("Bearer "+alice, methodARN), allowPerson},
		{"token, lower-case scheme", tokenEvent("bearer "+alice, methodARN), allowPerson},
		{"token, spaces around the token", tokenEvent("Bearer   "+alice+" ", methodARN), allowPerson},
		{"token, bare token", tokenEvent(alice, methodARN), allowPerson},
		{"token, empty", tokenEvent("", methodARN), refused},
		{"token, scheme only", tokenEvent("Bearer ", methodARN), refused},
		{"token, basic scheme", tokenEvent("Basic "+alice, methodARN), refused},
		{"token, HS256", tokenEvent("Bearer "+iss.HS256WithPublicKey(claims(nil)), methodARN), refused},
		{"token, expired", tokenEvent("Bearer "+iss.Sign(claims(set("exp", now.Add(-time.Hour).Unix()))), methodARN), refused},
		{"token, bob", tokenEvent("Bearer "+iss.AccessToken("bob"), methodARN), denyPerson},
		{"token, bad ARN", tokenEvent("Bearer "+alice, "arn:aws:execute-api:us-east-1:1:abc"), refused},

		// Events.
		{"unknown type", json.RawMessage(`{"type":"WHAT"}`), refused},
		{"type in lower case", json.RawMessage(`{"type":"request","methodArn":"` + methodARN + `","headers":{"Authorization":"Bearer ` + alice + `"}}`), refused},
		{"not json", json.RawMessage(`{`), refused},
		{"wrong field types", json.RawMessage(`{"type":"REQUEST","headers":7}`), refused},
		{"token event of wrong field types", json.RawMessage(`{"type":"TOKEN","authorizationToken":7}`), refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			resp, err := newAuthorizerFor(t, v, &log).Handle(context.Background(), tt.event)
			// Every refusal is decided, not the result of a recovered panic, and no log line
			// shows the credentials.
			if strings.Contains(log.String(), "panic") {
				t.Errorf("log: %s", log.String())
			}
			for _, secret := range credentialsOf(tt.event) {
				if strings.Contains(log.String(), secret) {
					t.Errorf("log shows the credentials: %s", log.String())
				}
			}
			if tt.want.err != "" {
				if err == nil || err.Error() != tt.want.err || !errors.Is(err, authorizer.ErrUnauthorized) {
					t.Fatalf("err = %v, want %q", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := resp.PolicyDocument.Statement
			if resp.PolicyDocument.Version != "2012-10-17" || len(st) != 1 || st[0].Effect != tt.want.effect ||
				!slices.Equal(st[0].Resource, tt.want.resources) || !slices.Equal(st[0].Action, []string{"execute-api:Invoke"}) {
				t.Fatalf("policy = %+v, want %s %v", resp.PolicyDocument, tt.want.effect, tt.want.resources)
			}
			if resp.PrincipalID == "" || resp.Context["kind"] != tt.want.kind {
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

// TestIssuerDownAfterStart checks the answers while the issuer is down once its keys are held:
// tokens of a held key are decided as usual, a token of an unknown kid cannot be checked
// (ErrUnavailable), and a token that is bad whatever the keys (expired) is still refused.
func TestIssuerDownAfterStart(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a, iss := newAuthorizer(t, token.WithClock(clock))
	alice := iss.AccessToken("alice", "MLUsers")
	if _, err := a.Handle(context.Background(), tokenEvent("Bearer "+alice, methodARN)); err != nil {
		t.Fatal(err)
	}
	iss.SetDown(true)
	stranger := tokenEvent("Bearer "+tokentest.SignWithUnknownKey(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers"), "stranger"), methodARN)
	// The keys were fetched a moment ago and name no such kid: a plain refusal.
	if _, err := a.Handle(context.Background(), stranger); err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("unknown kid, keys just fetched: err = %v, want Unauthorized", err)
	}
	mu.Lock()
	now = now.Add(token.DefaultRefreshInterval) // a fetch is allowed again, and fails
	mu.Unlock()
	expired := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name   string
		token  string
		err    error
		effect string
	}{
		{"held key", alice, nil, "Allow"},
		{"held key, no group", iss.AccessToken("bob"), nil, "Deny"},
		{"unknown kid", tokentest.SignWithUnknownKey(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers"), "stranger"), authorizer.ErrUnavailable, ""},
		{"held key, expired", iss.Sign(expired), authorizer.ErrUnauthorized, ""},
		{"alg none", iss.Unsigned(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")), authorizer.ErrUnauthorized, ""},
		{"held key after the failed fetch", iss.AccessToken("dana", "MLUsers"), nil, "Allow"},
	}
	for _, tt := range tests {
		resp, err := a.Handle(context.Background(), tokenEvent("Bearer "+tt.token, methodARN))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || resp.PolicyDocument.Statement[0].Effect != tt.effect {
			t.Errorf("%s: %+v, %v; want %s", tt.name, resp.PolicyDocument, err, tt.effect)
		}
	}
}

// TestRemovedKey rotates the issuer's key and removes the old one: a token of the old key is
// allowed until the key set's lifetime is over and refused (401, not 503) from then on.
func TestRemovedKey(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a, iss := newAuthorizer(t, token.WithClock(clock))
	c := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
	c["exp"] = now.Add(3 * time.Hour).Unix()
	old := tokenEvent("Bearer "+iss.Sign(c), methodARN)
	if _, err := a.Handle(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	iss.RemoveOldKeys()
	mu.Lock()
	now = now.Add(token.DefaultKeySetLifetime)
	mu.Unlock()
	if _, err := a.Handle(context.Background(), old); err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("removed key after the key set's lifetime: err = %v, want Unauthorized", err)
	}
	resp, err := a.Handle(context.Background(), tokenEvent("Bearer "+iss.AccessToken("alice", "MLUsers"), methodARN))
	if err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Fatalf("new key: %+v, %v", resp.PolicyDocument, err)
	}
}

// panickingVerifier fails the way a bug in a verifier would.
type panickingVerifier struct{}

func (panickingVerifier) Verify(context.Context, string) (*principal.Principal, error) {
	panic("verifier bug")
}

// TestPanicIsUnauthorized checks that a panic while deciding answers Unauthorized instead of
// crashing the function (which API Gateway would answer with a 500 for every caller).
func TestPanicIsUnauthorized(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	a := newAuthorizerFor(t, panickingVerifier{}, &log)
	for _, event := range []json.RawMessage{tokenEvent("Bearer x", methodARN), requestEvent(map[string]string{"Authorization": "Bearer x"}, methodARN)} {
		if _, err := a.Handle(context.Background(), event); err == nil || err.Error() != "Unauthorized" {
			t.Fatalf("err = %v, want Unauthorized", err)
		}
	}
	if !strings.Contains(log.String(), "verifier bug") {
		t.Errorf("the panic is not logged: %s", log.String())
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
