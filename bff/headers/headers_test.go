package headers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, hsts := range []bool{false, true} {
		rec := httptest.NewRecorder()
		Security(SecurityConfig{HSTS: hsts, FormActions: []string{"https://auth.example"}})(http.NotFoundHandler()).
			ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self' https://auth.example", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.Split(strings.Split(csp, "script-src")[1], ";")[0], "unsafe-inline") {
			t.Errorf("CSP allows inline or eval'd script: %q", csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("Permissions-Policy") == "" || h.Get("Cross-Origin-Opener-Policy") != "same-origin" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Cross-Origin-Resource-Policy") != "same-origin" {
			t.Errorf("missing headers: %v", h)
		}
		// A handler adding to one header changes no other (the values share one array).
		for name := range h {
			h.Add(name, "added")
		}
		if got := h.Values("X-Frame-Options"); len(got) != 2 || got[0] != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("adding to the headers changed others: %v", h)
		}
		if got := h.Get("Strict-Transport-Security") != ""; got != hsts {
			t.Errorf("HSTS present = %v, want %v", got, hsts)
		}
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	g := NewGuard("https://portico.example", "https://admin.portico.example")
	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
	}{
		{"SPA fetch", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-origin"}, true},
		{"SPA POST with Origin", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-origin", "Origin": "https://portico.example"}, true},
		{"non-browser client", map[string]string{"X-CSRF": "1"}, true},
		{"allowed sibling origin", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-site", "Origin": "https://admin.portico.example"}, true},
		{"no header", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
		{"wrong value", map[string]string{"X-CSRF": "true"}, false},
		{"cross-site", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "cross-site"}, false},
		{"same-site without origin", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-site"}, false},
		{"navigation", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "none"}, false},
		{"unknown fetch site", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "bogus"}, false},
		{"foreign origin", map[string]string{"X-CSRF": "1", "Origin": "https://evil.example"}, false},
		{"origin with other port", map[string]string{"X-CSRF": "1", "Origin": "https://portico.example:8443"}, false},
		{"http origin", map[string]string{"X-CSRF": "1", "Origin": "http://portico.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/api/x", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			err := g.Check(r)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if ce := new(connect.Error); !errors.As(err, &ce) || ce.Code() != connect.CodePermissionDenied {
					t.Fatalf("Check error %v is not PermissionDenied", err)
				}
			}
		})
	}
}
