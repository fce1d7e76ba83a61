package bff_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestSPAAndHeadersThroughTheBFF(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{spa: true})
	b := s.browser()
	tests := []struct {
		method, path string
		wantStatus   int
		wantCache    string
		wantBody     string
	}{
		{http.MethodGet, "/", 200, "no-cache", "<app-root>"},
		{http.MethodGet, "/chat/7", 200, "no-cache", "<app-root>"},
		{http.MethodGet, "/main-ABCDEFGH.js", 200, "public, max-age=31536000, immutable", "console.log"},
		{http.MethodGet, "/media/font-ZXCVBNM1.woff2", 200, "public, max-age=31536000, immutable", "font"},
		{http.MethodGet, "/missing-ABCDEFGH.js", 404, "no-cache", ""},
		{http.MethodGet, "/healthz", 200, "", "ok"},
		{http.MethodGet, "/auth/nothing", 404, "no-store", "not_found"},
		{http.MethodGet, "/api", 200, "no-cache", "<app-root>"},
	}
	for _, tt := range tests {
		resp, body := b.call(tt.method, tt.path, "", false)
		if resp.StatusCode != tt.wantStatus || resp.Header.Get("Cache-Control") != tt.wantCache || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s %s: %s %q %.60q", tt.method, tt.path, resp.Status, resp.Header.Get("Cache-Control"), body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "form-action 'self' "+s.idp.Issuer()) {
			t.Errorf("%s: CSP %q", tt.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: nosniff %q, HSTS %q (the test BFF is http)", tt.path, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Strict-Transport-Security"))
		}
	}
}
