// Package headers holds the BFF's header policies: the security headers of every response
// and the CSRF guard (a static custom header plus Fetch Metadata and Origin checks) of the
// session, logout and API routes.
package headers

import (
	"net/http"
	"strings"
)

// SecurityConfig configures Security.
type SecurityConfig struct {
	// HSTS adds Strict-Transport-Security; set it when the public URL is https.
	HSTS bool
	// FormActions are origins the pages may post forms to besides 'self' (the provider, for
	// its login form reached through a redirect).
	FormActions []string
}

// ContentSecurityPolicy returns the policy: no inline script; inline styles are allowed
// because Angular (and Angular Material) inject component styles as <style> elements at run
// time.
func ContentSecurityPolicy(formActions ...string) string {
	formAction := "form-action 'self'"
	for _, o := range formActions {
		formAction += " " + o
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"connect-src 'self'",
		"img-src 'self' data: blob:",
		"font-src 'self' data:",
		"object-src 'none'",
		"frame-ancestors 'none'",
		"base-uri 'self'",
		formAction,
	}, "; ")
}

// Security returns middleware that sets the security headers on every response.
func Security(cfg SecurityConfig) func(http.Handler) http.Handler {
	// Canonical names, so they can be assigned to the header map directly.
	fields := [][2]string{
		{"Content-Security-Policy", ContentSecurityPolicy(cfg.FormActions...)},
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
	}
	if cfg.HSTS {
		fields = append(fields, [2]string{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"})
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			// One allocation for every value instead of one per Header.Set; each field gets
			// its own one-element slice of it (capacity one, so an Add copies, never
			// overwrites the next field).
			values := make([]string, len(fields))
			for i, f := range fields {
				values[i] = f[1]
				h[f[0]] = values[i : i+1 : i+1]
			}
			next.ServeHTTP(w, r)
		})
	}
}
