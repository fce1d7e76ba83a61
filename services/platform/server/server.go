package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"

	"github.com/portico-dev/portico/services/platform/telemetry"
)

// Server is the Portico RPC server: a handler tree plus the settings of its http.Server.
type Server struct {
	cfg         config
	mux         *http.ServeMux // unauthenticated routes
	services    *http.ServeMux // mounted services, behind cfg.auth
	checker     *grpchealth.StaticChecker
	handlerOpts []connect.HandlerOption
	handler     http.Handler
	draining    atomic.Bool

	mu    sync.Mutex
	names []string
}

// New returns a server with health, reflection and /healthz mounted and no services yet.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		readHeaderTimeout: DefaultReadHeaderTimeout,
		idleTimeout:       DefaultIdleTimeout,
		rpcTimeout:        DefaultRPCTimeout,
		maxRPCTimeout:     DefaultMaxRPCTimeout,
		maxMessageBytes:   DefaultMaxMessageBytes,
		drainTimeout:      DefaultDrainTimeout,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.auth == nil {
		return nil, errors.New("server: no authentication middleware (use WithAuth)")
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.providers == nil {
		cfg.providers = telemetry.Noop()
	}
	otel, err := otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(cfg.providers.TracerProvider),
		otelconnect.WithMeterProvider(cfg.providers.MeterProvider),
		otelconnect.WithPropagator(cfg.providers.Propagator),
	)
	if err != nil {
		return nil, fmt.Errorf("server: otelconnect: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		mux:      http.NewServeMux(),
		services: http.NewServeMux(),
		checker:  grpchealth.NewStaticChecker(),
	}
	s.handlerOpts = append([]connect.HandlerOption{
		connect.WithInterceptors(otel, rpcInfoInterceptor{}, deadlineInterceptor{def: cfg.rpcTimeout, max: cfg.maxRPCTimeout}),
		connect.WithRecover(s.recoverRPC),
		connect.WithReadMaxBytes(cfg.maxMessageBytes),
		connect.WithSendMaxBytes(cfg.maxMessageBytes),
		fastGzip(),
		connect.WithCompressMinBytes(compressMinBytes),
	}, cfg.handlerOptions...)

	s.mux.HandleFunc("GET /healthz", s.healthz)
	reflector := grpcreflect.NewReflector(s)
	s.mux.Handle(grpcreflect.NewHandlerV1(reflector, s.handlerOpts...))
	s.mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, s.handlerOpts...))
	s.mux.Handle(grpchealth.NewHandler(s.checker, s.handlerOpts...))
	s.mux.Handle("/", cfg.auth(s.adoptRequestID(s.services)))
	s.handler = s.logAndRecover(s.mux)
	return s, nil
}

// HandlerOptions returns the connect handler options every mounted service must be built
// with (interceptors, limits, recovery), followed by those passed to WithHandlerOptions.
func (s *Server) HandlerOptions() []connect.HandlerOption {
	return slices.Clone(s.handlerOpts)
}

// Mount adds a service behind the authentication middleware, listed by reflection and
// reported SERVING by health. It takes the two results of a generated
// New<Service>Handler constructor, path being "/<package>.<Service>/".
func (s *Server) Mount(path string, h http.Handler) {
	name := strings.Trim(path, "/")
	s.services.Handle(path, h)
	s.checker.SetStatus(name, grpchealth.StatusServing)
	s.mu.Lock()
	s.names = append(s.names, name)
	s.mu.Unlock()
}

// HandleHTTP serves a plain HTTP handler at pattern (an http.ServeMux pattern such as
// "/v1/"), outside the authentication middleware, reflection and health: the handler
// authenticates on its own and answers in its own shape (the OpenAI-compatible endpoint).
// Request ids and the access log apply as to every route.
func (s *Server) HandleHTTP(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// Names returns the fully-qualified names of the mounted services, plus health and
// reflection (grpcreflect.Namer: these are what reflection lists).
func (s *Server) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Clone(s.names),
		grpchealth.HealthV1ServiceName, grpcreflect.ReflectV1ServiceName, grpcreflect.ReflectV1AlphaServiceName)
}

func (s *Server) mounted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// Handler returns the whole handler tree, for a standalone server, Lambda or tests.
func (s *Server) Handler() http.Handler { return s.handler }

// MaxConcurrentStreams is how many streams one HTTP/2 connection may carry at once (Go's
// default is 250). The BFF multiplexes every browser's calls over its connections to the
// services; past the limit its transport dials more connections, and in a burst of 500
// streams it dialled over a hundred, some requests retrying after a one-second back-off.
const MaxConcurrentStreams = 1000

// HTTPServer returns an http.Server for the handler tree, speaking HTTP/1.1 and h2c.
func (s *Server) HTTPServer() *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           s.handler,
		Protocols:         &protocols,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams},
		ReadHeaderTimeout: s.cfg.readHeaderTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe listens on addr and serves until ctx is done, then drains (see Serve).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done (main cancels it on SIGTERM or SIGINT), then shuts
// down gracefully: /healthz and gRPC health turn NOT_SERVING, the listener closes, and
// in-flight RPCs get the drain timeout to finish before their contexts are cancelled and
// their connections closed. It returns nil after a shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs := s.HTTPServer()
	hs.BaseContext = func(net.Listener) context.Context { return base }
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.cfg.logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "services", s.Names())
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.setDraining()
	s.cfg.logger.Info("draining", "timeout", s.cfg.drainTimeout.String())
	start := time.Now()
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.drainTimeout)
	defer cancel()
	if err := hs.Shutdown(drainCtx); err != nil {
		s.cfg.logger.Warn("drain timeout passed; cancelling in-flight requests", "err", err)
		cancelBase()
		_ = hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	s.cfg.logger.Info("stopped", "drain", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func (s *Server) setDraining() {
	s.draining.Store(true)
	for _, name := range s.mounted() {
		s.checker.SetStatus(name, grpchealth.StatusNotServing)
	}
	s.checker.SetStatus("", grpchealth.StatusNotServing)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "draining\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// recoverRPC turns a panic in an RPC handler into Internal, logging the stack.
func (s *Server) recoverRPC(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
	s.cfg.logger.ErrorContext(ctx, "panic in RPC handler",
		"procedure", spec.Procedure, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}
