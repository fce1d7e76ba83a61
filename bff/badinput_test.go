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

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/oidcflow"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

func TestLoginRefusesOpenRedirects(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	forms := []string{
		"//evil.com", "/\\evil.com", "/\t/evil.com", "/./../../\\evil.com", "/%09/evil.com",
		"/%2509/evil.com", "/%0d%0a/evil.com", "/%20/evil.com", "/%5cevil.com", "/%2f%2fevil.com",
		"\\\\evil.com", "https://evil.com", "http:evil.com", "javascript:alert(1)", "evil.com",
		"///evil.com", "/.//evil.com", " /x",
	}
	for _, form := range forms {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			b := s.browser()
			resp, body := b.call(http.MethodGet, "/auth/login?returnTo="+url.QueryEscape(form), "", false)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_return_to") {
				t.Fatalf("returnTo %q: %s", form, resp.Status)
			}
			if resp.Header.Get("Location") != "" || len(b.snapshot()) != 0 {
				t.Fatalf("returnTo %q: redirected or set cookies", form)
			}
		})
	}
}

// loginState opens the login cookie the browser holds (the test knows the keys).
func (s *stack) loginState(t *testing.T, b *browser) map[string]any {
	t.Helper()
	codec, err := cookie.NewCodec(s.keys...)
	if err != nil {
		t.Fatal(err)
	}
	jar := &cookie.Jar{Codec: codec, Name: oidcflow.LoginCookieName}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for name, value := range b.snapshot() {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	raw, err := jar.Read(r)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})

	// startLogin returns a browser that went to /auth/login and the IdP redirect back to
	// the BFF after signing alice in (not yet delivered).
	startLogin := func(t *testing.T) (*browser, *url.URL) {
		b := s.browser()
		resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
		loc := devidptest.Login(t, s.idp.HTTPClient(), resp.Header.Get("Location"), "alice", "portico-dev")
		return b, loc
	}
	withQuery := func(loc *url.URL, key, value string) string {
		q := loc.Query()
		if value == "" {
			q.Del(key)
		} else {
			q.Set(key, value)
		}
		return q.Encode()
	}
	tests := []struct {
		name       string
		run        func(t *testing.T) (reply, string)
		wantStatus int
		wantCode   string
	}{
		{"missing state", func(t *testing.T) (reply, string) {
			b, loc := startLogin(t)
			return b.call(http.MethodGet, "/auth/callback?"+withQuery(loc, "state", ""), "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"mismatched state", func(t *testing.T) (reply, string) {
			b, loc := startLogin(t)
			return b.call(http.MethodGet, "/auth/callback?"+withQuery(loc, "state", "forged"), "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"no login cookie (another browser)", func(t *testing.T) (reply, string) {
			_, loc := startLogin(t)
			return s.browser().call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"state of another login", func(t *testing.T) (reply, string) {
			b, _ := startLogin(t)
			_, other := startLogin(t)
			return b.call(http.MethodGet, "/auth/callback?"+other.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"replayed callback", func(t *testing.T) (reply, string) {
			b, loc := startLogin(t)
			if resp, _ := b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("first callback: %s", resp.Status)
			}
			return b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"code reuse with the original login cookie", func(t *testing.T) (reply, string) {
			b, loc := startLogin(t)
			before := b.snapshot()
			if resp, _ := b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("first callback: %s", resp.Status)
			}
			b.restore(before)
			return b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_grant"},
		{"wrong nonce", func(t *testing.T) (reply, string) {
			b := s.browser()
			resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
			authz, _ := url.Parse(resp.Header.Get("Location"))
			q := authz.Query()
			q.Set("nonce", "not-the-nonce-in-the-cookie")
			authz.RawQuery = q.Encode()
			loc := devidptest.Login(t, s.idp.HTTPClient(), authz.String(), "alice", "portico-dev")
			return b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_grant"},
		{"wrong PKCE verifier", func(t *testing.T) (reply, string) {
			b := s.browser()
			resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
			authz, _ := url.Parse(resp.Header.Get("Location"))
			q := authz.Query()
			_, challenge := devidptest.NewPKCE()
			q.Set("code_challenge", challenge)
			authz.RawQuery = q.Encode()
			loc := devidptest.Login(t, s.idp.HTTPClient(), authz.String(), "alice", "portico-dev")
			return b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_grant"},
		{"missing code", func(t *testing.T) (reply, string) {
			b, loc := startLogin(t)
			return b.call(http.MethodGet, "/auth/callback?"+withQuery(loc, "code", ""), "", false)
		}, http.StatusBadRequest, "invalid_grant"},
		{"IdP says access_denied", func(t *testing.T) (reply, string) {
			b := s.browser()
			b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
			state := s.loginState(t, b)["state"].(string)
			return b.call(http.MethodGet, "/auth/callback?error=access_denied&error_description=%3Cscript%3E&state="+state, "", false)
		}, http.StatusForbidden, "access_denied"},
		{"IdP error without our state", func(t *testing.T) (reply, string) {
			b := s.browser()
			b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
			return b.call(http.MethodGet, "/auth/callback?error=server_error&state=forged", "", false)
		}, http.StatusBadRequest, "invalid_state"},
		{"expired login cookie", func(t *testing.T) (reply, string) {
			s2 := newStack(t, stackOptions{})
			b := s2.browser()
			resp, _ := b.call(http.MethodGet, "/auth/login?returnTo=/x", "", false)
			loc := devidptest.Login(t, s2.idp.HTTPClient(), resp.Header.Get("Location"), "alice", "portico-dev")
			s2.clock.advance(oidcflow.LoginCookieLifetime)
			return b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
		}, http.StatusBadRequest, "invalid_state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := tt.run(t)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, "Reference: "+tt.wantCode) {
				t.Fatalf("status %s, body %q; want %d with code %s", resp.Status, body, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(body, "<script>") {
				t.Fatal("the error page reflects input unescaped")
			}
			for _, c := range resp.Cookies() {
				if strings.HasPrefix(c.Name, bff.SessionCookieName) && c.MaxAge > 0 {
					t.Fatalf("a refused callback set session cookie %s", c.Name)
				}
			}
		})
	}
}

// sessionCookies returns the browser's session chunks in order.
func sessionCookies(b *browser) []string {
	all := b.snapshot()
	var out []string
	for i := 0; ; i++ {
		name := bff.SessionCookieName
		if i > 0 {
			name += "-" + string(rune('0'+i))
		}
		v, ok := all[name]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

func setSession(b *browser, chunks []string) {
	c := map[string]string{}
	for i, v := range chunks {
		name := bff.SessionCookieName
		if i > 0 {
			name += "-" + string(rune('0'+i))
		}
		c[name] = v
	}
	b.restore(c)
}

func TestSessionCookieTampering(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{chunkSize: 1200})
	alice, bob := s.browser(), s.browser()
	alice.signIn("alice", "/")
	bob.signIn("bob", "/")
	a, o := sessionCookies(alice), sessionCookies(bob)
	if len(a) < 2 || len(o) < 2 {
		t.Fatalf("expected chunked sessions, got %d and %d chunks", len(a), len(o))
	}
	k2 := s.rebuild(t, []cookie.Key{{ID: "k2", Secret: bytes.Repeat([]byte{2}, cookie.KeySize)}})
	k2Alice := k2.browser()
	k2Alice.signIn("alice", "/")
	foreign := sessionCookies(k2Alice)

	flip := func(v string, i int) string {
		b := []byte(v)
		if b[i] == 'x' {
			b[i] = 'y'
		} else {
			b[i] = 'x'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		chunks []string
	}{
		{"forged byte in the first chunk", []string{flip(a[0], len(a[0])-4), a[1]}},
		{"forged byte in the second chunk", []string{a[0], flip(a[1], 5)}},
		{"truncated: last chunk missing", []string{a[0]}},
		{"truncated: last chunk shortened", []string{a[0], a[1][:len(a[1])-2]}},
		{"reordered chunks", []string{"2." + a[1], a[0][2:]}},
		{"chunks of two sessions", []string{a[0], o[1]}},
		{"chunk sealed with another key", []string{a[0], foreign[1]}},
		{"sealed with a key the ring does not hold", foreign},
		{"plain JSON", []string{`1.{id:x,user:{username:dana}}`}},
		{"empty", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := s.browser()
			setSession(b, tt.chunks)
			resp, body := b.call(http.MethodGet, "/auth/session", "", true)
			if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
				t.Fatalf("session: %s %s", resp.Status, body)
			}
			if len(b.snapshot()) != 0 {
				t.Fatalf("bad session cookies were not cleared: %v", b.snapshot())
			}
			setSession(b, tt.chunks)
			resp, body = b.call(http.MethodPost, getMe, "{}", true)
			if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
				t.Fatalf("API call: %s %s", resp.Status, body)
			}
		})
	}
	if len(s.up.calls()) != 0 {
		t.Fatal("a tampered session reached the services")
	}

	// Rotation: a BFF with the new key first and the old one kept opens old cookies, and
	// reseals them with the new key when it next writes them.
	rotated := s.rebuild(t, []cookie.Key{{ID: "k2", Secret: bytes.Repeat([]byte{2}, cookie.KeySize)}, s.keys[0]})
	b := rotated.browser()
	setSession(b, a)
	if resp, body := b.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"alice"`) {
		t.Fatalf("old-key cookie after rotation: %s %s", resp.Status, body)
	}
}

// rebuild returns a second BFF sharing s's IdP and upstream, sealing with keys.
func (s *stack) rebuild(t *testing.T, keys []cookie.Key) *stack {
	t.Helper()
	return newStackWith(t, s, keys)
}

func TestCSRFAndFetchMetadata(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	signedIn := s.browser()
	signedIn.signIn("dana", "/")
	routes := []struct{ method, path string }{
		{http.MethodGet, "/auth/session"},
		{http.MethodPost, "/auth/session"},
		{http.MethodPost, "/auth/logout"},
		{http.MethodGet, "/auth/logout"},
		{http.MethodGet, getMe + "?connect=v1&encoding=json&message=%7B%7D"},
		{http.MethodPost, getMe},
		{http.MethodPut, getMe},
		{http.MethodPost, "/api/portico.inference.v1.InferenceService/ConverseStream"},
		{http.MethodPost, "/api/portico.admin.v1.AdminService/ListUsage"},
	}
	variants := []struct {
		name   string
		header func(h http.Header)
	}{
		{"no X-CSRF", func(h http.Header) { h.Del("X-CSRF") }},
		{"X-CSRF: 0", func(h http.Header) { h.Set("X-CSRF", "0") }},
		{"two X-CSRF", func(h http.Header) { h.Add("X-CSRF", "1") }},
		{"cross-site Sec-Fetch-Site", func(h http.Header) { h.Set("Sec-Fetch-Site", "cross-site") }},
		{"same-site Sec-Fetch-Site from a sibling", func(h http.Header) {
			h.Set("Sec-Fetch-Site", "same-site")
			h.Set("Origin", "https://evil.portico.example")
		}},
		{"Sec-Fetch-Site none", func(h http.Header) { h.Set("Sec-Fetch-Site", "none") }},
		{"foreign Origin", func(h http.Header) { h.Set("Origin", "https://evil.example") }},
		{"null Origin", func(h http.Header) { h.Set("Origin", "null") }},
	}
	for _, rt := range routes {
		for _, v := range variants {
			t.Run(rt.method+" "+rt.path+" "+v.name, func(t *testing.T) {
				t.Parallel()
				b := s.browser()
				b.restore(signedIn.snapshot())
				req := b.request(context.Background(), rt.method, rt.path, strings.NewReader("{}"), true)
				v.header(req.Header)
				resp := b.do(req)
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden || connectError(t, string(body)) != "permission_denied" {
					t.Fatalf("%s", resp.Status)
				}
			})
		}
	}
	t.Cleanup(func() {
		if n := len(s.up.calls()); n != 0 {
			t.Errorf("%d refused calls reached the services", n)
		}
	})
}

func TestAPIRefusals(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{maxBody: 1024})
	signedIn := s.browser()
	signedIn.signIn("alice", "/")
	big := strings.Repeat("x", 2048)
	tests := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		anonymous  bool
		wantStatus int
		wantCode   string
	}{
		{"unknown method of a known service", http.MethodPost, "/api/portico.identity.v1.IdentityService/DeleteEverything", nil, false, http.StatusNotFound, "not_found"},
		{"unknown service", http.MethodPost, "/api/portico.secret.v1.SecretService/Get", nil, false, http.StatusNotFound, "not_found"},
		{"gRPC health is not for browsers", http.MethodPost, "/api/grpc.health.v1.Health/Check", nil, false, http.StatusNotFound, "not_found"},
		{"reflection is not for browsers", http.MethodPost, "/api/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", nil, false, http.StatusNotFound, "not_found"},
		{"extra path segment", http.MethodPost, getMe + "/x", nil, false, http.StatusNotFound, "not_found"},
		{"double slash", http.MethodPost, "/api//portico.identity.v1.IdentityService/GetMe", nil, false, http.StatusNotFound, "not_found"},
		{"service root", http.MethodPost, "/api/portico.identity.v1.IdentityService/", nil, false, http.StatusNotFound, "not_found"},
		{"unknown procedure, anonymous", http.MethodPost, "/api/x.Y/Z", nil, true, http.StatusNotFound, "not_found"},
		{"anonymous", http.MethodPost, getMe, nil, true, http.StatusUnauthorized, "unauthenticated"},
		{"oversize body with Content-Length", http.MethodPost, "/api/portico.inference.v1.InferenceService/Converse", strings.NewReader(big), false, http.StatusTooManyRequests, "resource_exhausted"},
		{"oversize chunked body", http.MethodPost, "/api/portico.inference.v1.InferenceService/Converse", io.MultiReader(strings.NewReader(big)), false, http.StatusTooManyRequests, "resource_exhausted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := s.browser()
			if !tt.anonymous {
				b.restore(signedIn.snapshot())
			}
			body := tt.body
			if body == nil {
				body = strings.NewReader("{}")
			}
			resp := b.do(b.request(context.Background(), tt.method, tt.path, body, true))
			data, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || connectError(t, string(data)) != tt.wantCode {
				t.Fatalf("%s %s", resp.Status, data)
			}
		})
	}
	t.Cleanup(func() {
		// Every refusal, oversize bodies included, happens before the services are called.
		if n := len(s.up.calls()); n != 0 {
			t.Errorf("%d refused calls reached the services", n)
		}
	})
}

func TestSignInEndsEarlierSession(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"cookie", "memory"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{sessionStore: store})
			// An attacker signs in as bob and plants bob's session cookie in the victim's
			// browser, keeping a copy.
			attacker := s.browser()
			attacker.signIn("bob", "/")
			planted := attacker.snapshot()
			victim := s.browser()
			victim.restore(planted)
			victim.signIn("alice", "/")

			if resp, body := victim.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"alice"`) {
				t.Fatalf("victim session: %s %s", resp.Status, body)
			}
			for name, value := range victim.snapshot() {
				if planted[name] == value {
					t.Fatalf("cookie %s kept the planted value", name)
				}
			}
			attacker.restore(planted)
			resp, body := attacker.call(http.MethodGet, "/auth/session", "", true)
			if strings.Contains(body, "alice") {
				t.Fatal("the planted cookie became alice's session")
			}
			if store == "memory" && resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("server-side mode: the replaced session still works: %s", resp.Status)
			}
		})
	}
}
