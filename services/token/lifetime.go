package token

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// keySetLifetime returns how long the keys of a JWKS response with header h, received at now,
// may be used: its freshness lifetime under RFC 9111 (Cache-Control max-age, else Expires
// less Date, each less Age) within [MinKeySetLifetime, MaxKeySetLifetime], or
// DefaultKeySetLifetime when the response has no caching headers. Whatever the headers say
// against reuse (no-store, no-cache, a duplicated or invalid max-age, an invalid or past
// Expires) counts as stale, which means the shortest lifetime: fetching more often is the safe
// side, since a removed key stops verifying sooner.
func keySetLifetime(h http.Header, now time.Time) time.Duration {
	d, ok := freshness(h, now)
	if !ok {
		return DefaultKeySetLifetime
	}
	return min(max(d, MinKeySetLifetime), MaxKeySetLifetime)
}

// freshness returns the freshness lifetime h states, and whether it states one.
func freshness(h http.Header, now time.Time) (time.Duration, bool) {
	maxAge, sawMaxAge := time.Duration(0), false
	for _, line := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(directive, "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				secs, ok := deltaSeconds(strings.Trim(strings.TrimSpace(value), `"`))
				if !ok || sawMaxAge {
					return 0, true // invalid or repeated: stale (RFC 9111 section 4.2.1)
				}
				maxAge, sawMaxAge = secs, true
			}
		}
	}
	age := time.Duration(0)
	if v := h.Get("Age"); v != "" {
		if a, ok := deltaSeconds(strings.TrimSpace(v)); ok {
			age = a
		}
	}
	if sawMaxAge {
		return maxAge - age, true
	}
	expires := h.Values("Expires")
	if len(expires) == 0 {
		return 0, false
	}
	exp, err := http.ParseTime(expires[0])
	if err != nil || len(expires) > 1 {
		return 0, true // "Expires: 0" and other invalid dates are in the past
	}
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	return exp.Sub(date) - age, true
}

// deltaSeconds parses an RFC 9111 delta-seconds value (digits only), saturating at 2^31
// seconds as section 1.2.2 asks.
func deltaSeconds(s string) (time.Duration, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > 1<<31 {
		n = 1 << 31
	}
	return time.Duration(n) * time.Second, true
}
