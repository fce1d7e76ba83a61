package devidp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// codeFor signs alice in with a fresh PKCE pair and returns the code and its verifier.
func codeFor(t *testing.T, idp *devidptest.IdP, params url.Values) (code, verifier string) {
	t.Helper()
	verifier, challenge := devidptest.NewPKCE()
	if params == nil {
		params = url.Values{}
	}
	if !params.Has("code_challenge") {
		params.Set("code_challenge", challenge)
	}
	loc := devidptest.Login(t, idp.HTTPClient(), idp.AuthorizeURL(params), "alice", devidp.DevPassword)
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code, verifier
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	_, challenge := devidptest.NewPKCE()
	tests := []struct {
		name      string
		params    url.Values
		status    int    // when the provider must answer itself, without redirecting
		wantError string // the error sent back to the redirect URI
	}{
		{"unknown client", url.Values{"client_id": {"evil"}}, http.StatusBadRequest, ""},
		{"unregistered redirect_uri", url.Values{"redirect_uri": {"https://evil.example/cb"}}, http.StatusBadRequest, ""},
		{"missing redirect_uri", url.Values{"redirect_uri": {""}}, http.StatusBadRequest, ""},
		{"redirect_uri prefix trick", url.Values{"redirect_uri": {devidp.DefaultRedirectURI + "/../x"}}, http.StatusBadRequest, ""},
		{"machine client", url.Values{"client_id": {devidp.MachineClientID}}, http.StatusBadRequest, ""},
		{"token response type", url.Values{"response_type": {"token"}, "code_challenge": {challenge}}, 0, "unsupported_response_type"},
		{"no PKCE", url.Values{}, 0, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}, 0, "invalid_request"},
		{"short challenge", url.Values{"code_challenge": {"abc"}}, 0, "invalid_request"},
		{"resource scope", url.Values{"code_challenge": {challenge}, "scope": {"openid portico/inference"}}, 0, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := get(t, idp.HTTPClient(), idp.AuthorizeURL(tt.params), nil)
			if tt.status != 0 {
				if r.status != tt.status || r.header.Get("Location") != "" {
					t.Fatalf("status %d, Location %q; want %d without redirect", r.status, r.header.Get("Location"), tt.status)
				}
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || err != nil {
				t.Fatalf("status %d, want a redirect", r.status)
			}
			if got := loc.Query().Get("error"); got != tt.wantError || loc.Query().Get("state") != "state" {
				t.Errorf("redirect %s: want error=%s with state", loc, tt.wantError)
			}
			if !strings.HasPrefix(loc.String(), devidp.DefaultRedirectURI+"?") {
				t.Errorf("redirected to %s", loc)
			}
		})
	}
}

func TestLoginForm(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	_, challenge := devidptest.NewPKCE()
	authURL := idp.AuthorizeURL(url.Values{"code_challenge": {challenge}})

	page := get(t, idp.HTTPClient(), authURL, nil)
	csp := page.header.Get("Content-Security-Policy")
	if page.status != http.StatusOK || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") ||
		strings.Contains(page.body, "<script") || strings.Contains(page.body, "https://") {
		t.Errorf("login page: status %d, CSP %q; want self-contained HTML without script", page.status, csp)
	}
	for _, field := range []string{`name="username"`, `name="password"`, `method="post"`} {
		if !strings.Contains(page.body, field) {
			t.Errorf("login page lacks %s", field)
		}
	}

	if !strings.Contains(page.body, "<code>dana</code>") {
		t.Error("the login page does not list the embedded dev users")
	}
	custom := devidptest.Start(t, devidp.WithUsers([]devidp.User{{Username: "eve", Password: "pw", Subject: "e"}}))
	if p := get(t, custom.HTTPClient(), custom.AuthorizeURL(url.Values{"code_challenge": {challenge}}), nil); p.status != http.StatusOK || strings.Contains(p.body, "<code>eve</code>") {
		t.Errorf("a users file's names are listed on the login page (status %d)", p.status)
	}

	// A wrong password and an unknown user get the same answer: the form and one message.
	for _, tc := range []struct{ user, pass string }{{"alice", "wrong"}, {"mallory", devidp.DevPassword}, {"", ""}} {
		_, err := devidptest.TryLogin(t.Context(), idp.HTTPClient(), authURL, tc.user, tc.pass)
		if !errors.Is(err, devidptest.ErrSignInRefused) {
			t.Errorf("%s/%s: err = %v, want ErrSignInRefused", tc.user, tc.pass, err)
		}
	}
	r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/login", "", "", url.Values{"request": {"nope"}, "username": {"alice"}, "password": {devidp.DevPassword}})
	if r.status != http.StatusBadRequest {
		t.Errorf("unknown login request: status %d, want 400", r.status)
	}
	wrong := func(user string) string {
		page := get(t, idp.HTTPClient(), authURL, nil)
		id := between(page.body, `name="request" value="`, `"`)
		r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/login", "", "", url.Values{"request": {id}, "username": {user}, "password": {"x"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, "Incorrect username or password.") {
			t.Fatalf("wrong password for %q: status %d", user, r.status)
		}
		return strings.ReplaceAll(strings.ReplaceAll(r.body, id, ""), `value="`+user+`"`, "")
	}
	if wrong("alice") != wrong("mallory") {
		t.Error("a wrong password for a known and an unknown user answer differently")
	}
	// Each login form can be used once.
	page = get(t, idp.HTTPClient(), authURL, nil)
	form := url.Values{"request": {between(page.body, `name="request" value="`, `"`)}, "username": {"bob"}, "password": {devidp.DevPassword}}
	if r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/login", "", "", form); r.status != http.StatusFound {
		t.Fatalf("sign-in: status %d", r.status)
	}
	if r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/login", "", "", form); r.status != http.StatusBadRequest {
		t.Errorf("second use of a login form: status %d, want 400", r.status)
	}
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	tokenURL := idp.Issuer() + "/oauth2/token"
	redirect := devidp.DefaultRedirectURI
	codeGrant := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	}
	type call struct {
		id, secret string
		form       url.Values
	}
	tests := []struct {
		name       string
		call       func(t *testing.T) call
		wantStatus int
		wantError  string
	}{
		{"wrong client secret", func(t *testing.T) call {
			code, v := codeFor(t, idp, nil)
			return call{devidp.WebClientID, "nope", codeGrant(code, v)}
		}, 401, "invalid_client"},
		{"unknown client", func(t *testing.T) call {
			return call{"evil", "x", url.Values{"grant_type": {"client_credentials"}}}
		}, 401, "invalid_client"},
		{"no client authentication", func(t *testing.T) call {
			return call{"", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {devidp.MachineClientID}}}
		}, 401, "invalid_client"},
		{"wrong code_verifier", func(t *testing.T) call {
			code, _ := codeFor(t, idp, nil)
			other, _ := devidptest.NewPKCE()
			return call{devidp.WebClientID, devidp.WebClientSecret, codeGrant(code, other)}
		}, 400, "invalid_grant"},
		{"missing code_verifier", func(t *testing.T) call {
			code, _ := codeFor(t, idp, nil)
			return call{devidp.WebClientID, devidp.WebClientSecret, codeGrant(code, "")}
		}, 400, "invalid_request"},
		{"code_verifier outside RFC 7636's characters", func(t *testing.T) call {
			bad := strings.Repeat("a b+c/", 8) // 48 bytes, with a space, + and /
			sum := sha256.Sum256([]byte(bad))
			code, _ := codeFor(t, idp, url.Values{"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}})
			return call{devidp.WebClientID, devidp.WebClientSecret, codeGrant(code, bad)}
		}, 400, "invalid_grant"},
		{"wrong redirect_uri", func(t *testing.T) call {
			code, v := codeFor(t, idp, nil)
			f := codeGrant(code, v)
			f.Set("redirect_uri", "http://localhost:8080/other")
			return call{devidp.WebClientID, devidp.WebClientSecret, f}
		}, 400, "invalid_grant"},
		{"unknown code", func(t *testing.T) call {
			_, v := devidptest.NewPKCE()
			return call{devidp.WebClientID, devidp.WebClientSecret, codeGrant("made-up", v)}
		}, 400, "invalid_grant"},
		{"machine client redeeming a code", func(t *testing.T) call {
			code, v := codeFor(t, idp, nil)
			return call{devidp.MachineClientID, devidp.MachineClientSecret, codeGrant(code, v)}
		}, 400, "unauthorized_client"},
		{"web client using client credentials", func(t *testing.T) call {
			return call{devidp.WebClientID, devidp.WebClientSecret, url.Values{"grant_type": {"client_credentials"}}}
		}, 400, "unauthorized_client"},
		{"machine scope not allowed", func(t *testing.T) call {
			return call{devidp.MachineClientID, devidp.MachineClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}}
		}, 400, "invalid_scope"},
		{"unsupported grant", func(t *testing.T) call {
			return call{devidp.WebClientID, devidp.WebClientSecret, url.Values{"grant_type": {"password"}}}
		}, 400, "unsupported_grant_type"},
		{"missing grant", func(t *testing.T) call {
			return call{devidp.WebClientID, devidp.WebClientSecret, url.Values{}}
		}, 400, "invalid_request"},
		{"garbage refresh token", func(t *testing.T) call {
			return call{devidp.WebClientID, devidp.WebClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y.z.w.v"}}}
		}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.call(t)
			r := postForm(t, idp.HTTPClient(), tokenURL, c.id, c.secret, c.form)
			if r.status != tt.wantStatus || r.json["error"] != tt.wantError {
				t.Errorf("status %d error %v, want %d %s (%s)", r.status, r.json["error"], tt.wantStatus, tt.wantError, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("error response is cacheable")
			}
			if tt.wantStatus == 401 && c.id != "" && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Error("401 without WWW-Authenticate: Basic")
			}
		})
	}
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	tokenURL := idp.Issuer() + "/oauth2/token"

	t.Run("client_secret_post", func(t *testing.T) {
		t.Parallel()
		code, v := codeFor(t, idp, nil)
		r := postForm(t, idp.HTTPClient(), tokenURL, "", "", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {devidp.DefaultRedirectURI},
			"code_verifier": {v}, "client_id": {devidp.WebClientID}, "client_secret": {devidp.WebClientSecret},
		})
		if r.status != http.StatusOK || r.json["access_token"] == nil || r.json["id_token"] == nil || r.json["refresh_token"] == nil {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	t.Run("replayed code revokes its tokens", func(t *testing.T) {
		t.Parallel()
		code, v := codeFor(t, idp, nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {devidp.DefaultRedirectURI}, "code_verifier": {v}}
		first := postForm(t, idp.HTTPClient(), tokenURL, devidp.WebClientID, devidp.WebClientSecret, form)
		if first.status != http.StatusOK {
			t.Fatalf("first redemption: %d %s", first.status, first.body)
		}
		second := postForm(t, idp.HTTPClient(), tokenURL, devidp.WebClientID, devidp.WebClientSecret, form)
		if second.status != http.StatusBadRequest || second.json["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %s", second.status, second.body)
		}
		refresh := postForm(t, idp.HTTPClient(), tokenURL, devidp.WebClientID, devidp.WebClientSecret,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.json["refresh_token"].(string)}})
		if refresh.json["error"] != "invalid_grant" {
			t.Errorf("refresh token of a replayed code still works: %d", refresh.status)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		idp := devidptest.Start(t, devidp.WithClock(clk.Now))
		code, v := codeFor(t, idp, nil)
		clk.Advance(6 * time.Minute)
		r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret,
			url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {devidp.DefaultRedirectURI}, "code_verifier": {v}})
		if r.json["error"] != "invalid_grant" {
			t.Errorf("expired code: %d %s", r.status, r.body)
		}
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	clk := newClock()
	idp := devidptest.Start(t, devidp.WithClock(clk.Now), devidp.WithRefreshTokenTTL(time.Hour))
	first := idp.SignIn(t, "dana", "n1")
	clk.Advance(10 * time.Minute)

	next := idp.Refresh(t, first.RefreshToken)
	a0, a1 := claimsOf(t, first.AccessToken), claimsOf(t, next.AccessToken)
	id1 := claimsOf(t, next.IDToken)
	if next.RefreshToken != "" {
		t.Error("refresh returned a new refresh token; Cognito without rotation does not")
	}
	if a1["origin_jti"] != a0["origin_jti"] || a1["auth_time"] != a0["auth_time"] || a1["jti"] == a0["jti"] {
		t.Errorf("refreshed access token: origin_jti %v/%v auth_time %v/%v", a1["origin_jti"], a0["origin_jti"], a1["auth_time"], a0["auth_time"])
	}
	if a1["iat"].(float64) != float64(clk.Now().Unix()) || a1["username"] != "dana" {
		t.Errorf("refreshed access token claims: %v", a1)
	}
	if _, ok := id1["nonce"]; ok || id1["aud"] != devidp.WebClientID || id1["token_use"] != "id" {
		t.Errorf("refreshed ID token claims: %v", id1)
	}

	// Another client cannot redeem it.
	r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.MachineClientID, devidp.MachineClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if r.json["error"] == nil {
		t.Errorf("machine client redeemed portico-web's refresh token: %d", r.status)
	}
	// It expires.
	clk.Advance(time.Hour)
	r = postForm(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if r.json["error"] != "invalid_grant" {
		t.Errorf("expired refresh token: %d %s", r.status, r.body)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	tests := []struct {
		scopes []string
		want   string
	}{
		{nil, "portico/inference portico/identity"},
		{[]string{"portico/identity"}, "portico/identity"},
		{[]string{"portico/identity", "portico/inference"}, "portico/inference portico/identity"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.scopes, "+"), func(t *testing.T) {
			t.Parallel()
			c := claimsOf(t, idp.MachineToken(t, tt.scopes...))
			if c["scope"] != tt.want || c["sub"] != devidp.MachineClientID {
				t.Errorf("scope %v sub %v, want %q", c["scope"], c["sub"], tt.want)
			}
		})
	}
	t.Run("no refresh or ID token", func(t *testing.T) {
		t.Parallel()
		r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.MachineClientID, devidp.MachineClientSecret,
			url.Values{"grant_type": {"client_credentials"}})
		if r.status != http.StatusOK || r.json["refresh_token"] != nil || r.json["id_token"] != nil || r.json["expires_in"] != float64(3600) {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestRevokeAndUserInfo(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	revokeURL, userInfoURL := idp.Issuer()+"/oauth2/revoke", idp.Issuer()+"/oauth2/userInfo"
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	tokens := idp.SignIn(t, "alice", "")

	info := get(t, idp.HTTPClient(), userInfoURL, bearer(tokens.AccessToken))
	if info.status != http.StatusOK || info.json["username"] != "alice" || info.json["email"] != "alice@example.com" ||
		info.json["custom:department"] != "Research" || info.json["email_verified"] != "true" {
		t.Fatalf("userInfo: %d %s", info.status, info.body)
	}
	if r := get(t, idp.HTTPClient(), userInfoURL, http.Header{"Authorization": {"bearer " + tokens.AccessToken}}); r.status != http.StatusOK {
		t.Errorf("userInfo with a lower-case scheme: %d", r.status)
	}
	for name, tc := range map[string]struct {
		header http.Header
		status int
	}{
		"no token":      {nil, http.StatusUnauthorized},
		"garbage":       {bearer("a.b.c"), http.StatusUnauthorized},
		"ID token":      {bearer(tokens.IDToken), http.StatusUnauthorized},
		"machine token": {bearer(idp.MachineToken(t)), http.StatusForbidden},
		"forged": {bearer(idp.SignClaims(t, map[string]any{
			"iss": "https://evil.example", "token_use": "access", "username": "alice", "scope": "openid",
			"exp": time.Now().Add(time.Hour).Unix(),
		})), http.StatusUnauthorized},
	} {
		if r := get(t, idp.HTTPClient(), userInfoURL, tc.header); r.status != tc.status || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("userInfo with %s: status %d, want %d with WWW-Authenticate", name, r.status, tc.status)
		}
	}

	// Revocation errors.
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.WebClientID, "wrong", url.Values{"token": {tokens.RefreshToken}}); r.status != 401 || r.json["error"] != "invalid_client" {
		t.Errorf("revoke with a wrong secret: %d %s", r.status, r.body)
	}
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.MachineClientID, devidp.MachineClientSecret, url.Values{"token": {tokens.RefreshToken}}); r.status != 400 || r.json["error"] != "unauthorized_client" {
		t.Errorf("revoke by another client: %d %s", r.status, r.body)
	}
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.WebClientID, devidp.WebClientSecret, url.Values{}); r.json["error"] != "invalid_request" {
		t.Errorf("revoke without token: %d %s", r.status, r.body)
	}
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.WebClientID, devidp.WebClientSecret, url.Values{"token": {"not-a-token"}}); r.status != 200 {
		t.Errorf("revoke of an unknown token: %d, want 200 (RFC 7009)", r.status)
	}
	// The refresh token still works; revoke it; then it and its access tokens stop working.
	idp.Refresh(t, tokens.RefreshToken)
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.WebClientID, devidp.WebClientSecret, url.Values{"token": {tokens.RefreshToken}}); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r := postForm(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken}})
	if r.status != 400 || r.json["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token redeemed: %d %s", r.status, r.body)
	}
	if r := get(t, idp.HTTPClient(), userInfoURL, bearer(tokens.AccessToken)); r.status != http.StatusUnauthorized {
		t.Errorf("userInfo with a revoked family's access token: %d", r.status)
	}
	if r := postForm(t, idp.HTTPClient(), revokeURL, devidp.WebClientID, devidp.WebClientSecret, url.Values{"token": {tokens.RefreshToken}}); r.status != 200 {
		t.Errorf("second revoke: %d, want 200", r.status)
	}
	// Other sessions are unaffected.
	if other := idp.SignIn(t, "alice", ""); get(t, idp.HTTPClient(), userInfoURL, bearer(other.AccessToken)).status != http.StatusOK {
		t.Error("revoking one session ended another")
	}
}

func TestUserInfoExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	idp := devidptest.Start(t, devidp.WithClock(clk.Now), devidp.WithAccessTokenTTL(30*time.Second))
	tok := idp.AccessToken(t, "bob")
	header := http.Header{"Authorization": {"Bearer " + tok}}
	if r := get(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/userInfo", header); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d", r.status)
	}
	clk.Advance(30 * time.Second)
	if r := get(t, idp.HTTPClient(), idp.Issuer()+"/oauth2/userInfo", header); r.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", r.status)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithLogoutURIs("http://app.test/", "http://app.test/bye"))
	tests := []struct {
		clientID, logoutURI string
		wantLocation        string
	}{
		{devidp.WebClientID, "http://app.test/", "http://app.test/"},
		{devidp.WebClientID, "http://app.test/bye", "http://app.test/bye"},
		{devidp.WebClientID, "https://evil.example/", ""},
		{devidp.WebClientID, "http://app.test/byebye", ""},
		{devidp.WebClientID, "", ""},
		{"evil", "http://app.test/", ""},
		{devidp.MachineClientID, "http://app.test/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.clientID+" "+tt.logoutURI, func(t *testing.T) {
			t.Parallel()
			u := idp.Issuer() + "/logout?" + url.Values{"client_id": {tt.clientID}, "logout_uri": {tt.logoutURI}}.Encode()
			r := get(t, idp.HTTPClient(), u, nil)
			if tt.wantLocation == "" {
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Errorf("status %d Location %q, want 400", r.status, r.header.Get("Location"))
				}
				return
			}
			if r.status != http.StatusFound || r.header.Get("Location") != tt.wantLocation {
				t.Errorf("status %d Location %q, want 302 to %s", r.status, r.header.Get("Location"), tt.wantLocation)
			}
		})
	}
}
