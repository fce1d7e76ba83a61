package devidp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// present and absent are sentinels of the claim table.
var (
	present = struct{ present bool }{true}
	absent  = struct{ absent bool }{true}
)

func TestCognitoShapedClaims(t *testing.T) {
	t.Parallel()
	clk := newClock()
	idp := devidptest.Start(t, devidp.WithClock(clk.Now),
		devidp.WithAccessTokenTTL(5*time.Minute), devidp.WithIDTokenTTL(7*time.Minute))
	iss := idp.Issuer()
	now := float64(clk.Now().Unix())
	kid, _ := idp.SigningKey()

	alice := idp.SignIn(t, "alice", "n-alice")
	dana := idp.SignIn(t, "dana", "n-dana")
	bob := idp.SignIn(t, "bob", "")
	machine := idp.MachineToken(t)
	aliceUser, _ := idp.Server().User("alice")
	bobUser, _ := idp.Server().User("bob")

	aliceAccess, aliceID := claimsOf(t, alice.AccessToken), claimsOf(t, alice.IDToken)
	tokens := map[string]map[string]any{
		"alice access": aliceAccess,
		"alice id":     aliceID,
		"dana access":  claimsOf(t, dana.AccessToken),
		"dana id":      claimsOf(t, dana.IDToken),
		"bob access":   claimsOf(t, bob.AccessToken),
		"bob id":       claimsOf(t, bob.IDToken),
		"machine":      claimsOf(t, machine),
	}
	tests := []struct {
		token string
		claim string
		want  any
	}{
		{"alice access", "sub", aliceUser.Subject},
		{"alice access", "iss", iss},
		{"alice access", "client_id", "portico-web"},
		{"alice access", "token_use", "access"},
		{"alice access", "scope", "openid email profile"},
		{"alice access", "cognito:groups", []any{"MLUsers"}},
		{"alice access", "username", "alice"},
		{"alice access", "auth_time", now},
		{"alice access", "iat", now},
		{"alice access", "exp", now + 300},
		{"alice access", "jti", present},
		{"alice access", "origin_jti", aliceID["origin_jti"]},
		{"alice access", "aud", absent},
		{"alice access", "nonce", absent},
		{"alice access", "email", absent},
		{"dana access", "cognito:groups", []any{"Administrators", "MLUsers"}},
		{"dana access", "username", "dana"},
		{"bob access", "cognito:groups", absent},
		{"bob access", "username", "bob"},

		{"alice id", "sub", aliceUser.Subject},
		{"alice id", "iss", iss},
		{"alice id", "aud", "portico-web"},
		{"alice id", "token_use", "id"},
		{"alice id", "nonce", "n-alice"},
		{"alice id", "email", "alice@example.com"},
		{"alice id", "email_verified", true},
		{"alice id", "cognito:username", "alice"},
		{"alice id", "cognito:groups", []any{"MLUsers"}},
		{"alice id", "name", "Alice Martin"},
		{"alice id", "given_name", "Alice"},
		{"alice id", "family_name", "Martin"},
		{"alice id", "custom:department", "Research"},
		{"alice id", "auth_time", now},
		{"alice id", "iat", now},
		{"alice id", "exp", now + 420},
		{"alice id", "jti", present},
		{"alice id", "origin_jti", aliceAccess["origin_jti"]},
		{"alice id", "at_hash", present},
		{"alice id", "client_id", absent},
		{"alice id", "scope", absent},
		{"dana id", "cognito:groups", []any{"Administrators", "MLUsers"}},
		{"dana id", "name", "Dana Kim"},
		{"dana id", "custom:department", "Platform"},
		{"dana id", "email", "dana@example.com"},
		{"bob id", "cognito:groups", absent},
		{"bob id", "nonce", absent},
		{"bob id", "sub", bobUser.Subject},
		{"bob id", "name", "Bob Stone"},
		{"bob id", "custom:department", "Sales"},

		{"machine", "sub", "portico-machine"},
		{"machine", "client_id", "portico-machine"},
		{"machine", "iss", iss},
		{"machine", "token_use", "access"},
		{"machine", "scope", "portico/inference portico/identity"},
		{"machine", "exp", now + 300},
		{"machine", "iat", now},
		{"machine", "jti", present},
		{"machine", "username", absent},
		{"machine", "cognito:groups", absent},
		{"machine", "aud", absent},
	}
	for _, tt := range tests {
		t.Run(tt.token+"/"+tt.claim, func(t *testing.T) {
			t.Parallel()
			got, ok := tokens[tt.token][tt.claim]
			switch tt.want {
			case present:
				if !ok || got == "" {
					t.Errorf("%s missing", tt.claim)
				}
			case absent:
				if ok {
					t.Errorf("%s = %v, want absent", tt.claim, got)
				}
			default:
				if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", tt.want) {
					t.Errorf("%s = %#v, want %#v", tt.claim, got, tt.want)
				}
			}
		})
	}

	t.Run("headers", func(t *testing.T) {
		t.Parallel()
		for name, tok := range map[string]string{"access": alice.AccessToken, "id": alice.IDToken, "machine": machine} {
			h := headerOf(t, tok)
			if h["alg"] != "RS256" || h["kid"] != kid {
				t.Errorf("%s header = %v, want RS256 with kid %s", name, h, kid)
			}
		}
	})
	t.Run("sizes", func(t *testing.T) {
		t.Parallel()
		if n := len(alice.RefreshToken); n < 1700 || n > 1900 {
			t.Errorf("refresh token is %d bytes, want about 1.8 KB", n)
		}
		if n := strings.Count(alice.RefreshToken, "."); n != 4 {
			t.Errorf("refresh token has %d dots, want a compact JWE (4)", n)
		}
		if alice.ExpiresIn != 300 || alice.TokenType != "Bearer" {
			t.Errorf("expires_in=%d token_type=%q", alice.ExpiresIn, alice.TokenType)
		}
	})
	t.Run("jti unique", func(t *testing.T) {
		t.Parallel()
		if aliceAccess["jti"] == aliceID["jti"] || aliceAccess["origin_jti"] == claimsOf(t, dana.AccessToken)["origin_jti"] {
			t.Error("jti or origin_jti reused")
		}
	})
}

// TestInteroperability signs in through golang.org/x/oauth2 and verifies with go-oidc, the
// libraries the BFF and the services are built on.
func TestInteroperability(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	ctx := oidc.ClientContext(context.Background(), idp.HTTPClient())
	provider, err := oidc.NewProvider(ctx, idp.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: devidp.WebClientID, ClientSecret: devidp.WebClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: devidp.DefaultRedirectURI,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce"))
	loc := devidptest.Login(t, idp.HTTPClient(), authURL, "dana", devidp.DevPassword)
	if got := loc.Query().Get("state"); got != "st4te" {
		t.Fatalf("state = %q", got)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idTok, err := provider.Verifier(&oidc.Config{ClientID: devidp.WebClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idTok.Nonce != "n0nce" {
		t.Errorf("nonce = %q", idTok.Nonce)
	}
	if err := idTok.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	// Access tokens have no aud: verify them as Portico's services do, without a client id check.
	if _, err := provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, tok.AccessToken); err != nil {
		t.Errorf("verify access token: %v", err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: devidp.WebClientID}).Verify(ctx, tok.AccessToken); err == nil {
		t.Error("access token passed an audience check; it must have no aud")
	}
	info, err := provider.UserInfo(ctx, conf.TokenSource(ctx, tok))
	if err != nil {
		t.Fatalf("userInfo: %v", err)
	}
	if info.Email != "dana@example.com" || !info.EmailVerified {
		t.Errorf("userInfo = %+v", info)
	}
	// Refresh through the library: a new access token, the same refresh token.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Error("refresh did not give a new access token with the same refresh token")
	}
}
