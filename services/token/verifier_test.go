package token_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

var clientIDs = []string{tokentest.WebClientID, tokentest.MachineClientID}

func newVerifier(t testing.TB, iss *tokentest.Issuer, opts ...token.Option) *token.Verifier {
	t.Helper()
	return token.NewVerifier(iss.URL, token.Cognito{ClientIDs: clientIDs}, opts...)
}

// TestVerify is the table of attacks on Verify: each case names the check it exercises, and
// each check of Parse, Verify, checkTimes and the Cognito profile has a case that passes
// without that check (so removing or loosening the check fails this test).
func TestVerify(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	now := time.Now().Truncate(time.Second)
	v := newVerifier(t, iss, token.WithClock(func() time.Time { return now }))
	person := func(mut func(tokentest.Claims)) tokentest.Claims {
		c := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
		c["iat"], c["exp"] = now.Unix(), now.Add(time.Hour).Unix()
		if mut != nil {
			mut(c)
		}
		return c
	}
	set := func(k string, val any) func(tokentest.Claims) { return func(c tokentest.Claims) { c[k] = val } }
	del := func(k string) func(tokentest.Claims) { return func(c tokentest.Claims) { delete(c, k) } }
	signed := iss.Sign(person(nil))
	parts := strings.Split(signed, ".")
	header := func(mut func(map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": iss.Kid(), "typ": "JWT"}
		mut(h)
		return iss.SignWithHeader(h, person(nil))
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flip := func(s string, i int) string { // changes the character at i (negative: from the end)
		if i < 0 {
			i += len(s)
		}
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid person", signed, nil},
		{"valid machine", iss.MachineToken(tokentest.ScopeInference), nil},

		// Form (Parse).
		{"empty", "", token.ErrMissing},
		{"huge", string(make([]byte, token.MaxTokenSize+1)), token.ErrMalformed},
		{"garbage", "not-a-token", token.ErrMalformed},
		{"one part", parts[0], token.ErrMalformed},
		{"two parts (signature dropped)", parts[0] + "." + parts[1], token.ErrMalformed},
		{"empty signature", parts[0] + "." + parts[1] + ".", token.ErrSignature},
		{"trailing dot", signed + ".", token.ErrMalformed},
		{"four parts", signed + "." + parts[2], token.ErrMalformed},
		{"five parts (JWE shape)", "a.b.c.d.e", token.ErrMalformed},
		{"line break in the signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], token.ErrMalformed},
		{"space in the payload", parts[0] + "." + parts[1][:5] + " " + parts[1][5:] + "." + parts[2], token.ErrMalformed},
		{"padded header", parts[0] + "=." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(signed), token.ErrMalformed},
		{"signature in a non-canonical encoding", nonCanonical(signed), token.ErrMalformed},
		{"header not base64", "!!.e30.c2ln", token.ErrMalformed},
		{"header of impossible length", "A." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"header not JSON", b64("alg RS256") + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"payload of impossible length", parts[0] + ".A." + parts[2], token.ErrMalformed},
		{"signature of impossible length", parts[0] + "." + parts[1] + ".A", token.ErrMalformed},

		// Header: alg.
		{"alg none", iss.Unsigned(person(nil)), token.ErrAlgorithm},
		{"alg None", header(func(h map[string]any) { h["alg"] = "None" }), token.ErrAlgorithm},
		{"hs256 with public key", iss.HS256WithPublicKey(person(nil)), token.ErrAlgorithm},
		{"alg HS256 over an RS256 signature", header(func(h map[string]any) { h["alg"] = "HS256" }), token.ErrAlgorithm},
		{"alg RS384", header(func(h map[string]any) { h["alg"] = "RS384" }), token.ErrAlgorithm},
		{"alg PS256", header(func(h map[string]any) { h["alg"] = "PS256" }), token.ErrAlgorithm},
		{"alg ES256", header(func(h map[string]any) { h["alg"] = "ES256" }), token.ErrAlgorithm},
		{"alg rs256", header(func(h map[string]any) { h["alg"] = "rs256" }), token.ErrAlgorithm},
		{"no alg", header(func(h map[string]any) { delete(h, "alg") }), token.ErrAlgorithm},
		{"alg not a string", header(func(h map[string]any) { h["alg"] = []string{"RS256"} }), token.ErrMalformed},

		// Header: crit.
		{"crit naming an unknown extension", header(func(h map[string]any) { h["crit"] = []string{"portico-ext"}; h["portico-ext"] = true }), token.ErrMalformed},
		{"crit b64 (unencoded payload)", header(func(h map[string]any) { h["crit"] = []string{"b64"}; h["b64"] = false }), token.ErrMalformed},
		{"crit naming a registered claim", header(func(h map[string]any) { h["crit"] = []string{"exp"} }), token.ErrMalformed},
		{"crit empty", header(func(h map[string]any) { h["crit"] = []string{} }), token.ErrMalformed},
		{"crit null", header(func(h map[string]any) { h["crit"] = nil }), token.ErrMalformed},
		{"crit a string", header(func(h map[string]any) { h["crit"] = "exp" }), token.ErrMalformed},

		// Header: kid and the key.
		{"unknown kid", tokentest.SignWithUnknownKey(person(nil), "stranger"), token.ErrUnknownKey},
		{"no kid", header(func(h map[string]any) { delete(h, "kid") }), token.ErrUnknownKey},
		{"kid of another case", header(func(h map[string]any) { h["kid"] = strings.ToUpper(iss.Kid()) }), token.ErrUnknownKey},
		{"known kid, other key", tokentest.SignWithUnknownKey(person(nil), iss.Kid()), token.ErrSignature},
		{"embedded jwk and jku are ignored", tokentest.SignRS256(map[string]any{"alg": "RS256", "kid": iss.Kid(),
			"jku": "https://evil.example/jwks.json", "jwk": map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, person(nil), tokentest.StrangerKey()), token.ErrSignature},

		// Signature.
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 5), token.ErrSignature},
		{"truncated signature", parts[0] + "." + parts[1] + "." + func() string {
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			return base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1])
		}(), token.ErrSignature},
		{"tampered payload", tokentest.Tamper(signed, person(set("cognito:groups", []string{"Administrators"}))), token.ErrSignature},
		{"tampered header", b64(`{"alg":"RS256","kid":"`+iss.Kid()+`","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], token.ErrSignature},
		{"payload of another token", parts[0] + "." + strings.Split(iss.MachineToken(tokentest.ScopeInference), ".")[1] + "." + parts[2], token.ErrSignature},

		// Claims decoding (signed payloads).
		{"payload not JSON", iss.SignPayload([]byte("not json")), token.ErrMalformed},
		{"payload a JSON array", iss.SignPayload([]byte(`["iss"]`)), token.ErrMalformed},
		{"exp a string", iss.Sign(person(set("exp", "tomorrow"))), token.ErrMalformed},
		{"exp negative", iss.Sign(person(set("exp", -1))), token.ErrMalformed},
		{"exp beyond 2^40", iss.Sign(person(set("exp", 1e13))), token.ErrMalformed},
		{"iss a number", iss.Sign(person(set("iss", 7))), token.ErrMalformed},
		{"token_use a number", iss.Sign(person(set("token_use", 1))), token.ErrMalformed},
		{"token_use an array", iss.Sign(person(set("token_use", []string{"access"}))), token.ErrMalformed},
		{"client_id an array", iss.Sign(person(set("client_id", []string{tokentest.WebClientID}))), token.ErrMalformed},
		{"client_id a number", iss.Sign(person(set("client_id", 1))), token.ErrMalformed},
		{"groups a string", iss.Sign(person(set("cognito:groups", "Administrators"))), token.ErrMalformed},

		// iss.
		{"wrong issuer", iss.Sign(person(set("iss", "https://evil.example"))), token.ErrIssuer},
		{"no issuer", iss.Sign(person(del("iss"))), token.ErrIssuer},
		{"issuer with trailing slash", iss.Sign(person(set("iss", iss.URL+"/"))), token.ErrIssuer},
		{"issuer in upper case", iss.Sign(person(set("iss", strings.ToUpper(iss.URL)))), token.ErrIssuer},
		{"issuer over https instead of http", iss.Sign(person(set("iss", "https"+strings.TrimPrefix(iss.URL, "http")))), token.ErrIssuer},
		{"issuer of another pool", iss.Sign(person(set("iss", iss.URL+"/us-east-1_other"))), token.ErrIssuer},
		{"issuer with a space", iss.Sign(person(set("iss", iss.URL+" "))), token.ErrIssuer},

		// exp, nbf, iat (Leeway is 30 s).
		{"no exp", iss.Sign(person(del("exp"))), token.ErrExpired},
		{"exp null", iss.Sign(person(set("exp", nil))), token.ErrExpired},
		{"expired", iss.Sign(person(set("exp", now.Add(-time.Hour).Unix()))), token.ErrExpired},
		{"exp exactly the leeway ago", iss.Sign(person(set("exp", now.Add(-token.Leeway).Unix()))), token.ErrExpired},
		{"exp within the leeway", iss.Sign(person(set("exp", now.Add(-token.Leeway+time.Second).Unix()))), nil},
		{"nbf beyond the leeway", iss.Sign(person(set("nbf", now.Add(token.Leeway+time.Second).Unix()))), token.ErrNotYetValid},
		{"nbf far in the future", iss.Sign(person(set("nbf", now.Add(time.Hour).Unix()))), token.ErrNotYetValid},
		{"nbf at the leeway", iss.Sign(person(set("nbf", now.Add(token.Leeway).Unix()))), nil},
		{"nbf in the past", iss.Sign(person(set("nbf", now.Add(-time.Minute).Unix()))), nil},
		{"iat beyond the leeway", iss.Sign(person(set("iat", now.Add(token.Leeway+time.Second).Unix()))), token.ErrNotYetValid},
		{"iat far in the future", iss.Sign(person(set("iat", now.Add(time.Hour).Unix()))), token.ErrNotYetValid},
		{"iat at the leeway", iss.Sign(person(set("iat", now.Add(token.Leeway).Unix()))), nil},
		{"no iat", iss.Sign(person(del("iat"))), nil},

		// token_use (Cognito profile).
		{"no token_use", iss.Sign(person(del("token_use"))), token.ErrTokenUse},
		{"token_use empty", iss.Sign(person(set("token_use", ""))), token.ErrTokenUse},
		{"id token", iss.Sign(person(func(c tokentest.Claims) {
			c["token_use"] = "id"
			c["aud"] = tokentest.WebClientID
			delete(c, "client_id")
		})), token.ErrTokenUse},
		{"token_use id with a client_id", iss.Sign(person(set("token_use", "id"))), token.ErrTokenUse},
		{"token_use refresh", iss.Sign(person(set("token_use", "refresh"))), token.ErrTokenUse},
		{"token_use Access", iss.Sign(person(set("token_use", "Access"))), token.ErrTokenUse},
		{"token_use with a space", iss.Sign(person(set("token_use", "access "))), token.ErrTokenUse},

		// client_id (Cognito profile).
		{"wrong client_id", iss.Sign(person(set("client_id", "other-app"))), token.ErrClientID},
		{"no client_id", iss.Sign(person(del("client_id"))), token.ErrClientID},
		{"client_id empty", iss.Sign(person(set("client_id", ""))), token.ErrClientID},
		{"client_id of another case", iss.Sign(person(set("client_id", strings.ToUpper(tokentest.WebClientID)))), token.ErrClientID},
		{"client_id in aud only", iss.Sign(person(func(c tokentest.Claims) { c["aud"] = tokentest.WebClientID; delete(c, "client_id") })), token.ErrClientID},

		// sub and username (Cognito profile).
		{"person without sub", iss.Sign(person(del("sub"))), token.ErrSubject},
		{"person named like a machine account", iss.Sign(person(set("username", "client:portico-machine"))), token.ErrSubject},
		{"machine with other sub", iss.Sign(func() tokentest.Claims {
			c := iss.MachineClaims(tokentest.MachineClientID)
			c["sub"] = "someone"
			return c
		}()), token.ErrSubject},
		{"machine without sub", iss.Sign(func() tokentest.Claims {
			c := iss.MachineClaims(tokentest.MachineClientID)
			delete(c, "sub")
			return c
		}()), token.ErrSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := v.Verify(context.Background(), tt.token)
			if tt.want == nil {
				if err != nil || p == nil {
					t.Fatalf("Verify = %v, %v; want a principal", p, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || p != nil {
				t.Fatalf("Verify = %v, %v; want %v", p, err, tt.want)
			}
			for _, other := range sentinels {
				if other != tt.want && errors.Is(err, other) {
					t.Fatalf("Verify = %v: wraps %v besides %v", err, other, tt.want)
				}
			}
		})
	}
}

// sentinels are the reasons Verify gives; each refusal wraps exactly one of them.
var sentinels = []error{
	token.ErrMissing, token.ErrMalformed, token.ErrAlgorithm, token.ErrUnknownKey, token.ErrSignature,
	token.ErrIssuer, token.ErrExpired, token.ErrNotYetValid, token.ErrTokenUse, token.ErrClientID,
	token.ErrAudience, token.ErrSubject, token.ErrKeySet,
}

// TestVerifyEmptyClientID checks that a token without client_id is refused even when the
// configured list holds an empty id (a stray comma in configuration).
func TestVerifyEmptyClientID(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{"", tokentest.WebClientID}})
	c := iss.PersonClaims("alice", tokentest.WebClientID)
	delete(c, "client_id")
	if _, err := v.Verify(context.Background(), iss.Sign(c)); !errors.Is(err, token.ErrClientID) {
		t.Fatalf("err = %v, want ErrClientID", err)
	}
	m := iss.MachineClaims("")
	if _, err := v.Verify(context.Background(), iss.Sign(m)); !errors.Is(err, token.ErrClientID) {
		t.Fatalf("machine token of client \"\": err = %v, want ErrClientID", err)
	}
}

func TestVerifyPrincipal(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := newVerifier(t, iss)
	c := iss.PersonClaims("dana", tokentest.WebClientID, "MLUsers", "Administrators", "MLUsers")
	c["email"] = "dana@example.com"
	c["custom:department"] = "Platform"
	p, err := v.Verify(context.Background(), iss.Sign(c))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != principal.KindPerson || p.Username != "dana" || p.Subject != "sub-dana" ||
		p.ClientID != tokentest.WebClientID || p.Email != "dana@example.com" || p.Department != "Platform" {
		t.Errorf("principal = %+v", p)
	}
	if !p.InGroup("Administrators") || !p.InGroup("MLUsers") || len(p.Groups) != 2 {
		t.Errorf("groups = %v, want sorted and deduplicated", p.Groups)
	}
	if !p.HasScope("openid") || p.ExpiresAt.IsZero() {
		t.Errorf("scopes = %v, expires = %v", p.Scopes, p.ExpiresAt)
	}

	mc := iss.MachineClaims(tokentest.MachineClientID, tokentest.ScopeInference, tokentest.ScopeIdentity)
	mc["cognito:groups"] = []string{"Administrators"}
	m, err := v.Verify(context.Background(), iss.Sign(mc))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != principal.KindMachine || m.Username != tokentest.MachineClientID || len(m.Groups) != 0 {
		t.Errorf("machine principal = %+v; groups must be ignored", m)
	}
	if !m.HasScope(tokentest.ScopeInference) || !m.HasScope(tokentest.ScopeIdentity) {
		t.Errorf("machine scopes = %v", m.Scopes)
	}
}

func TestVerifyCachedResultExpires(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now))
	c := iss.PersonClaims("alice", tokentest.WebClientID)
	c["exp"] = clock.Now().Add(time.Minute).Unix()
	raw := iss.Sign(c)
	p1, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := v.Verify(context.Background(), raw)
	if err != nil || p2 != p1 {
		t.Fatalf("second Verify = %p, %v; want the cached %p", p2, err, p1)
	}
	clock.Advance(2 * time.Minute)
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("Verify after exp = %v, want ErrExpired (cache must not outlive exp)", err)
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := newVerifier(t, iss, token.WithCacheSize(8))
	for i := range 40 {
		c := iss.PersonClaims("alice", tokentest.WebClientID)
		c["jti"] = fmt.Sprint(i)
		if _, err := v.Verify(context.Background(), iss.Sign(c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := token.CacheLen(v); n > 8 {
		t.Fatalf("cache holds %d entries, want at most 8", n)
	}
}

// nonCanonical returns raw with the last character of its signature changed in its unused
// low bits: lenient base64 decodes it to the same signature, so the same token would have
// several spellings (and cache entries).
func nonCanonical(raw string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(raw[strings.LastIndexByte(raw, '.')+1:])%4 == 0 {
		panic("signature has no unused bits")
	}
	last := strings.IndexByte(alphabet, raw[len(raw)-1])
	return raw[:len(raw)-1] + string(alphabet[last^1])
}
