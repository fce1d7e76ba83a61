package headers

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"connectrpc.com/connect"
)

// CSRFHeader and CSRFValue are the static custom header the SPA sends on every API call and
// on the session and logout endpoints. A cross-site page cannot send it without a CORS
// preflight, which the BFF never grants.
const (
	CSRFHeader = "X-CSRF"
	CSRFValue  = "1"
)

// Errors of Guard.Check.
var (
	errCSRFHeader = errors.New("missing or wrong X-CSRF header")
	errCrossSite  = errors.New("cross-site request")
	errOrigin     = errors.New("origin not allowed")
)

// Guard refuses requests that may come from another site. Its checks do not depend on the
// method: Connect sends side-effect-free RPCs as GET.
type Guard struct {
	origins []string
}

// NewGuard returns a Guard that trusts publicOrigin (scheme://host[:port]) and the extra
// allowed origins.
func NewGuard(publicOrigin string, allowed ...string) *Guard {
	g := &Guard{origins: []string{strings.TrimSuffix(publicOrigin, "/")}}
	for _, o := range allowed {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" {
			g.origins = append(g.origins, o)
		}
	}
	return g
}

// Check returns a connect PermissionDenied error when r lacks the CSRF header, carries an
// Origin that is not allowed, or is marked cross-site (or same-site from another origin) by
// Fetch Metadata.
func (g *Guard) Check(r *http.Request) error {
	if vals := r.Header.Values(CSRFHeader); len(vals) != 1 || vals[0] != CSRFValue {
		return connect.NewError(connect.CodePermissionDenied, errCSRFHeader)
	}
	origin := r.Header.Get("Origin")
	originOK := origin != "" && slices.Contains(g.origins, origin)
	if origin != "" && !originOK {
		return connect.NewError(connect.CodePermissionDenied, errOrigin)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin":
	case "same-site", "cross-site":
		if !originOK {
			return connect.NewError(connect.CodePermissionDenied, errCrossSite)
		}
	default: // "none" (typed into the address bar) and unknown values
		return connect.NewError(connect.CodePermissionDenied, errCrossSite)
	}
	return nil
}
