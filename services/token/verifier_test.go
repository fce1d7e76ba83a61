package token_test

import (
	"context"
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

func TestVerify(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := newVerifier(t, iss)
	now := time.Now()
	person := func(mut func(tokentest.Claims)) tokentest.Claims {
		c := iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")
		if mut != nil {
			mut(c)
		}
		return c
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid person", iss.Sign(person(nil)), nil},
		{"valid machine", iss.MachineToken(tokentest.ScopeInference), nil},
		{"empty", "", token.ErrMissing},
		{"garbage", "not-a-token", token.ErrMalformed},
		{"four parts", "a.b.c.d", token.ErrMalformed},
		{"bad base64 header", "!!.e30.c2ln", token.ErrMalformed},
		{"huge", string(make([]byte, token.MaxTokenSize+1)), token.ErrMalformed},
		{"payload not json", tokentest.Tamper(iss.Sign(person(nil)), nil)[:10] + ".bm90IGpzb24.c2ln", token.ErrMalformed},
		{"expired", iss.Sign(person(func(c tokentest.Claims) { c["exp"] = now.Add(-time.Minute).Unix() })), token.ErrExpired},
		{"expired within leeway", iss.Sign(person(func(c tokentest.Claims) { c["exp"] = now.Add(-10 * time.Second).Unix() })), nil},
		{"no exp", iss.Sign(person(func(c tokentest.Claims) { delete(c, "exp") })), token.ErrExpired},
		{"not yet valid nbf", iss.Sign(person(func(c tokentest.Claims) { c["nbf"] = now.Add(time.Minute).Unix() })), token.ErrNotYetValid},
		{"issued in the future", iss.Sign(person(func(c tokentest.Claims) { c["iat"] = now.Add(time.Minute).Unix() })), token.ErrNotYetValid},
		{"nbf within leeway", iss.Sign(person(func(c tokentest.Claims) { c["nbf"] = now.Add(10 * time.Second).Unix() })), nil},
		{"wrong issuer", iss.Sign(person(func(c tokentest.Claims) { c["iss"] = "https://evil.example" })), token.ErrIssuer},
		{"issuer with trailing slash", iss.Sign(person(func(c tokentest.Claims) { c["iss"] = iss.URL + "/" })), token.ErrIssuer},
		{"wrong client_id", iss.Sign(person(func(c tokentest.Claims) { c["client_id"] = "other-app" })), token.ErrClientID},
		{"no client_id", iss.Sign(person(func(c tokentest.Claims) { delete(c, "client_id") })), token.ErrClientID},
		{"id token", iss.Sign(person(func(c tokentest.Claims) {
			c["token_use"] = "id"
			c["aud"] = tokentest.WebClientID
			delete(c, "client_id")
		})), token.ErrTokenUse},
		{"alg none", iss.Unsigned(person(nil)), token.ErrAlgorithm},
		{"hs256 with public key", iss.HS256WithPublicKey(person(nil)), token.ErrAlgorithm},
		{"unknown kid", tokentest.SignWithUnknownKey(person(nil), "stranger"), token.ErrUnknownKey},
		{"known kid, other key", tokentest.SignWithUnknownKey(person(nil), iss.Kid()), token.ErrSignature},
		{"tampered payload", tokentest.Tamper(iss.Sign(person(nil)), person(func(c tokentest.Claims) { c["cognito:groups"] = []string{"Administrators"} })), token.ErrSignature},
		{"signature in a non-canonical encoding", nonCanonical(iss.Sign(person(nil))), token.ErrMalformed},
		{"line break in the signature", func() string { s := iss.Sign(person(nil)); return s[:len(s)-4] + "\n" + s[len(s)-4:] }(), token.ErrMalformed},
		{"person named like a machine account", iss.Sign(person(func(c tokentest.Claims) { c["username"] = "client:portico-machine" })), token.ErrSubject},
		{"machine with other sub", iss.Sign(func() tokentest.Claims {
			c := iss.MachineClaims(tokentest.MachineClientID)
			c["sub"] = "someone"
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
		})
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
