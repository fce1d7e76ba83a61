package bff_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// upstream is a fake services server (h2c and HTTP/1.1) that records what reaches it.
type upstream struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	seen    []http.Header
	release chan struct{} // closed to let the stream send its second chunk
	gone    chan struct{} // closed when the stream sees its client go away
}

func startUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{t: t, release: make(chan struct{}), gone: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/portico.identity.v1.IdentityService/GetMe", func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "upstream=1")
		_, _ = io.WriteString(w, `{"principal":{"username":"`+claim(r.Header.Get("Authorization"), "username")+`"}}`)
	})
	mux.HandleFunc("/portico.inference.v1.InferenceService/ConverseStream", func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		w.Header().Set("Content-Type", "application/connect+json")
		_, _ = io.WriteString(w, "chunk-1;")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-u.release:
			_, _ = io.WriteString(w, "chunk-2;")
		case <-r.Context().Done():
			close(u.gone)
		}
	})
	// InvokeEndpointStream sends the number of chunks in ?n=, each one its send time in
	// Unix nanoseconds and a newline, flushed one by one and ?gap= apart (for the chunk-latency benchmark).
	mux.HandleFunc("/portico.inference.v1.InferenceService/InvokeEndpointStream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		gap, _ := time.ParseDuration(r.URL.Query().Get("gap"))
		w.Header().Set("Content-Type", "application/connect+json")
		for i := range n {
			if i > 0 && gap > 0 {
				time.Sleep(gap) // pacing like a model's tokens, not synchronisation
			}
			_, _ = io.WriteString(w, strconv.FormatInt(time.Now().UnixNano(), 10)+"\n")
			if http.NewResponseController(w).Flush() != nil {
				return
			}
		}
	})
	// InvokeEndpoint answers before reading the request body, then reports its size: a
	// full-duplex exchange, as a Connect stream can be.
	mux.HandleFunc("/portico.inference.v1.InferenceService/InvokeEndpoint", func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		w.Header().Set("Content-Type", "application/connect+json")
		_, _ = io.WriteString(w, "ready;")
		_ = http.NewResponseController(w).Flush()
		n, err := io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "got="+strconv.FormatInt(n, 10)+";")
		if err != nil {
			_, _ = io.WriteString(w, "err="+err.Error()+";")
		}
	})
	mux.HandleFunc("/portico.inference.v1.InferenceService/Converse", func(w http.ResponseWriter, r *http.Request) {
		u.record(r)
		_, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	t.Cleanup(ts.Close)
	u.srv = ts
	return u
}

func (u *upstream) record(r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, r.Header.Clone())
}

func (u *upstream) calls() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.seen...)
}

// claim decodes one claim of a Bearer JWT without verifying it (the services verify).
func claim(authz, name string) string {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	s, _ := claims[name].(string)
	return s
}

// clock is the BFF's clock: real time plus an offset the test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// countingTransport counts refresh-token grants reaching the provider.
type countingTransport struct {
	refreshes atomic.Int32
	revokes   atomic.Int32
	// afterRefresh, when set, runs once the provider has answered a refresh grant and
	// before the BFF sees the answer.
	afterRefresh atomic.Pointer[func()]
	// rewrite, when set, may replace the provider's answer before the BFF sees it: the
	// shape of another provider, built on the dev IdP's real answers.
	rewrite atomic.Pointer[func(*http.Request, *http.Response) *http.Response]
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	refresh := false
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(body, []byte("grant_type=refresh_token")) {
			c.refreshes.Add(1)
			refresh = true
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if strings.HasSuffix(r.URL.Path, "/oauth2/revoke") {
		c.revokes.Add(1)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if hook := c.afterRefresh.Load(); refresh && hook != nil && err == nil {
		(*hook)()
	}
	if rw := c.rewrite.Load(); rw != nil && err == nil {
		resp = (*rw)(r, resp)
	}
	return resp, err
}

// stack is a BFF wired to a real dev IdP and a fake upstream.
type stack struct {
	t      testing.TB
	idp    *devidptest.IdP
	up     *upstream
	bff    *httptest.Server
	url    string
	clock  *clock
	idpRT  *countingTransport
	keys   []cookie.Key
	spaDir string
	// chunkSize is the session cookie's chunk size (bff.WithSessionChunkSize); zero is the
	// default.
	chunkSize int
}

type stackOptions struct {
	idpOpts      []devidp.Option
	sessionStore string
	// store, when set, opens the server-side session store (overriding sessionStore) with
	// the BFF's clock and cookie codec.
	store        func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store
	keys         []cookie.Key
	maxBody      int64
	spa          bool
	refreshTTL   time.Duration
	identityProv string
	scopes       []string
	breakGlass   string
	tenants      []string
	// chunkSize, when set, splits the session cookie into chunks of this size (sessions of
	// the dev IdP fit one default chunk).
	chunkSize int
	// issuer, when set, is the BFF's issuer given the IdP (an Entra multi-tenant alias).
	issuer func(idp *devidptest.IdP) string
}

func newStack(t testing.TB, so stackOptions) *stack {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + ts.Listener.Addr().String()
	idp := devidptest.Start(t, append([]devidp.Option{
		devidp.WithRedirectURIs(publicURL + "/auth/callback"),
		devidp.WithLogoutURIs(publicURL+"/", publicURL+"/auth/signed-out"),
	}, so.idpOpts...)...)
	up := startUpstream(t)
	keys := so.keys
	if keys == nil {
		keys = []cookie.Key{{ID: "k1", Secret: bytes.Repeat([]byte{1}, cookie.KeySize)}}
	}
	spaDir := t.TempDir()
	if so.spa {
		writeSPA(t, spaDir)
	}
	servicesURL, _ := url.Parse(up.srv.URL)
	cfg := &config.Config{
		PublicURL:        publicURL,
		Issuer:           idp.Issuer(),
		ClientID:         devidp.WebClientID,
		ClientSecret:     devidp.WebClientSecret,
		CookieKeys:       keys,
		ServicesURL:      servicesURL,
		SPADir:           spaDir,
		SessionStore:     so.sessionStore,
		APIMaxBodyBytes:  so.maxBody,
		RefreshTokenTTL:  so.refreshTTL,
		IdentityProvider: so.identityProv,
		Scopes:           so.scopes,
		BreakGlassGroup:  so.breakGlass,
		AllowedTenants:   so.tenants,
	}
	if so.issuer != nil {
		cfg.Issuer = so.issuer(idp)
	}
	if cfg.SessionStore == "" {
		cfg.SessionStore = "cookie"
	}
	return build(t, ts, publicURL, idp, up, keys, spaDir, cfg, so.store, so.chunkSize)
}

// newStackWith returns a second BFF sharing base's IdP and upstream, sealing with keys.
func newStackWith(t testing.TB, base *stack, keys []cookie.Key) *stack {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	servicesURL, _ := url.Parse(base.up.srv.URL)
	cfg := &config.Config{
		PublicURL:    base.url,
		Issuer:       base.idp.Issuer(),
		ClientID:     devidp.WebClientID,
		ClientSecret: devidp.WebClientSecret,
		CookieKeys:   keys,
		ServicesURL:  servicesURL,
		SPADir:       base.spaDir,
		SessionStore: "cookie",
	}
	// Sign-in names the base's public URL as redirect_uri (the only one the IdP knows); the
	// browser helper delivers the callback to this server.
	return build(t, ts, "http://"+ts.Listener.Addr().String(), base.idp, base.up, keys, base.spaDir, cfg, nil, base.chunkSize)
}

func build(t testing.TB, ts *httptest.Server, publicURL string, idp *devidptest.IdP, up *upstream, keys []cookie.Key, spaDir string, cfg *config.Config,
	openStore func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store, chunkSize int) *stack {
	t.Helper()
	clk := &clock{}
	rt := &countingTransport{}
	opts := []bff.Option{bff.WithClock(clk.now), bff.WithIdPClient(&http.Client{Transport: rt, Timeout: 10 * time.Second})}
	if chunkSize > 0 {
		opts = append(opts, bff.WithSessionChunkSize(chunkSize))
	}
	if openStore != nil {
		codec, err := cookie.NewCodec(keys...)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, bff.WithStore(openStore(t, clk.now, codec)))
	}
	b, err := bff.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = b
	ts.Start()
	t.Cleanup(ts.Close)
	return &stack{t: t, idp: idp, up: up, bff: ts, url: publicURL, clock: clk, idpRT: rt, keys: keys, spaDir: spaDir, chunkSize: chunkSize}
}

func writeSPA(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{
		"index.html":                `<!doctype html><html><head><script src="main-ABCDEFGH.js" type="module"></script></head><body><app-root></app-root></body></html>`,
		"main-ABCDEFGH.js":          `console.log("app")`,
		"styles-QWERTY12.css":       `body{}`,
		"favicon.ico":               "icon",
		"media/font-ZXCVBNM1.woff2": "font",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// browser is a minimal cookie-keeping client. It sends every cookie it holds (Secure ones
// too: the test server is http://127.0.0.1, as Chromium accepts for localhost) and never
// follows redirects.
type browser struct {
	t       testing.TB
	s       *stack
	mu      sync.Mutex
	cookies map[string]string
	client  *http.Client
}

func (s *stack) browser() *browser {
	return &browser{t: s.t, s: s, cookies: map[string]string{}, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) snapshot() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]string, len(b.cookies))
	for k, v := range b.cookies {
		out[k] = v
	}
	return out
}

func (b *browser) restore(c map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cookies = make(map[string]string, len(c))
	for k, v := range c {
		b.cookies[k] = v
	}
}

// request builds a request to the BFF with the browser's cookies and, when api is true, the
// headers the SPA sends (X-CSRF, same-origin Fetch Metadata).
func (b *browser) request(ctx context.Context, method, path string, body io.Reader, api bool) *http.Request {
	b.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, b.s.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	b.mu.Unlock()
	req.Header.Set("User-Agent", "portico-test-browser/1.0")
	if api {
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func (b *browser) do(req *http.Request) *http.Response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.keep(resp)
	return resp
}

func (b *browser) keep(resp *http.Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
}

// reply is a response whose body has been read (into call's second result) and closed.
type reply struct{ *http.Response }

// call sends a request and returns the response and its body.
func (b *browser) call(method, path string, body string, api bool) (reply, string) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	resp := b.do(b.request(context.Background(), method, path, r, api))
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return reply{resp}, string(data)
}

// signIn signs user in through the real login form and returns the callback's response.
func (b *browser) signIn(user, returnTo string) reply {
	b.t.Helper()
	resp, _ := b.call(http.MethodGet, "/auth/login?returnTo="+url.QueryEscape(returnTo), "", false)
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("login: %s", resp.Status)
	}
	loc := devidptest.Login(b.t, b.s.idp.HTTPClient(), resp.Header.Get("Location"), user, devidp.DevPassword)
	cb, _ := b.call(http.MethodGet, "/auth/callback?"+loc.RawQuery, "", false)
	return cb
}

// connectError decodes a Connect unary error body.
func connectError(t testing.TB, body string) string {
	t.Helper()
	var e struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not a Connect error: %q", body)
	}
	return e.Code
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
