package authn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
)

// ErrUnavailable is what a TokenVerifier's error wraps when credentials cannot be checked
// right now (a store that cannot be read): the caller gets Unavailable, like token.ErrKeySet,
// so that it retries rather than dropping a valid credential.
var ErrUnavailable = errors.New("authn: credentials cannot be checked right now")

// KeyServices are the services a personal API key (principal.Principal.APIKey) may call:
// inference only. A key gets PermissionDenied anywhere else (it cannot mint keys, read
// conversations or act as an administrator).
var KeyServices = map[string]bool{"portico.inference.v1.InferenceService": true}

// TokenVerifier verifies a bearer token; *token.Verifier is one.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*principal.Principal, error)
}

// Scopes machine clients need, per service.
const (
	// ScopeIdentity lets a machine client call IdentityService.
	ScopeIdentity = "portico/identity"
	// ScopeInference lets a machine client call InferenceService.
	ScopeInference = "portico/inference"
)

// DefaultServiceScopes maps each service machine clients may call to the scope they need.
// AdminService is absent: it is for people in usage-admin groups only.
var DefaultServiceScopes = map[string]string{
	"portico.identity.v1.IdentityService":   ScopeIdentity,
	"portico.inference.v1.InferenceService": ScopeInference,
}

// Option configures the middleware.
type Option func(*middleware)

// WithServiceScopes replaces DefaultServiceScopes.
func WithServiceScopes(m map[string]string) Option {
	return func(mw *middleware) { mw.scopes = m }
}

// New returns middleware that authenticates every request with v before passing it to the
// wrapped handler. logger receives one record per refused request.
func New(v TokenVerifier, logger *slog.Logger, opts ...Option) func(http.Handler) http.Handler {
	mw := &middleware{
		verifier: v,
		logger:   logger,
		scopes:   DefaultServiceScopes,
		errW:     connect.NewErrorWriter(),
	}
	for _, o := range opts {
		o(mw)
	}
	return mw.wrap
}

type middleware struct {
	verifier TokenVerifier
	logger   *slog.Logger
	scopes   map[string]string
	errW     *connect.ErrorWriter
}

func (m *middleware) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := bearerToken(r)
		var p *principal.Principal
		if err == nil {
			p, err = m.verifier.Verify(r.Context(), raw)
		}
		if err != nil {
			m.refuse(w, r, err)
			return
		}
		if p.APIKey != "" && !KeyServices[serviceOf(r.URL.Path)] {
			m.logger.LogAttrs(r.Context(), slog.LevelWarn, "permission denied",
				slog.String("procedure", r.URL.Path), slog.String("user", p.Username), slog.String("api_key", p.APIKey),
				slog.String("reason", "an API key may call only inference"))
			_ = m.errW.Write(w, r, connect.NewError(connect.CodePermissionDenied,
				errors.New("an API key may call only InferenceService and /v1; sign in for anything else")))
			return
		}
		if p.Kind == principal.KindMachine {
			service := serviceOf(r.URL.Path)
			scope, ok := m.scopes[service]
			if !ok || !p.HasScope(scope) {
				m.logger.LogAttrs(r.Context(), slog.LevelWarn, "permission denied",
					slog.String("procedure", r.URL.Path), slog.String("client_id", p.ClientID),
					slog.String("reason", "machine client lacks the service's scope"), slog.String("scope", scope))
				_ = m.errW.Write(w, r, connect.NewError(connect.CodePermissionDenied,
					errors.New("this client may not call "+service)))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(principal.NewContext(r.Context(), p)))
	})
}

func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, err error) {
	m.logger.LogAttrs(r.Context(), slog.LevelWarn, "unauthenticated",
		slog.String("procedure", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.String("reason", err.Error()))
	if errors.Is(err, token.ErrKeySet) || errors.Is(err, ErrUnavailable) {
		_ = m.errW.Write(w, r, connect.NewError(connect.CodeUnavailable, errors.New("cannot verify tokens right now")))
		return
	}
	if errors.Is(err, token.ErrMissing) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico"`)
		_ = m.errW.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errors.New("missing bearer token")))
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="portico", error="invalid_token"`)
	_ = m.errW.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errors.New("invalid bearer token")))
}

// BearerToken returns the token of the request's single Authorization header, which must use
// the Bearer scheme (case-insensitive); token.ErrMissing when there is none. Handlers outside
// the middleware (the OpenAI-compatible endpoint) read credentials with it.
func BearerToken(r *http.Request) (string, error) { return bearerToken(r) }

func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", token.ErrMissing
	case 1:
	default:
		return "", errors.New("authn: several Authorization headers")
	}
	scheme, raw, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("authn: Authorization is not a Bearer credential")
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", token.ErrMissing
	}
	return raw, nil
}

// serviceOf returns "pkg.Service" of a ".../pkg.Service/Method" path (the last two segments,
// so that a mount prefix does not matter), or "".
func serviceOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return ""
	}
	path = path[:i]
	return path[strings.LastIndexByte(path, '/')+1:]
}
