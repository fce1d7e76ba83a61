package bff_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// entraScopes are what the BFF asks Entra ID for: a refresh token and an access token for
// Portico's API.
var entraScopes = []string{"openid", "email", "profile", devidp.ScopeOfflineAccess, devidp.EntraAPIScope}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// sessionUser returns /auth/session's user.
func (b *browser) sessionUser() (int, map[string]any) {
	b.t.Helper()
	resp, body := b.call(http.MethodGet, "/auth/session", "", true)
	var out struct {
		User map[string]any `json:"user"`
	}
	_ = json.Unmarshal([]byte(body), &out)
	return resp.StatusCode, out.User
}

// logoutURL posts /auth/logout and returns the provider logout URL it answers.
func (b *browser) logoutURL() *url.URL {
	b.t.Helper()
	resp, body := b.call(http.MethodPost, "/auth/logout", "", true)
	var out struct{ LogoutURL string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		b.t.Fatalf("logout: %s %s", resp.Status, body)
	}
	u, err := url.Parse(out.LogoutURL)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// followAtIdP opens u at the provider and returns where it redirects.
func (s *stack) followAtIdP(t testing.TB, u *url.URL) *url.URL {
	t.Helper()
	c := *s.idp.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("provider logout: %s %v", resp.Status, err)
	}
	return loc
}

// The BFF against an Entra-shaped provider: scopes, no Cognito hint, Entra's claims in the
// session, the access token for Portico's API, refresh with rotation, RP-initiated logout
// with its state checked on return.
func TestEntraSignInRefreshLogout(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		idpOpts:      []devidp.Option{devidp.WithEntra("", ""), devidp.WithAccessTokenTTL(5 * time.Minute)},
		scopes:       entraScopes,
		identityProv: "EntraID", // configured by mistake: a standard provider never gets it
	})
	b := s.browser()
	resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/chat", "", false)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("scope"); got != strings.Join(entraScopes, " ") {
		t.Fatalf("scope = %q", got)
	}
	if loc.Query().Has("identity_provider") {
		t.Fatal("identity_provider sent to a standard provider")
	}
	if cb := b.signIn("dana", "/chat"); cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/chat" {
		t.Fatalf("callback: %s", cb.Status)
	}
	status, user := b.sessionUser()
	if status != http.StatusOK || user["username"] != "dana@example.com" || user["name"] != "Dana Kim" || user["email"] != "dana@example.com" {
		t.Fatalf("session %d %v", status, user)
	}
	groups, _ := user["groups"].([]any)
	want := []string{devidp.GroupObjectID("Administrators"), devidp.GroupObjectID("MLUsers")}
	slices.Sort(want)
	if len(groups) != 2 || groups[0] != want[0] || groups[1] != want[1] {
		t.Fatalf("groups %v, want the object ids %v", groups, want)
	}
	if r, body := b.call(http.MethodPost, getMe, "{}", true); r.StatusCode != http.StatusOK {
		t.Fatalf("GetMe: %s %s", r.Status, body)
	}
	first := strings.TrimPrefix(s.up.calls()[0].Get("Authorization"), "Bearer ")
	if c := jwtClaims(t, first); c["aud"] != devidp.EntraAPIClientID || c["scp"] != "access" || c["tid"] != devidp.DevTenantID {
		t.Fatalf("forwarded access token aud %v scp %v tid %v", c["aud"], c["scp"], c["tid"])
	}

	// Refresh: Entra rotates the refresh token; the session keeps working.
	s.clock.advance(4*time.Minute + 30*time.Second)
	if r, body := b.call(http.MethodPost, getMe, "{}", true); r.StatusCode != http.StatusOK {
		t.Fatalf("GetMe after refresh: %s %s", r.Status, body)
	}
	if n := s.idpRT.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if second := s.up.calls()[1].Get("Authorization"); strings.TrimPrefix(second, "Bearer ") == first {
		t.Fatal("the refreshed token was not forwarded")
	}

	// RP-initiated logout.
	out := b.logoutURL()
	q := out.Query()
	if out.Scheme+"://"+out.Host+out.Path != s.idp.Issuer()+"/oauth2/logout" {
		t.Fatalf("logout endpoint %s, want the discovery document's end_session_endpoint", out)
	}
	if q.Get("client_id") != devidp.WebClientID || q.Get("post_logout_redirect_uri") != s.url+"/auth/signed-out" || len(q.Get("state")) < 40 {
		t.Fatalf("logout parameters %v", q)
	}
	if hint := jwtClaims(t, q.Get("id_token_hint")); hint["aud"] != devidp.WebClientID || hint["oid"] == nil {
		t.Fatalf("id_token_hint is not the session's ID token: %v", hint)
	}
	if q.Has("logout_uri") {
		t.Fatal("Cognito's logout_uri sent to a standard provider")
	}
	if n := s.idpRT.revokes.Load(); n != 0 {
		t.Fatalf("%d revocations at a provider that advertises no revocation endpoint", n)
	}
	back := s.followAtIdP(t, out)
	if back.Query().Get("state") != q.Get("state") {
		t.Fatalf("the provider returned to %s", back)
	}
	r, _ := b.call(http.MethodGet, back.Path+"?"+back.RawQuery, "", false)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("signed-out return: %s %s", r.Status, r.Header.Get("Location"))
	}
	if status, _ := b.sessionUser(); status != http.StatusUnauthorized {
		t.Fatalf("session after logout: %d", status)
	}
	// The state is single-use.
	r, body := b.call(http.MethodGet, back.Path+"?"+back.RawQuery, "", false)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_logout_state") {
		t.Fatalf("replayed signed-out return: %s", r.Status)
	}
}

// A provider that issues no refresh token (Entra without offline_access): the session lasts
// as long as the access token, then the next call asks to sign in again, cleanly.
func TestNoRefreshTokenSessionEndsWithAccessToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		idpOpts: []devidp.Option{devidp.WithEntra("", ""), devidp.WithAccessTokenTTL(10 * time.Minute)},
		scopes:  []string{"openid", "profile", "email", devidp.EntraAPIScope},
	})
	b := s.browser()
	b.signIn("alice", "/")
	resp, body := b.call(http.MethodGet, "/auth/session", "", true)
	var got struct{ ExpiresAt time.Time }
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("session: %s %s", resp.Status, body)
	}
	if until := got.ExpiresAt.Sub(s.clock.now()); until > 10*time.Minute || until < 9*time.Minute {
		t.Fatalf("session ends in %v, want the access token's 10m", until)
	}
	if r, body := b.call(http.MethodPost, getMe, "{}", true); r.StatusCode != http.StatusOK {
		t.Fatalf("GetMe: %s %s", r.Status, body)
	}
	s.clock.advance(9*time.Minute + 30*time.Second) // inside the refresh skew: nothing to refresh with
	resp, body = b.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("call at the access token's end: %s %s", resp.Status, body)
	}
	if n := s.idpRT.refreshes.Load(); n != 0 {
		t.Fatalf("%d refresh grants sent without a refresh token", n)
	}
	if len(b.snapshot()) != 0 {
		t.Fatalf("cookies left: %v", b.snapshot())
	}
	// A clean re-sign-in (calls after it would need the provider's clock moved as well).
	if cb := b.signIn("alice", "/"); cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in again: %s", cb.Status)
	}
	if _, ok := b.snapshot()[bff.SessionCookieName]; !ok {
		t.Fatal("no session after signing in again")
	}
}

func TestSignedOutRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// do returns the path to open at the BFF after logout.
		do func(s *stack, b *browser, state string) string
	}{
		{"forged state", func(_ *stack, _ *browser, _ string) string { return "/auth/signed-out?state=forged" }},
		{"no state", func(_ *stack, _ *browser, _ string) string { return "/auth/signed-out" }},
		{"state of another browser's logout", func(s *stack, _ *browser, state string) string {
			other := s.browser()
			other.signIn("alice", "/")
			return "/auth/signed-out?state=" + url.QueryEscape(other.logoutURL().Query().Get("state"))
		}},
		{"expired", func(s *stack, _ *browser, state string) string {
			s.clock.advance(11 * time.Minute)
			return "/auth/signed-out?state=" + url.QueryEscape(state)
		}},
		{"logout cookie dropped", func(_ *stack, b *browser, state string) string {
			b.restore(map[string]string{})
			return "/auth/signed-out?state=" + url.QueryEscape(state)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{idpOpts: []devidp.Option{devidp.WithEntra("", "")}, scopes: entraScopes})
			b := s.browser()
			b.signIn("alice", "/")
			state := b.logoutURL().Query().Get("state")
			path := tc.do(s, b, state)
			resp, body := b.call(http.MethodGet, path, "", false)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_logout_state") || resp.Header.Get("Location") != "" {
				t.Fatalf("%s: %s %q", path, resp.Status, resp.Header.Get("Location"))
			}
		})
	}
}

// rewriteIDToken makes the provider's token answers carry ID tokens changed by edit,
// re-signed with the provider's key: the shape of another provider on the dev IdP's answers.
func rewriteIDToken(t testing.TB, s *stack, edit func(claims map[string]any)) {
	rw := func(r *http.Request, resp *http.Response) *http.Response {
		if !strings.HasSuffix(r.URL.Path, "/oauth2/token") || resp.StatusCode != http.StatusOK {
			return resp
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Error(err)
		}
		var out map[string]any
		if err := json.Unmarshal(body, &out); err == nil {
			if idt, ok := out["id_token"].(string); ok {
				c := jwtClaims(t, idt)
				edit(c)
				out["id_token"] = s.idp.SignClaims(t, c)
				body, _ = json.Marshal(out)
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return resp
	}
	s.idpRT.rewrite.Store(&rw)
}

// rewriteUserInfo replaces the userinfo answer's JSON fields (and, when contentType is not
// empty, its Content-Type).
func rewriteUserInfo(t testing.TB, s *stack, status int, contentType string, edit func(map[string]any)) {
	rw := func(r *http.Request, resp *http.Response) *http.Response {
		if !strings.HasSuffix(r.URL.Path, "/oauth2/userInfo") {
			return resp
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Errorf("userinfo: %v", err)
		}
		edit(out)
		body, _ = json.Marshal(out)
		resp.StatusCode = status
		if contentType != "" {
			resp.Header.Set("Content-Type", contentType)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		return resp
	}
	s.idpRT.rewrite.Store(&rw)
}

// A provider whose ID token carries only sub: the profile comes from userinfo, which must
// name the same subject.
func TestUserInfoCompletesTheProfile(t *testing.T) {
	t.Parallel()
	bare := func(c map[string]any) {
		for _, k := range []string{"email", "name", "given_name", "family_name", "cognito:username"} {
			delete(c, k)
		}
	}
	for _, tc := range []struct {
		name     string
		userinfo func(s *stack)
		wantCode int
		wantUser map[string]any
	}{
		{"merged from userinfo", nil, http.StatusSeeOther,
			map[string]any{"username": "alice", "email": "alice@example.com", "name": "Alice Martin"}},
		{"userinfo names another subject", func(s *stack) {
			rewriteUserInfo(t, s, http.StatusOK, "", func(m map[string]any) { m["sub"] = "someone-else" })
		}, http.StatusBadRequest, nil},
		{"userinfo unavailable: the ID token's claims stand", func(s *stack) {
			rewriteUserInfo(t, s, http.StatusServiceUnavailable, "", func(map[string]any) {})
		}, http.StatusSeeOther, map[string]any{"username": "", "email": "", "name": ""}},
		{"userinfo not application/json (a signed answer): not read", func(s *stack) {
			rewriteUserInfo(t, s, http.StatusOK, "application/jwt", func(map[string]any) {})
		}, http.StatusSeeOther, map[string]any{"username": "", "email": "", "name": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{})
			b := s.browser()
			if tc.userinfo != nil {
				tc.userinfo(s)
				// The userinfo rewrite replaces the ID-token one; do both in one hook.
				ui := *s.idpRT.rewrite.Load()
				rewriteIDToken(t, s, bare)
				it := *s.idpRT.rewrite.Load()
				both := func(r *http.Request, resp *http.Response) *http.Response { return ui(r, it(r, resp)) }
				s.idpRT.rewrite.Store(&both)
			} else {
				rewriteIDToken(t, s, bare)
			}
			cb := b.signIn("alice", "/")
			if cb.StatusCode != tc.wantCode {
				t.Fatalf("callback: %s, want %d", cb.Status, tc.wantCode)
			}
			if tc.wantUser == nil {
				if status, _ := b.sessionUser(); status != http.StatusUnauthorized {
					t.Fatalf("a session was started: %d", status)
				}
				return
			}
			_, user := b.sessionUser()
			for k, v := range tc.wantUser {
				if user[k] != v {
					t.Errorf("%s = %v, want %v", k, user[k], v)
				}
			}
		})
	}
}

// Break-glass sign-in: /auth/login?idp=local reaches Cognito's local users only when
// configured, and a local user is admitted only in the break-glass group, however the
// sign-in started.
func TestBreakGlassSignIn(t *testing.T) {
	t.Parallel()
	federated := func(c map[string]any) {
		c["identities"] = []any{map[string]any{"providerName": "EntraID", "providerType": "SAML", "userId": "x"}}
	}
	for _, tc := range []struct {
		name       string
		opts       stackOptions
		login      string
		wantStatus int
		wantHint   string // identity_provider sent, when the login redirects
		user       string
		federated  bool
		wantSignIn int // callback status when user signs in
	}{
		{"default: the corporate hint", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login", http.StatusFound, "EntraID", "", false, 0},
		{"idp=local sends COGNITO", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login?idp=local", http.StatusFound, "COGNITO", "", false, 0},
		{"idp=local without break-glass configured", stackOptions{identityProv: "EntraID"},
			"/auth/login?idp=local", http.StatusNotFound, "", "", false, 0},
		{"idp=local at a standard provider", stackOptions{breakGlass: "Administrators", identityProv: "EntraID",
			idpOpts: []devidp.Option{devidp.WithEntra("", "")}, scopes: entraScopes},
			"/auth/login?idp=local", http.StatusNotFound, "", "", false, 0},
		{"unknown idp", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login?idp=EntraID", http.StatusBadRequest, "", "", false, 0},
		{"local administrator admitted", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login?idp=local", http.StatusFound, "COGNITO", "dana", false, http.StatusSeeOther},
		{"local user outside the group refused", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login?idp=local", http.StatusFound, "COGNITO", "alice", false, http.StatusForbidden},
		{"local user outside the group refused on the ordinary path", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login", http.StatusFound, "EntraID", "alice", false, http.StatusForbidden},
		{"break-glass fails closed at a provider not recognised as Cognito", stackOptions{breakGlass: "Administrators", identityProv: "EntraID",
			idpOpts: []devidp.Option{devidp.WithEntra("", "")}, scopes: entraScopes},
			"/auth/login", http.StatusFound, "", "alice", false, http.StatusForbidden},
		{"federated user admitted without the group", stackOptions{identityProv: "EntraID", breakGlass: "Administrators"},
			"/auth/login", http.StatusFound, "EntraID", "alice", true, http.StatusSeeOther},
		{"no break-glass: local users as before", stackOptions{identityProv: "EntraID"},
			"/auth/login", http.StatusFound, "EntraID", "alice", false, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, tc.opts)
			if tc.federated {
				rewriteIDToken(t, s, federated)
			}
			b := s.browser()
			resp, body := b.call(http.MethodGet, tc.login, "", false)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("%s: %s %s", tc.login, resp.Status, body)
			}
			if resp.StatusCode != http.StatusFound {
				if b.snapshot()["__Host-portico-login"] != "" {
					t.Fatal("a refused login wrote the login cookie")
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if got := loc.Query().Get("identity_provider"); got != tc.wantHint {
				t.Fatalf("identity_provider = %q, want %q", got, tc.wantHint)
			}
			if tc.user == "" {
				return
			}
			back := devidptest.Login(t, s.idp.HTTPClient(), loc.String(), tc.user, devidp.DevPassword)
			cb, body := b.call(http.MethodGet, "/auth/callback?"+back.RawQuery, "", false)
			if cb.StatusCode != tc.wantSignIn {
				t.Fatalf("callback: %s, want %d: %s", cb.Status, tc.wantSignIn, body)
			}
			status, _ := b.sessionUser()
			if (status == http.StatusOK) != (tc.wantSignIn == http.StatusSeeOther) {
				t.Fatalf("session status %d after callback %d", status, cb.StatusCode)
			}
			if _, ok := b.snapshot()[bff.SessionCookieName]; ok != (tc.wantSignIn == http.StatusSeeOther) {
				t.Fatalf("session cookie present = %v", ok)
			}
		})
	}
}

// TestBreakGlassCheckedAtRefresh: a local user's break-glass membership is checked again
// on every refresh, so one removed from the group loses the session at the next refresh,
// not when it would have expired.
func TestBreakGlassCheckedAtRefresh(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		groups     []any // the refreshed ID token's cognito:groups; nil leaves them
		wantStatus int
	}{
		{"still in the group", nil, http.StatusOK},
		{"removed from the group", []any{"MLUsers"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{identityProv: "EntraID", breakGlass: "Administrators",
				idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(5 * time.Minute)}})
			b := s.browser()
			if cb := b.signIn("dana", "/"); cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("local administrator's sign-in: %s", cb.Status)
			}
			if tc.groups != nil {
				rewriteIDToken(t, s, func(c map[string]any) { c["cognito:groups"] = tc.groups })
			}
			s.clock.advance(4*time.Minute + 30*time.Second) // inside the refresh skew of the access token
			if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != tc.wantStatus {
				t.Fatalf("call that refreshes: %s, want %d: %s", resp.Status, tc.wantStatus, body)
			}
			if n := s.idpRT.refreshes.Load(); n != 1 {
				t.Fatalf("%d refreshes, want 1", n)
			}
		})
	}
}

// Entra's multi-tenant issuer: discovery under …/common/v2.0 names …/{tenantid}/v2.0; the
// BFF accepts it only with a tenant list, and each ID token's issuer must be its own
// tenant's, that tenant allowed.
func TestEntraMultiTenantIssuer(t *testing.T) {
	t.Parallel()
	common := func(idp *devidptest.IdP) string {
		return strings.TrimSuffix(idp.Issuer(), "/"+devidp.DevTenantID+"/v2.0") + "/common/v2.0"
	}
	const otherTenant = "11111111-2222-3333-4444-555555555555"
	for _, tc := range []struct {
		name      string
		issuer    func(*devidptest.IdP) string
		tenants   []string
		edit      func(map[string]any)
		wantLogin int
		wantCB    int
	}{
		{"single tenant, exact issuer", nil, nil, nil, http.StatusFound, http.StatusSeeOther},
		{"single tenant, tenant listed", nil, []string{devidp.DevTenantID}, nil, http.StatusFound, http.StatusSeeOther},
		{"single tenant, tenant not listed", nil, []string{otherTenant}, nil, http.StatusFound, http.StatusBadRequest},
		{"common, tenant listed", common, []string{devidp.DevTenantID}, nil, http.StatusFound, http.StatusSeeOther},
		{"common without a tenant list", common, nil, nil, http.StatusServiceUnavailable, 0},
		{"common, tenant not listed", common, []string{otherTenant}, nil, http.StatusFound, http.StatusBadRequest},
		{"common, token from another tenant with its own issuer", common, []string{devidp.DevTenantID, otherTenant},
			func(c map[string]any) {
				c["tid"] = otherTenant
				c["iss"] = strings.Replace(c["iss"].(string), devidp.DevTenantID, otherTenant, 1)
			}, http.StatusFound, http.StatusSeeOther},
		{"common, iss of one tenant and tid of another", common, []string{devidp.DevTenantID, otherTenant},
			func(c map[string]any) { c["tid"] = otherTenant }, http.StatusFound, http.StatusBadRequest},
		{"common, no tid", common, []string{devidp.DevTenantID},
			func(c map[string]any) { delete(c, "tid") }, http.StatusFound, http.StatusBadRequest},
		{"common, iss is the template itself", common, []string{devidp.DevTenantID},
			func(c map[string]any) {
				c["iss"] = strings.Replace(c["iss"].(string), devidp.DevTenantID, "{tenantid}", 1)
			}, http.StatusFound, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{idpOpts: []devidp.Option{devidp.WithEntra("", "")}, scopes: entraScopes,
				issuer: tc.issuer, tenants: tc.tenants})
			if tc.edit != nil {
				rewriteIDToken(t, s, tc.edit)
			}
			b := s.browser()
			resp, body := b.call(http.MethodGet, "/auth/login", "", false)
			if resp.StatusCode != tc.wantLogin {
				t.Fatalf("login: %s %s", resp.Status, body)
			}
			if tc.wantCB == 0 {
				return
			}
			back := devidptest.Login(t, s.idp.HTTPClient(), resp.Header.Get("Location"), "alice", devidp.DevPassword)
			cb, body := b.call(http.MethodGet, "/auth/callback?"+back.RawQuery, "", false)
			if cb.StatusCode != tc.wantCB {
				t.Fatalf("callback: %s, want %d: %s", cb.Status, tc.wantCB, body)
			}
		})
	}
}
