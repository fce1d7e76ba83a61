package devidp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

func jwks(t *testing.T, client *http.Client, issuer string) jose.JSONWebKeySet {
	t.Helper()
	r := get(t, client, issuer+"/.well-known/jwks.json", nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.Algorithm != "RS256" || k.Use != "sig" || k.KeyID == "" {
			t.Fatalf("jwks key %q: public=%v alg=%s use=%s", k.KeyID, k.IsPublic(), k.Algorithm, k.Use)
		}
	}
	return set
}

// verifies reports whether the JWKS verifies token.
func verifies(t *testing.T, set jose.JSONWebKeySet, token string) bool {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return false
	}
	_, err = jws.Verify(keys[0])
	return err == nil
}

func TestKeysPersistAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "idp")
	issuer := "http://idp.test"
	first, err := devidp.New(devidp.WithDataDir(dir), devidp.WithIssuer(issuer))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(first)
	// Sign in through the first server.
	idp1Tokens := signInDirect(t, ts, "alice")
	ts.Close()
	for _, name := range []string{"keys.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	second, err := devidp.New(devidp.WithDataDir(dir), devidp.WithIssuer(issuer))
	if err != nil {
		t.Fatal(err)
	}
	kid1, _ := first.SigningKey()
	kid2, _ := second.SigningKey()
	if kid1 != kid2 {
		t.Fatalf("kid changed across restart: %s → %s", kid1, kid2)
	}
	ts2 := httptest.NewServer(second)
	defer ts2.Close()
	if !verifies(t, jwks(t, ts2.Client(), ts2.URL), idp1Tokens.AccessToken) {
		t.Error("the restarted server's JWKS does not verify tokens from before the restart")
	}
	r := postForm(t, ts2.Client(), ts2.URL+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {idp1Tokens.RefreshToken}})
	if r.status != http.StatusOK {
		t.Fatalf("refresh after restart: %d %s", r.status, r.body)
	}
	// A revocation survives a restart too.
	if r := postForm(t, ts2.Client(), ts2.URL+"/oauth2/revoke", devidp.WebClientID, devidp.WebClientSecret,
		url.Values{"token": {idp1Tokens.RefreshToken}}); r.status != http.StatusOK {
		t.Fatalf("revoke: %d", r.status)
	}
	third, err := devidp.New(devidp.WithDataDir(dir), devidp.WithIssuer(issuer))
	if err != nil {
		t.Fatal(err)
	}
	ts3 := httptest.NewServer(third)
	defer ts3.Close()
	r = postForm(t, ts3.Client(), ts3.URL+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {idp1Tokens.RefreshToken}})
	if r.json["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token works after restart: %d", r.status)
	}

	// A corrupt key file is a clear error, not a silent new key.
	if err := os.WriteFile(filepath.Join(dir, "keys.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devidp.New(devidp.WithDataDir(dir)); err == nil {
		t.Error("New accepted a corrupt keys.json")
	}
}

// signInDirect runs the code flow against a bare server (whose issuer is not its URL).
func signInDirect(t *testing.T, ts *httptest.Server, username string) *devidptest.Tokens {
	t.Helper()
	verifier, challenge := devidptest.NewPKCE()
	authURL := ts.URL + "/oauth2/authorize?" + url.Values{
		"client_id": {devidp.WebClientID}, "response_type": {"code"}, "scope": {"openid email profile"},
		"redirect_uri": {devidp.DefaultRedirectURI}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()
	loc := devidptest.Login(t, ts.Client(), authURL, username, devidp.DevPassword)
	r := postForm(t, ts.Client(), ts.URL+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {devidp.DefaultRedirectURI}, "code_verifier": {verifier},
	})
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok devidptest.Tokens
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil {
		t.Fatal(err)
	}
	return &tok
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	clk := newClock()
	idp := devidptest.Start(t, devidp.WithClock(clk.Now), devidp.WithKeyGracePeriod(time.Hour))
	client := idp.HTTPClient()
	old := idp.AccessToken(t, "alice")
	oldKid := headerOf(t, old)["kid"]

	idp.RotateKeys()
	fresh := idp.AccessToken(t, "alice")
	if headerOf(t, fresh)["kid"] == oldKid {
		t.Fatal("tokens after rotation still use the old kid")
	}
	set := jwks(t, client, idp.Issuer())
	if len(set.Keys) != 2 || !verifies(t, set, old) || !verifies(t, set, fresh) {
		t.Fatalf("during the grace period the JWKS has %d keys and must verify old and new tokens", len(set.Keys))
	}
	if set.Keys[0].KeyID != headerOf(t, fresh)["kid"] {
		t.Error("the current key is not listed first")
	}

	// The dev endpoint rotates too; after the grace period the first key is gone.
	clk.Advance(time.Hour)
	r := postForm(t, client, idp.Issuer()+"/dev/rotate-keys", "", "", url.Values{})
	if r.status != http.StatusOK || r.json["kid"] == nil {
		t.Fatalf("POST /dev/rotate-keys: %d %s", r.status, r.body)
	}
	set = jwks(t, client, idp.Issuer())
	if len(set.Keys) != 2 || verifies(t, set, old) || !verifies(t, set, fresh) {
		t.Errorf("after the grace period: %d keys, old verifies %v", len(set.Keys), verifies(t, set, old))
	}
	if r.json["kid"] != set.Keys[0].KeyID {
		t.Error("rotate-keys did not report the new current kid")
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	r := get(t, idp.HTTPClient(), idp.Issuer()+"/.well-known/openid-configuration", nil)
	iss := idp.Issuer()
	want := map[string]any{
		"issuer":                 iss,
		"authorization_endpoint": iss + "/oauth2/authorize",
		"token_endpoint":         iss + "/oauth2/token",
		"userinfo_endpoint":      iss + "/oauth2/userInfo",
		"revocation_endpoint":    iss + "/oauth2/revoke",
		"jwks_uri":               iss + "/.well-known/jwks.json",
	}
	for k, v := range want {
		if r.json[k] != v {
			t.Errorf("%s = %v, want %v", k, r.json[k], v)
		}
	}
	if h := get(t, idp.HTTPClient(), iss+"/healthz", nil); h.status != 200 || h.body != "ok" {
		t.Errorf("healthz: %d %q", h.status, h.body)
	}
}
