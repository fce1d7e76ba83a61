package bff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/services/dev/devidp"
)

const getMe = "/api/portico.identity.v1.IdentityService/GetMe"

// assertCleanUpstream checks every call that reached the services: never the browser's
// cookie, CSRF header or spoofed trusted headers; always a Bearer access token.
func assertCleanUpstream(t *testing.T, u *upstream) {
	t.Helper()
	for i, h := range u.calls() {
		if h.Get("Cookie") != "" || h.Get("X-Csrf") != "" {
			t.Errorf("call %d reached the services with Cookie %q / X-CSRF %q", i, h.Get("Cookie"), h.Get("X-Csrf"))
		}
		if claim(h.Get("Authorization"), "token_use") != "access" {
			t.Errorf("call %d carried Authorization %.20q…, want a Bearer access token", i, h.Get("Authorization"))
		}
		if h.Get("X-Forwarded-For") != "" || h.Get("Portico-Client-Ip") != "127.0.0.1" || h.Get("Portico-Spoof") != "" {
			t.Errorf("call %d: X-Forwarded-For %q, Portico-Client-Ip %q, Portico-Spoof %q", i,
				h.Get("X-Forwarded-For"), h.Get("Portico-Client-Ip"), h.Get("Portico-Spoof"))
		}
		if h.Get("Portico-Client-User-Agent") != "portico-test-browser/1.0" {
			t.Errorf("call %d: Portico-Client-User-Agent %q", i, h.Get("Portico-Client-User-Agent"))
		}
		// The BFF's own request id and trace context, never the browser's.
		id := h.Get("X-Request-Id")
		if len(id) != 32 || h.Get("Traceparent") == "" || !strings.HasPrefix(h.Get("Traceparent"), "00-"+id+"-") ||
			h.Get("Tracestate") != "" || h.Get("Baggage") != "" {
			t.Errorf("call %d: X-Request-Id %q, traceparent %q, tracestate %q, baggage %q", i,
				id, h.Get("Traceparent"), h.Get("Tracestate"), h.Get("Baggage"))
		}
	}
}

func TestSignInSessionAndProxiedCall(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	b := s.browser()
	cb := b.signIn("alice", "/chat/1?model=x")
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/chat/1?model=x" {
		t.Fatalf("callback: %s to %q", cb.Status, cb.Header.Get("Location"))
	}
	var sessionCookies int
	for _, c := range cb.Cookies() {
		if c.Name == "__Host-portico-login" {
			if c.MaxAge >= 0 {
				t.Errorf("login cookie not cleared at callback")
			}
			continue
		}
		if !strings.HasPrefix(c.Name, bff.SessionCookieName) || c.MaxAge <= 0 {
			continue
		}
		sessionCookies++
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("session cookie %s attributes: %+v", c.Name, c)
		}
	}
	if sessionCookies != 1 {
		// Compressed, the dev IdP's Cognito-shaped tokens fit one cookie (every call parses
		// it); TestSessionCookieTampering covers chunked sessions.
		t.Errorf("session took %d cookies, want 1", sessionCookies)
	}

	resp, body := b.call(http.MethodGet, "/auth/session", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("session: %s %s", resp.Status, body)
	}
	var got struct {
		User struct {
			Subject, Username, Email, Name string
			Groups                         []string
		}
		ExpiresAt time.Time
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.User.Username != "alice" || len(got.User.Groups) != 1 || got.User.Groups[0] != "MLUsers" || got.User.Subject == "" || got.User.Email == "" {
		t.Fatalf("session user = %+v", got.User)
	}
	if until := time.Until(got.ExpiresAt); until < 11*time.Hour || until > 12*time.Hour+time.Minute {
		t.Fatalf("session expires in %v, want about 12h", until)
	}
	if strings.Contains(body, "eyJ") {
		t.Fatal("the session response carries a token")
	}

	req := b.request(context.Background(), http.MethodPost, getMe, strings.NewReader("{}"), true)
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("Portico-Client-Ip", "6.6.6.6")
	req.Header.Set("Portico-Spoof", "1")
	req.Header.Set("Authorization", "Bearer forged")
	req.Header.Set("X-Request-Id", "browser-1")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("Tracestate", "evil=1")
	req.Header.Set("Baggage", "user=admin")
	raw := b.do(req)
	data, _ := io.ReadAll(raw.Body)
	_ = raw.Body.Close()
	if raw.StatusCode != http.StatusOK || !strings.Contains(string(data), `"username":"alice"`) {
		t.Fatalf("GetMe: %s %s", raw.Status, data)
	}
	if raw.Header.Get("Set-Cookie") != "" {
		t.Fatalf("the services' Set-Cookie reached the browser: %q", raw.Header.Get("Set-Cookie"))
	}
	if ids := raw.Header.Values("X-Request-Id"); len(ids) != 1 || ids[0] != s.up.calls()[0].Get("X-Request-Id") {
		t.Fatalf("the browser got X-Request-Id %q; the services got %q", ids, s.up.calls()[0].Get("X-Request-Id"))
	}
	// Connect sends side-effect-free calls as GET.
	resp, body = b.call(http.MethodGet, getMe+"?connect=v1&encoding=json&message=%7B%7D", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe over GET: %s %s", resp.Status, body)
	}
	if n := len(s.up.calls()); n != 2 {
		t.Fatalf("upstream saw %d calls, want 2", n)
	}
	assertCleanUpstream(t, s.up)
}

func TestStreamPassesChunkByChunk(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	b := s.browser()
	b.signIn("alice", "/")
	req := b.request(context.Background(), http.MethodPost, "/api/portico.inference.v1.InferenceService/ConverseStream", strings.NewReader("{}"), true)
	req.Header.Set("Content-Type", "application/connect+json")
	resp := b.do(req)
	defer func() { _ = resp.Body.Close() }()
	r := bufio.NewReader(resp.Body)
	// The upstream is holding its second chunk until released: the first must arrive alone.
	first, err := r.ReadString(';')
	if err != nil || first != "chunk-1;" {
		t.Fatalf("first chunk = %q, %v", first, err)
	}
	close(s.up.release)
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "chunk-2;" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
	assertCleanUpstream(t, s.up)
}

func TestStreamCancelledWhenBrowserLeaves(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	b := s.browser()
	b.signIn("alice", "/")
	ctx, cancel := context.WithCancel(context.Background())
	req := b.request(ctx, http.MethodPost, "/api/portico.inference.v1.InferenceService/ConverseStream", strings.NewReader("{}"), true)
	resp := b.do(req)
	first, err := bufio.NewReader(resp.Body).ReadString(';')
	if err != nil || first != "chunk-1;" {
		t.Fatalf("first chunk = %q, %v", first, err)
	}
	cancel()
	_ = resp.Body.Close()
	select {
	case <-s.up.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream stream kept running after the browser left")
	}
}

func TestRefreshOncePerSession(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(5 * time.Minute)}})
	b := s.browser()
	b.signIn("alice", "/")
	if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe: %s %s", resp.Status, body)
	}
	before := s.up.calls()[0].Get("Authorization")
	if n := s.idpRT.refreshes.Load(); n != 0 {
		t.Fatalf("%d refreshes before the token neared expiry", n)
	}

	cookieBefore := b.snapshot()[bff.SessionCookieName]
	s.clock.advance(4*time.Minute + 30*time.Second) // 30 s left: inside the 60 s skew
	const parallel = 8
	// Every call carries the cookie from before the refresh, as a browser's calls sent together
	// do (built first: a call built after another's answer would carry the refreshed cookie,
	// whose token — issued in real time, not on the test's advanced clock — needs a refresh
	// of its own).
	reqs := make([]*http.Request, parallel)
	for i := range reqs {
		reqs[i] = b.request(context.Background(), http.MethodPost, getMe, strings.NewReader("{}"), true)
	}
	var wg sync.WaitGroup
	statuses := make([]int, parallel)
	for i := range parallel {
		wg.Go(func() {
			resp := b.do(reqs[i])
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("call %d: status %d", i, st)
		}
	}
	if n := s.idpRT.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes for one session, want 1", n)
	}
	if b.snapshot()[bff.SessionCookieName] == cookieBefore {
		t.Fatal("the refreshed session was not written back to the browser")
	}
	calls := s.up.calls()[1:]
	for i, h := range calls {
		if h.Get("Authorization") == before || h.Get("Authorization") != calls[0].Get("Authorization") {
			t.Fatalf("call %d was not forwarded with the one refreshed token", i)
		}
	}
	// The browser now holds the refreshed session: the next call needs no refresh... until
	// the clock moves again.
	resp, _ := b.call(http.MethodGet, "/auth/session", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("session after refresh: %s", resp.Status)
	}
	assertCleanUpstream(t, s.up)
}

func TestLogoutRevokesAndClears(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	b := s.browser()
	b.signIn("alice", "/")
	stolen := b.snapshot()

	resp, body := b.call(http.MethodPost, "/auth/logout", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %s %s", resp.Status, body)
	}
	var out struct{ LogoutURL string }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := s.idp.Issuer() + "/logout?" + url.Values{"client_id": {"portico-web"}, "logout_uri": {s.url + "/"}}.Encode()
	if out.LogoutURL != want {
		t.Fatalf("logoutUrl = %q, want %q", out.LogoutURL, want)
	}
	if n := s.idpRT.revokes.Load(); n != 1 {
		t.Fatalf("%d revocations, want 1", n)
	}
	if len(b.snapshot()) != 0 {
		t.Fatalf("cookies left after logout: %v", b.snapshot())
	}
	resp, body = b.call(http.MethodGet, "/auth/session", "", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("session after logout: %s %s", resp.Status, body)
	}

	// Someone kept the old cookies. This is cookie mode's documented limit (bff/README.md):
	// the sealed session still opens and its access token still verifies offline, so the
	// copy works until the access token needs refreshing...
	b.restore(stolen)
	if resp, body := b.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("cookie mode: a copied cookie before its access token expires: %s %s", resp.Status, body)
	}
	// ...then the provider refuses the revoked refresh token and the session ends.
	s.clock.advance(time.Hour)
	resp, body = b.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("call with revoked refresh token: %s %s", resp.Status, body)
	}
	if len(b.snapshot()) != 0 {
		t.Fatalf("cookies not cleared after the failed refresh: %v", b.snapshot())
	}
	if n := s.idpRT.refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh attempts, want 1", n)
	}
	if len(s.up.calls()) != 0 {
		t.Fatal("a call reached the services without a valid session")
	}
}

func TestIdPDown(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(5 * time.Minute)}})
	b := s.browser()
	b.signIn("alice", "/")
	s.idp.SetDown(true)

	resp, body := b.call(http.MethodGet, "/auth/login", "", false)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Sign-in is unavailable right now") {
		t.Fatalf("login with the IdP down: %s %s", resp.Status, body)
	}
	// Token near expiry but still valid: the call goes through with it.
	s.clock.advance(4*time.Minute + 30*time.Second)
	if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe with a still-valid token and the IdP down: %s %s", resp.Status, body)
	}
	// Expired and cannot refresh: unavailable, and the session is kept for when it returns.
	s.clock.advance(time.Minute)
	resp, body = b.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusServiceUnavailable || connectError(t, body) != "unavailable" || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("GetMe with an expired token and the IdP down: %s %s (Retry-After %q)", resp.Status, body, resp.Header.Get("Retry-After"))
	}
	if len(b.snapshot()) == 0 {
		t.Fatal("the session was cleared because the IdP was down")
	}
	s.idp.SetDown(false)
	if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe once the IdP is back: %s %s", resp.Status, body)
	}
	assertCleanUpstream(t, s.up)
}

func TestSessionLifetimeBoundedByRefreshToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{refreshTTL: 2 * time.Hour})
	b := s.browser()
	cb := b.signIn("alice", "/")
	for _, c := range cb.Cookies() {
		if strings.HasPrefix(c.Name, bff.SessionCookieName) && c.MaxAge > 0 && (c.MaxAge > 7200 || c.MaxAge < 7100) {
			t.Fatalf("cookie %s Max-Age %d, want about 7200", c.Name, c.MaxAge)
		}
	}
	resp, body := b.call(http.MethodGet, "/auth/session", "", true)
	var got struct{ ExpiresAt time.Time }
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("session: %s %s", resp.Status, body)
	}
	if until := got.ExpiresAt.Sub(s.clock.now()); until > 2*time.Hour || until < 2*time.Hour-time.Minute {
		t.Fatalf("session ends in %v, want 2h (the refresh token's lifetime)", until)
	}
	// Past the end, the session is gone even though the cookie was replayed.
	s.clock.advance(2 * time.Hour)
	resp, body = b.call(http.MethodGet, "/auth/session", "", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("session past its end: %s %s", resp.Status, body)
	}
}

func TestLoginRedirect(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{identityProv: "EntraID"})
	b := s.browser()
	resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/chat", "", false)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login: %s %v", resp.Status, err)
	}
	q := loc.Query()
	st := s.loginState(t, b)
	for key, want := range map[string]string{
		"response_type":         "code",
		"client_id":             "portico-web",
		"redirect_uri":          s.url + "/auth/callback",
		"code_challenge_method": "S256",
		"identity_provider":     "EntraID",
		"state":                 st["state"].(string),
		"nonce":                 st["nonce"].(string),
		"scope":                 "openid email profile",
	} {
		if q.Get(key) != want {
			t.Errorf("authorize %s = %q, want %q", key, q.Get(key), want)
		}
	}
	if len(q.Get("code_challenge")) != 43 || q.Get("code_challenge") == st["verifier"] {
		t.Errorf("code_challenge %q is not an S256 challenge", q.Get("code_challenge"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login redirect Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-portico-login" {
			login = c
		}
	}
	if login == nil || !login.Secure || !login.HttpOnly || login.SameSite != http.SameSiteLaxMode || login.MaxAge != 600 || login.Path != "/" {
		t.Fatalf("login cookie %+v", login)
	}
}

func TestIdPKeyRotation(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(5 * time.Minute)}})
	alice := s.browser()
	alice.signIn("alice", "/")
	s.idp.RotateKeys()
	// A new sign-in's ID token is signed with the new key: the BFF fetches the JWKS again.
	if cb := s.browser().signIn("dana", "/"); cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after key rotation: %s", cb.Status)
	}
	// A refresh's new ID token too.
	s.clock.advance(4*time.Minute + 30*time.Second)
	if resp, body := alice.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh after key rotation: %s %s", resp.Status, body)
	}
	if n := s.idpRT.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestServerSideSessionsRevokeAtLogout(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{sessionStore: "memory"})
	b := s.browser()
	cb := b.signIn("alice", "/")
	for _, c := range cb.Cookies() {
		if strings.HasPrefix(c.Name, bff.SessionCookieName+"-") && c.MaxAge > 0 {
			t.Fatalf("server-side mode wrote session chunk %s: the cookie should hold only a ticket", c.Name)
		}
		if c.Name == bff.SessionCookieName && len(c.Value) > 200 {
			t.Fatalf("server-side ticket is %d bytes", len(c.Value))
		}
	}
	if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe: %s %s", resp.Status, body)
	}
	stolen := b.snapshot()
	if resp, _ := b.call(http.MethodPost, "/auth/logout", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %s", resp.Status)
	}
	// Unlike sealed-cookie sessions, the kept ticket is dead at once.
	b.restore(stolen)
	resp, body := b.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("GetMe with a logged-out ticket: %s %s", resp.Status, body)
	}
	if n := len(s.up.calls()); n != 1 {
		t.Fatalf("upstream saw %d calls, want 1", n)
	}
}

// TestLogoutDuringRefreshEndsTheCall signs out (from a second tab holding the same ticket)
// while a refresh is in flight: the refreshed session must not be written back, and the call
// that started the refresh ends Unauthenticated rather than failing as an internal error.
func TestLogoutDuringRefreshEndsTheCall(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{sessionStore: "memory", idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(5 * time.Minute)}})
	b := s.browser()
	b.signIn("alice", "/")
	kept := b.snapshot()
	s.clock.advance(4*time.Minute + 30*time.Second) // inside the refresh skew

	answered, release := make(chan struct{}), make(chan struct{})
	hook := func() { close(answered); <-release }
	s.idpRT.afterRefresh.Store(&hook)
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		resp := b.do(b.request(context.Background(), http.MethodPost, getMe, strings.NewReader("{}"), true))
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		done <- result{resp.StatusCode, string(body)}
	}()
	<-answered
	s.idpRT.afterRefresh.Store(nil)
	other := s.browser()
	other.restore(kept)
	if resp, body := other.call(http.MethodPost, "/auth/logout", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %s %s", resp.Status, body)
	}
	close(release)
	got := <-done
	if got.status != http.StatusUnauthorized || connectError(t, got.body) != "unauthenticated" {
		t.Fatalf("call whose refresh outlived the session: %d %s", got.status, got.body)
	}
	if n := len(s.up.calls()); n != 0 {
		t.Fatalf("upstream saw %d calls after the session ended", n)
	}
}

// TestUpstreamAnswersBeforeReadingBody checks that an upstream that starts its answer
// before reading the request body gets the whole body and streams its whole answer.
func TestUpstreamAnswersBeforeReadingBody(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	b := s.browser()
	b.signIn("alice", "/")
	for range 20 {
		resp, body := b.call(http.MethodPost, "/api/portico.inference.v1.InferenceService/InvokeEndpoint", strings.Repeat("a", 200_000), true)
		if resp.StatusCode != http.StatusOK || body != "ready;got=200000;" {
			t.Fatalf("%s %q", resp.Status, body)
		}
	}
}
