package server

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/telemetry"
)

// Defaults of the options below.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultRPCTimeout        = 5 * time.Minute
	DefaultMaxRPCTimeout     = 15 * time.Minute
	DefaultMaxMessageBytes   = 4 << 20
	DefaultDrainTimeout      = 20 * time.Second
	// compressMinBytes keeps small messages uncompressed: gzip costs more than it saves there.
	compressMinBytes = 1024
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
	trustedClientIDs  []string
}

// WithLogger sets the logger for access logs and server events (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAuth sets the authentication middleware in front of every mounted service. It is
// required: New fails without it. Health, reflection and /healthz are never behind it.
func WithAuth(mw func(http.Handler) http.Handler) Option { return func(c *config) { c.auth = mw } }

// WithTrustedClientIDs names the OAuth clients (the BFF's, PORTICO_BFF_CLIENT_IDS) whose
// X-Request-Id the server adopts, once the auth middleware has verified a token issued to
// one of them; every other request gets an id of the server's own. Default: none.
func WithTrustedClientIDs(ids ...string) Option {
	return func(c *config) { c.trustedClientIDs = slices.Clone(ids) }
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
