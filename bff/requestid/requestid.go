// Package requestid gives every request the BFF serves its own id: made here, never taken
// from the browser, returned to the browser once as X-Request-Id, forwarded to the services
// as X-Request-Id (which they adopt, because the token is the BFF's), carried by every log
// line of the request, and used as the trace id of the W3C trace context the BFF starts
// upstream. docs/contracts.md states the contract.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Header carries the request id to the browser and to the services.
const Header = "X-Request-Id"

// New returns a fresh request id: 32 lower-case hex digits (128 random bits, never all
// zero), so that it is also a valid W3C trace id.
func New() string {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		if b != [16]byte{} {
			return hex.EncodeToString(b[:])
		}
	}
}

type key struct{}

// NewContext returns a copy of ctx carrying the request id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the request id ctx carries, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// LogHandler wraps h so that every record logged with a context carrying a request id gains
// a request_id attribute.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}
