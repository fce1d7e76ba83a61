package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/bff/cookie"
)

// The BFF against an OpenID provider Portico did not write: zitadel/oidc's op package with
// its example storage and login page, started by the test. It checks the BFF's sign-in
// (code flow with PKCE and nonce, the profile from userinfo since zitadel's ID token then
// carries none), refresh (offline_access, rotated refresh tokens), and logout (revocation at
// the advertised endpoint, RP-initiated logout at end_session_endpoint, the state checked
// on return).

// opStorage is the example storage with post-logout redirect URIs for its clients (the
// example's web clients have none, so the provider would refuse every
// post_logout_redirect_uri).
type opStorage struct {
	*storage.Storage
	postLogout []string
}

// GetClientByClientID implements op.Storage.
func (s opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return logoutClient{Client: c, uris: s.postLogout}, nil
}

type logoutClient struct {
	op.Client
	uris []string
}

func (c logoutClient) PostLogoutRedirectURIs() []string { return c.uris }

// zitadelOP is a running zitadel/oidc provider.
type zitadelOP struct {
	srv    *httptest.Server
	issuer string
}

const (
	opClientID     = "portico-web"
	opClientSecret = "conformance-secret" //nolint:gosec // a test client's secret
)

func startZitadel(t *testing.T, publicURL string) *zitadelOP {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	clients := map[string]*storage.Client{opClientID: storage.WebClient(opClientID, opClientSecret, publicURL+"/auth/callback")}
	st := opStorage{Storage: storage.NewStorageWithClients(storage.NewUserStore(issuer), clients), postLogout: []string{publicURL + "/auth/signed-out"}}
	ts.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	ts.Start()
	t.Cleanup(ts.Close)
	return &zitadelOP{srv: ts, issuer: issuer}
}

// login follows the provider's redirects from authorizeURL through its login page (user
// test-user@127.0.0.1, password verysecure) until they lead back to the BFF, and returns
// that URL.
func (z *zitadelOP) login(t *testing.T, authorizeURL, bffURL string) *url.URL {
	t.Helper()
	c := z.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(z.issuer, "http://")
	for range 10 {
		if strings.HasPrefix(next.String(), bffURL) {
			return next
		}
		var resp *http.Response
		if next.Path == "/login/username" && next.Query().Get("authRequestID") != "" {
			form := url.Values{"id": {next.Query().Get("authRequestID")}, "username": {"test-user@" + strings.Split(host, ":")[0]}, "password": {"verysecure"}}
			resp, err = c.PostForm(z.issuer+"/login/username", form)
		} else {
			resp, err = c.Get(next.String())
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s answered %s without a redirect", next, resp.Status)
		}
		next = loc
	}
	t.Fatal("too many redirects at the provider")
	return nil
}

func TestConformanceZitadelOP(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + ts.Listener.Addr().String()
	z := startZitadel(t, publicURL)
	up := startUpstream(t)
	servicesURL, _ := url.Parse(up.srv.URL)
	keys := []cookie.Key{{ID: "k1", Secret: make([]byte, cookie.KeySize)}}
	cfg := &config.Config{
		PublicURL: publicURL, Issuer: z.issuer, ClientID: opClientID, ClientSecret: opClientSecret,
		CookieKeys: keys, ServicesURL: servicesURL, SPADir: t.TempDir(), SessionStore: "cookie",
		Scopes:           []string{"openid", "profile", "email", "offline_access"},
		IdentityProvider: "EntraID", // a Cognito hint, never sent to a standard provider
	}
	s := build(t, ts, publicURL, nil, up, keys, cfg.SPADir, cfg, nil, 0)
	b := s.browser()

	// Sign-in.
	resp, body := b.call(http.MethodGet, "/auth/login?returnTo=/chat", "", false)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	authURL, _ := url.Parse(resp.Header.Get("Location"))
	if q := authURL.Query(); q.Has("identity_provider") || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
		t.Fatalf("authorize request %v", q)
	}
	back := z.login(t, authURL.String(), publicURL)
	cb, body := b.call(http.MethodGet, back.Path+"?"+back.RawQuery, "", false)
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/chat" {
		t.Fatalf("callback: %s %s", cb.Status, body)
	}
	status, user := b.sessionUser()
	host := strings.Split(strings.TrimPrefix(z.issuer, "http://"), ":")[0]
	if status != http.StatusOK || user["subject"] != "id1" || user["username"] != "test-user@"+host ||
		user["email"] != "test-user@zitadel.ch" || user["name"] != "Test User" {
		t.Fatalf("session %d %v (profile from userinfo)", status, user)
	}
	if r, body := b.call(http.MethodPost, getMe, "{}", true); r.StatusCode != http.StatusOK {
		t.Fatalf("GetMe: %s %s", r.Status, body)
	}
	first := up.calls()[0].Get("Authorization")

	// Refresh: zitadel's access tokens live 5 minutes.
	s.clock.advance(4*time.Minute + 30*time.Second)
	if r, body := b.call(http.MethodPost, getMe, "{}", true); r.StatusCode != http.StatusOK {
		t.Fatalf("GetMe after refresh: %s %s", r.Status, body)
	}
	if n := s.idpRT.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if second := up.calls()[1].Get("Authorization"); second == first || !strings.HasPrefix(second, "Bearer ") {
		t.Fatal("the refreshed access token was not forwarded")
	}
	if status, user := b.sessionUser(); status != http.StatusOK || user["email"] != "test-user@zitadel.ch" {
		t.Fatalf("session after refresh %d %v (the userinfo profile is kept)", status, user)
	}

	// Logout: RP-initiated, the refresh token revoked at the advertised endpoint.
	stolen := b.snapshot()
	r, body := b.call(http.MethodPost, "/auth/logout", "", true)
	var out struct{ LogoutURL string }
	if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("logout: %s %s", r.Status, body)
	}
	logout, _ := url.Parse(out.LogoutURL)
	if !strings.HasPrefix(out.LogoutURL, z.issuer+"/") || logout.Query().Get("id_token_hint") == "" ||
		logout.Query().Get("post_logout_redirect_uri") != publicURL+"/auth/signed-out" {
		t.Fatalf("logout URL %s", out.LogoutURL)
	}
	back = z.login(t, out.LogoutURL, publicURL)
	if back.Path != "/auth/signed-out" || back.Query().Get("state") != logout.Query().Get("state") {
		t.Fatalf("the provider returned to %s", back)
	}
	r, _ = b.call(http.MethodGet, back.Path+"?"+back.RawQuery, "", false)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("signed-out return: %s", r.Status)
	}
	if status, _ := b.sessionUser(); status != http.StatusUnauthorized {
		t.Fatalf("session after logout: %d", status)
	}
	r, body = b.call(http.MethodGet, back.Path+"?state=forged", "", false)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_logout_state") {
		t.Fatalf("forged state: %s", r.Status)
	}
	// The refresh token was revoked at the provider: a copy of the old session cookie
	// cannot refresh once its access token runs out.
	b.restore(stolen)
	s.clock.advance(5 * time.Minute)
	r, body = b.call(http.MethodPost, getMe, "{}", true)
	if r.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("refresh with the revoked token: %s %s", r.Status, body)
	}
}

// A standard provider without end_session_endpoint (zitadel's discovery with it removed)
// is not Cognito: no identity_provider hint, no Cognito /logout; the sign-out is Portico's
// alone and the SPA goes home.
func TestStandardProviderWithoutEndSession(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + ts.Listener.Addr().String()
	z := startZitadel(t, publicURL)
	up := startUpstream(t)
	servicesURL, _ := url.Parse(up.srv.URL)
	keys := []cookie.Key{{ID: "k1", Secret: make([]byte, cookie.KeySize)}}
	cfg := &config.Config{
		PublicURL: publicURL, Issuer: z.issuer, ClientID: opClientID, ClientSecret: opClientSecret,
		CookieKeys: keys, ServicesURL: servicesURL, SPADir: t.TempDir(), SessionStore: "cookie",
		IdentityProvider: "EntraID",
	}
	s := build(t, ts, publicURL, nil, up, keys, cfg.SPADir, cfg, nil, 0)
	rw := func(r *http.Request, resp *http.Response) *http.Response {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			return resp
		}
		var meta map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&meta)
		_ = resp.Body.Close()
		delete(meta, "end_session_endpoint")
		raw, _ := json.Marshal(meta)
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		resp.ContentLength = int64(len(raw))
		return resp
	}
	s.idpRT.rewrite.Store(&rw)
	b := s.browser()
	resp, _ := b.call(http.MethodGet, "/auth/login", "", false)
	authURL, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || authURL.Query().Has("identity_provider") {
		t.Fatalf("login: %s %s", resp.Status, authURL)
	}
	back := z.login(t, authURL.String(), publicURL)
	if cb, body := b.call(http.MethodGet, back.Path+"?"+back.RawQuery, "", false); cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %s %s", cb.Status, body)
	}
	r, body := b.call(http.MethodPost, "/auth/logout", "", true)
	var out struct{ LogoutURL string }
	if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil || out.LogoutURL != publicURL+"/" {
		t.Fatalf("logout: %s %s", r.Status, body)
	}
}
