package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/platform/telemetry"
)

// Defaults of the options below.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultRPCTimeout        = 5 * time.Minute
	DefaultMaxRPCTimeout     = 15 * time.Minute
	DefaultMaxMessageBytes   = 4 << 20
	DefaultDrainTimeout      = 20 * time.Second
)

// Option configures a Server.
type Option func(*config)

type config struct {
	logger            *slog.Logger
	auth              func(http.Handler) http.Handler
	providers         *telemetry.Providers
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	rpcTimeout        time.Duration
	maxRPCTimeout     time.Duration
	maxMessageBytes   int
	drainTimeout      time.Duration
	handlerOptions    []connect.HandlerOption
	trustedCaller     func(context.Context) bool
}

// WithLogger sets the logger for access logs and server events (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAuth sets the authentication middleware in front of every mounted service. It is
// required: New fails without it. Health, reflection and /healthz are never behind it.
func WithAuth(mw func(http.Handler) http.Handler) Option { return func(c *config) { c.auth = mw } }

// WithTrustedCaller sets the test of whether the caller the auth middleware verified (and
// put in the request's context) may name the request: when trusted(ctx) is true the server
// adopts the caller's well-formed X-Request-Id, else the request keeps an id of the server's
// own. The services pass principal.ClientIn(PORTICO_BFF_CLIENT_IDS...), so only the BFF's
// token is believed; the server itself knows nothing of principals. Default: trust nobody.
func WithTrustedCaller(trusted func(ctx context.Context) bool) Option {
	return func(c *config) { c.trustedCaller = trusted }
}

// WithTelemetry sets the OpenTelemetry providers (default: silent no-op providers).
func WithTelemetry(p *telemetry.Providers) Option { return func(c *config) { c.providers = p } }

// WithReadHeaderTimeout bounds the time to read a request's headers.
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(c *config) { c.readHeaderTimeout = d }
}

// WithIdleTimeout bounds how long an idle keep-alive connection stays open.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithRPCTimeout sets the deadline of an RPC whose client sent none (Connect-Timeout-Ms,
// grpc-timeout), and the longest deadline a client may ask for.
func WithRPCTimeout(def, maximum time.Duration) Option {
	return func(c *config) { c.rpcTimeout, c.maxRPCTimeout = def, maximum }
}

// WithMaxMessageBytes limits the size of one request message (decompressed) and of one
// response message; larger requests fail with ResourceExhausted.
func WithMaxMessageBytes(n int) Option { return func(c *config) { c.maxMessageBytes = n } }

// WithDrainTimeout bounds graceful shutdown: in-flight RPCs get this long to finish before
// their contexts are cancelled and their connections closed.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drainTimeout = d } }

// WithHandlerOptions appends connect handler options to HandlerOptions.
func WithHandlerOptions(opts ...connect.HandlerOption) Option {
	return func(c *config) { c.handlerOptions = append(c.handlerOptions, opts...) }
}
