package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// RequestIDHeader is the header that carries a request id in and out.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an accepted inbound request id.
const maxRequestIDLen = 128

type requestIDKey struct{}

// WithRequestID returns a copy of ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request id carried by ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a fresh random request id: 32 lower-case hex digits.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b[:])
}

// ValidRequestID reports whether an inbound request id is acceptable: 1 to 128 characters
// from [A-Za-z0-9._:-]. Anything else (empty, too long, spaces, control characters, quotes)
// is never adopted, so not even a trusted caller can inject text into logs. (Only the BFF's
// id is adopted at all: services/platform/server.)
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
