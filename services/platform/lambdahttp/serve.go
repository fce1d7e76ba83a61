package lambdahttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// Environment variables that select and configure Lambda mode. A command's configuration
// reads them and builds a Config (ParseEvent checks PORTICO_LAMBDA_EVENT's value).
const (
	RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"
	EventEnv      = "PORTICO_LAMBDA_EVENT"
)

// Config says whether and how the process runs on Lambda.
type Config struct {
	// RuntimeAPI is the host:port of the Lambda Runtime API; empty when not on Lambda.
	RuntimeAPI string
	// Event is the shape of the events the function receives.
	Event Event
}

// OnLambda reports whether the process runs on Lambda.
func (c Config) OnLambda() bool { return c.RuntimeAPI != "" }

// Option configures Serve.
type Option func(*options)

type options struct {
	logger      *slog.Logger
	afterInvoke func(context.Context)
	margin      time.Duration
}

// DefaultDeadlineMargin is how long before Lambda's deadline a request's context ends.
const DefaultDeadlineMargin = 500 * time.Millisecond

// WithDeadlineMargin ends each request's context this long before the invocation deadline
// (default DefaultDeadlineMargin), so that a handler has time to finish its response and
// its bookkeeping (such as settling a quota reservation) before Lambda stops the process.
// When less time than the margin remains, the context ends at the deadline itself.
func WithDeadlineMargin(d time.Duration) Option { return func(o *options) { o.margin = d } }

// WithLogger sets the logger for invocation failures (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithAfterInvoke runs f after each invocation's response is complete, before the next
// invocation is fetched (Lambda may freeze the process then): flush telemetry here.
func WithAfterInvoke(f func(context.Context)) Option { return func(o *options) { o.afterInvoke = f } }

// Serve fetches invocations from the Runtime API and serves each with h until ctx is done
// or the Runtime API fails. It returns nil when ctx ends.
func Serve(ctx context.Context, cfg Config, h http.Handler, opts ...Option) error {
	if !cfg.OnLambda() {
		return fmt.Errorf("lambdahttp: %s is not set", RuntimeAPIEnv)
	}
	o := options{logger: slog.New(slog.DiscardHandler), margin: DefaultDeadlineMargin}
	for _, opt := range opts {
		opt(&o)
	}
	c := newRuntimeClient(cfg.RuntimeAPI)
	for {
		inv, err := c.next(ctx)
		switch {
		case ctx.Err() != nil:
			return nil //nolint:nilerr // ctx ended: a clean shutdown, so the failed poll is expected
		case err != nil:
			return err
		}
		if err := invoke(ctx, c, cfg.Event, h, inv, o); err != nil {
			o.logger.ErrorContext(ctx, "lambda invocation failed", "lambda_request_id", inv.RequestID, "err", err)
		}
		if o.afterInvoke != nil {
			o.afterInvoke(ctx)
		}
	}
}

// ReportInitError tells Lambda that initialisation failed (call it, then exit non-zero).
func ReportInitError(ctx context.Context, cfg Config, err error) error {
	if !cfg.OnLambda() {
		return nil
	}
	return newRuntimeClient(cfg.RuntimeAPI).initError(ctx, "Runtime.InitError", err.Error())
}

// invoke serves one invocation.
func invoke(ctx context.Context, c *runtimeClient, event Event, h http.Handler, inv *Invocation, o options) error {
	log := o.logger.With("lambda_request_id", inv.RequestID)
	deadline := inv.Deadline
	if early := deadline.Add(-o.margin); time.Now().Before(early) {
		deadline = early
	}
	reqCtx, cancel := context.WithDeadline(context.WithValue(ctx, invocationKey{}, inv), deadline)
	defer cancel()
	req, err := event.newRequest(reqCtx, inv.payload)
	if err != nil {
		log.ErrorContext(ctx, "bad lambda event", "event", string(event), "err", err)
		return c.fail(ctx, inv.RequestID, "Runtime.InvalidEvent", err.Error())
	}
	if req.Header.Get("X-Request-Id") == "" {
		req.Header.Set("X-Request-Id", inv.RequestID)
	}

	pr, pw := io.Pipe()
	trailer := http.Header{trailerErrorType: nil, trailerErrorBody: nil}
	posted := make(chan error, 1)
	go func() {
		// The POST outlives the handler's deadline by design: it carries what was produced.
		err := c.stream(context.WithoutCancel(ctx), inv.RequestID, pr, trailer)
		if err != nil {
			cancel() // the response cannot reach the caller any more: stop the handler
			_ = pr.CloseWithError(err)
		}
		posted <- err
	}()

	w := newResponseWriter(event, pw)
	serveRecovering(ctx, h, w, req, trailer, log)
	if dropped, err := w.finish(); err != nil {
		log.WarnContext(ctx, "lambda response incomplete", "err", err)
	} else if dropped > 0 {
		log.DebugContext(ctx, "HTTP trailers dropped from a streamed response", "count", dropped)
	}
	_ = pw.Close()
	return <-posted
}

// serveRecovering runs the handler. A panic before the response started becomes a 500; a
// panic mid-stream ends the stream with the Runtime API's error trailers.
func serveRecovering(ctx context.Context, h http.Handler, w *responseWriter, req *http.Request, trailer http.Header, log *slog.Logger) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		log.ErrorContext(ctx, "panic in HTTP handler", "path", req.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if w.reset() {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "internal error\n")
			return
		}
		body, _ := json.Marshal(errorPayload{ErrorMessage: "handler panicked mid-stream", ErrorType: "Runtime.HandlerPanic"})
		trailer.Set(trailerErrorType, "Runtime.HandlerPanic")
		trailer.Set(trailerErrorBody, base64.StdEncoding.EncodeToString(body))
	}()
	if isGRPC(req) {
		rejectGRPC(w)
		return
	}
	h.ServeHTTP(w, req)
}

// isGRPC reports whether req uses the gRPC protocol proper (not gRPC-Web).
func isGRPC(req *http.Request) bool {
	ct := req.Header.Get("Content-Type")
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}

// rejectGRPC answers a gRPC request with a trailers-only UNIMPLEMENTED response: gRPC needs
// HTTP/2 trailers, which Lambda integrations do not pass.
func rejectGRPC(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Grpc-Status", "12")
	w.Header().Set("Grpc-Message", "gRPC is not served on Lambda: use Connect or gRPC-Web, or gRPC against a standalone server")
	w.WriteHeader(http.StatusOK)
}
