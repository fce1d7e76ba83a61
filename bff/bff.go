// Package bff assembles Portico's backend-for-frontend: the OIDC sign-in flow under /auth/,
// the guarded Connect proxy under /api/, the SPA everywhere else, and /healthz, behind the
// security headers.
package bff

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/headers"
	"github.com/portico-dev/portico/bff/oidcflow"
	"github.com/portico-dev/portico/bff/proxy"
	"github.com/portico-dev/portico/bff/requestid"
	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/spa"
)

// SessionCookieName is the name of the session cookie (and the prefix of its chunks).
const SessionCookieName = "__Host-portico-session"

// An Option changes how New builds the BFF (mostly for tests).
type Option func(*options)

type options struct {
	logger    *slog.Logger
	idpClient *http.Client
	transport http.RoundTripper
	now       func() time.Time
	store     session.Store
	aws       *aws.Config
	chunkSize int
}

// WithLogger sets the structured logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithIdPClient sets the HTTP client that calls the OpenID provider.
func WithIdPClient(c *http.Client) Option { return func(o *options) { o.idpClient = c } }

// WithTransport sets the transport that forwards API calls to the services.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithStore keeps sessions server-side in store (overriding cfg.SessionStore).
func WithStore(s session.Store) Option { return func(o *options) { o.store = s } }

// WithSessionChunkSize sets the largest session cookie chunk (default
// cookie.DefaultChunkSize); tests use a small one to exercise chunked sessions.
func WithSessionChunkSize(n int) Option { return func(o *options) { o.chunkSize = n } }

// BFF is the backend-for-frontend's HTTP handler.
type BFF struct {
	handler http.Handler
	// Flow is the sign-in flow (exposed for tests and embedding).
	Flow *oidcflow.Flow
	// closeStore releases the session store New opened.
	closeStore func() error
}

// New builds the BFF from cfg. It does not contact the provider or the services; a
// "sqlite:<path>" session store opens (creating) its file. Close releases it.
func New(cfg *config.Config, opts ...Option) (_ *BFF, err error) {
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	// Every line logged with a request's context names the request's id.
	o.logger = slog.New(requestid.LogHandler(o.logger.Handler()))
	codec, err := cookie.NewCodec(cfg.CookieKeys...)
	if err != nil {
		return nil, fmt.Errorf("bff: %w", err)
	}
	store, closeStore := o.store, func() error { return nil }
	if store == nil {
		// No caller's context reaches New; opening reads only local files and settings.
		store, closeStore, err = openSessionStore(context.Background(), cfg.SessionStore, codec, o.aws, o.now)
		if err != nil {
			return nil, fmt.Errorf("bff: session store: %w", err)
		}
		defer func() {
			if err != nil {
				_ = closeStore()
			}
		}()
	}
	sessions := session.NewManager(
		&cookie.Jar{Codec: codec, Name: SessionCookieName, SameSite: http.SameSiteStrictMode, ChunkSize: o.chunkSize},
		session.Options{Store: store, IdleTimeout: cfg.SessionIdleTimeout, Now: o.now},
	)
	flow, err := oidcflow.New(oidcflow.Config{
		Issuer:               cfg.Issuer,
		ClientID:             cfg.ClientID,
		ClientSecret:         cfg.ClientSecret,
		PublicURL:            cfg.PublicURL,
		IdentityProvider:     cfg.IdentityProvider,
		BreakGlassGroup:      cfg.BreakGlassGroup,
		AllowedTenants:       cfg.AllowedTenants,
		Scopes:               cfg.Scopes,
		Sessions:             sessions,
		LoginCodec:           codec,
		HTTPClient:           o.idpClient,
		MaxSessionLifetime:   cfg.SessionMaxLifetime,
		RefreshTokenLifetime: cfg.RefreshTokenTTL,
		Logger:               o.logger,
		Now:                  o.now,
	})
	if err != nil {
		return nil, fmt.Errorf("bff: %w", err)
	}
	allow, err := proxy.DefaultAllowlist()
	if err != nil {
		return nil, fmt.Errorf("bff: %w", err)
	}
	guard := headers.NewGuard(cfg.PublicURL, cfg.AllowedOrigins...)
	api, err := proxy.New(proxy.Config{
		Upstream:  cfg.ServicesURL,
		Transport: o.transport,
		Allowlist: allow,
		Guard:     guard,
		Authorize: func(w http.ResponseWriter, r *http.Request) (string, error) {
			s, err := flow.Authorize(w, r)
			if err != nil {
				return "", err
			}
			return s.AccessToken, nil
		},
		MaxBodyBytes:       cfg.APIMaxBodyBytes,
		Timeout:            cfg.APITimeout,
		Logger:             o.logger,
		TrustViewerAddress: cfg.TrustViewerAddress,
	})
	if err != nil {
		return nil, fmt.Errorf("bff: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /auth/login", flow.Login)
	mux.HandleFunc("GET /auth/callback", flow.Callback)
	mux.HandleFunc("GET "+oidcflow.SignedOutPath, flow.SignedOut)
	// The CSRF guard runs before the method check: every method is refused without it.
	mux.Handle("/auth/session", guarded(guard, only(http.MethodGet, flow.Session)))
	mux.Handle("/auth/logout", guarded(guard, only(http.MethodPost, flow.Logout)))
	mux.HandleFunc("/auth/", func(w http.ResponseWriter, r *http.Request) {
		oidcflow.WriteError(w, r, errNotFound(r))
	})
	mux.Handle("/", spa.New(os.DirFS(cfg.SPADir)))

	var formActions []string
	if u, err := url.Parse(cfg.Issuer); err == nil {
		formActions = append(formActions, u.Scheme+"://"+u.Host)
	}
	// /api/ bypasses the mux, whose path cleaning would answer odd procedure paths with
	// redirects: the proxy's allowlist refuses them exactly.
	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, proxy.Prefix+"/") {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	h := headers.Security(headers.SecurityConfig{HSTS: cfg.HTTPS(), FormActions: formActions})(routes)
	return &BFF{handler: logRequests(o.logger, h), Flow: flow, closeStore: closeStore}, nil
}

// ServeHTTP implements http.Handler.
func (b *BFF) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.handler.ServeHTTP(w, r) }

func guarded(g *headers.Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			oidcflow.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func only(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			oidcflow.WriteError(w, r, errMethod(r))
			return
		}
		h(w, r)
	})
}

// statusRecorder remembers the status for the access log and passes Flush through, so
// streams keep streaming.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests gives every request its own id (whatever X-Request-Id the browser sent is
// ignored), returns it as X-Request-Id and puts it in the request's context, where the
// proxy forwards it and the logger adds it to every line; and it logs one line per request:
// method, path (never the query, which may carry codes), status and duration.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestid.New()
		w.Header().Set(requestid.Header, id)
		r = r.WithContext(requestid.NewContext(r.Context(), id))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/healthz" {
			return
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// Close releases the session store New opened (a SQLite file); other stores need nothing.
func (b *BFF) Close() error {
	if err := b.closeStore(); err != nil {
		return fmt.Errorf("bff: close session store: %w", err)
	}
	return nil
}
