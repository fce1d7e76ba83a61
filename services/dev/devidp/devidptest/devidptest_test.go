package devidptest_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

func TestSetDown(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	for _, path := range []string{"/healthz", "/.well-known/jwks.json", "/oauth2/token"} {
		idp.SetDown(true)
		resp, err := idp.HTTPClient().Get(idp.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("down: GET %s = %d, want 503", path, resp.StatusCode)
		}
	}
	idp.SetDown(false)
	resp, err := idp.HTTPClient().Get(idp.Issuer() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("up again: %d", resp.StatusCode)
	}
}

func TestSignClaimsUsesCurrentKey(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	idp.RotateKeys()
	kid, key := idp.SigningKey()
	tok := idp.SignClaims(t, map[string]any{"sub": "x", "aud": "anything"})
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if jws.Signatures[0].Header.KeyID != kid {
		t.Errorf("kid %s, want %s", jws.Signatures[0].Header.KeyID, kid)
	}
	payload, err := jws.Verify(&key.PublicKey)
	if err != nil || !strings.Contains(string(payload), `"aud":"anything"`) {
		t.Errorf("payload %s err %v", payload, err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithRedirectURIs("http://bff.test/auth/callback"))
	_, challenge := devidptest.NewPKCE()
	authURL := idp.AuthorizeURL(url.Values{"code_challenge": {challenge}, "state": {"s1"}})

	loc := devidptest.Login(t, idp.HTTPClient(), authURL, "bob", devidp.DevPassword)
	if loc.Host != "bff.test" || loc.Path != "/auth/callback" || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Errorf("redirect %s", loc)
	}
	if _, err := devidptest.TryLogin(t.Context(), idp.HTTPClient(), authURL, "bob", "wrong"); !errors.Is(err, devidptest.ErrSignInRefused) {
		t.Errorf("wrong password: %v", err)
	}
	// An authorization request the provider refuses comes back as the error redirect.
	loc, err := devidptest.TryLogin(t.Context(), idp.HTTPClient(), idp.AuthorizeURL(nil), "bob", devidp.DevPassword)
	if err != nil || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("no PKCE: %v %v", loc, err)
	}
}

func TestTokenHelpers(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	if idp.AccessToken(t, "alice") == "" || idp.IDToken(t, "dana", "n") == "" || idp.MachineToken(t, devidp.ScopeIdentity) == "" {
		t.Fatal("empty token")
	}
	if !strings.HasPrefix(idp.Issuer(), "http://127.0.0.1:") {
		t.Errorf("issuer %s", idp.Issuer())
	}
}

func TestSetRedirectURIsAfterStart(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	idp.Server().SetRedirectURIs("http://late.test/cb")
	_, challenge := devidptest.NewPKCE()
	loc := devidptest.Login(t, idp.HTTPClient(), idp.AuthorizeURL(url.Values{"code_challenge": {challenge}}), "alice", devidp.DevPassword)
	if loc.Host != "late.test" || loc.Query().Get("code") == "" {
		t.Errorf("redirect %s", loc)
	}
	resp, err := idp.HTTPClient().Get(idp.AuthorizeURL(url.Values{"code_challenge": {challenge}, "redirect_uri": {devidp.DefaultRedirectURI}}))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replaced redirect URI: %d, want 400", resp.StatusCode)
	}
}
