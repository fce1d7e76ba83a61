package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// Browser is a minimal browser for the BFF: it keeps the BFF's cookies (whatever their
// Secure attribute, as a browser does on a trustworthy loopback origin) and sends the
// headers the SPA sends on API calls.
type Browser struct {
	// Origin is the BFF's public origin, such as http://127.0.0.1:34567.
	Origin string
	// Client sends the requests; redirects are never followed.
	Client *http.Client

	mu      sync.Mutex
	cookies map[string]string
}

// NewBrowser returns a Browser for the BFF at origin using transport.
func NewBrowser(origin string, transport http.RoundTripper) *Browser {
	return &Browser{
		Origin: origin,
		Client: &http.Client{
			Transport:     transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		cookies: map[string]string{},
	}
}

// SignIn signs username in through the BFF's /auth/login, the dev IdP's login form (password
// devidp.DevPassword) and the BFF's /auth/callback, keeping the session cookies.
func (b *Browser) SignIn(ctx context.Context, username string) error {
	ans, err := b.get(ctx, b.Origin+"/auth/login?returnTo=%2F")
	if err != nil {
		return fmt.Errorf("sign-in: login: %w", err)
	}
	if ans.statusCode != http.StatusFound {
		return fmt.Errorf("sign-in: login: %s", ans.status)
	}
	loc, err := devidptest.TryLogin(ctx, &http.Client{Transport: b.Client.Transport}, ans.location, username, devidp.DevPassword)
	if err != nil {
		return fmt.Errorf("sign-in: IdP form: %w", err)
	}
	ans, err = b.get(ctx, b.Origin+"/auth/callback?"+loc.RawQuery)
	if err != nil {
		return fmt.Errorf("sign-in: callback: %w", err)
	}
	if ans.statusCode != http.StatusFound && ans.statusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in: callback: %s", ans.status)
	}
	return nil
}

// answer is what SignIn needs of a response whose body get has read and closed.
type answer struct {
	status     string
	statusCode int
	location   string
}

func (b *Browser) get(ctx context.Context, u string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	resp, err := b.RoundTrip(req)
	if err != nil {
		return answer{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return answer{status: resp.Status, statusCode: resp.StatusCode, location: resp.Header.Get("Location")}, nil
}

// RoundTrip sends req with the browser's cookies and, for /api/ paths, the SPA's headers
// (X-CSRF, same-origin Fetch Metadata, Origin), and keeps the cookies of the answer. A
// Browser is therefore an http.RoundTripper for Connect clients based at Origin + "/api".
func (b *Browser) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	b.mu.Lock()
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value}) //nolint:gosec // G124: a request's Cookie header carries only name=value; Secure, HttpOnly and SameSite are Set-Cookie attributes
	}
	b.mu.Unlock()
	req.Header.Set("User-Agent", "portico-bench/1.0")
	if u, err := url.Parse(b.Origin); err == nil && len(req.URL.Path) > 4 && req.URL.Path[:5] == "/api/" && req.URL.Host == u.Host {
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", b.Origin)
	}
	resp, err := b.Client.Transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if cs := resp.Cookies(); len(cs) > 0 {
		b.mu.Lock()
		for _, c := range cs {
			if c.MaxAge < 0 {
				delete(b.cookies, c.Name)
			} else {
				b.cookies[c.Name] = c.Value
			}
		}
		b.mu.Unlock()
	}
	return resp, nil
}

// HTTPClient returns a client that sends every request through the browser.
func (b *Browser) HTTPClient() *http.Client { return &http.Client{Transport: b} }
