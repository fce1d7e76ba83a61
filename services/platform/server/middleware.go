package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/portico-dev/portico/services/platform/gostack"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// rpcInfo is filled by rpcInfoInterceptor and read by the access log, so one log line
// holds both the HTTP status and the RPC's code.
type rpcInfo struct {
	procedure string
	code      string
	err       error
	// requestID is the request's id: made by assignRequestID, or the trusted caller's that
	// adoptRequestID took. inboundRequestID is what the caller sent, untrusted.
	requestID, inboundRequestID string
}

type rpcInfoKey struct{}

func rpcInfoFrom(ctx context.Context) *rpcInfo {
	info, _ := ctx.Value(rpcInfoKey{}).(*rpcInfo)
	return info
}

// logAndRecover grows the request goroutine's stack (gostack.Grow), gives the request its id
// (assignRequestID), writes one access-log line per request and turns a panic outside the
// connect handlers (middleware, /healthz) into a 500.
func (s *Server) logAndRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gostack.Grow() // one stack growth here instead of several deep down (package gostack)
		start := time.Now()
		info := &rpcInfo{}
		ctx := context.WithValue(assignRequestID(w, r, info), rpcInfoKey{}, info)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// The id may have been adopted from a trusted caller since ctx was made.
			ctx := telemetry.WithRequestID(ctx, info.requestID)
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
					panic(p)
				}
				s.cfg.logger.ErrorContext(ctx, "panic in HTTP handler",
					"path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wroteHeader {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			s.accessLog(ctx, r, sw, info, time.Since(start))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

func (s *Server) accessLog(ctx context.Context, r *http.Request, sw *statusWriter, info *rpcInfo, d time.Duration) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelInfo
	switch {
	case status >= 500 || info.code == "internal" || info.code == "unknown" || info.code == "data_loss":
		level = slog.LevelError
	case status >= 400 || (info.code != "" && info.code != "ok"):
		level = slog.LevelWarn
	case r.URL.Path == "/healthz":
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("proto", r.Proto),
		slog.Int64("bytes", sw.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("peer", r.RemoteAddr),
	}
	if info.procedure != "" {
		attrs = append(attrs, slog.String("procedure", info.procedure), slog.String("code", info.code))
		if info.err != nil && level == slog.LevelError {
			attrs = append(attrs, slog.String("err", info.err.Error()))
		}
	}
	s.cfg.logger.LogAttrs(ctx, level, "request", attrs...)
}

// statusWriter records the status and size of a response. It keeps http.Flusher (connect
// refuses server streams without it) and Unwrap (for http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err //nolint:wrapcheck // a ResponseWriter returns its own errors
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
