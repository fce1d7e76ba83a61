package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/bff/requestid"
)

// forwardedHeaders are the only request headers of the browser's that reach the services:
// content negotiation and the Connect, gRPC and gRPC-Web protocol headers. Anything else the
// browser sends — cookies, credentials, the CSRF header, addresses (X-Forwarded-*,
// Forwarded, True-Client-IP, CF-Connecting-IP, Via), tracing (traceparent, tracestate,
// baggage, X-Amzn-Trace-Id), request ids, Portico-* headers, URL overrides — is dropped. The
// deadline headers are not here: the BFF writes its own (see upstreamHeader).
var forwardedHeaders = []string{
	"Content-Type",
	"Content-Encoding",
	"Accept",
	"Accept-Encoding",
	"Connect-Protocol-Version",
	"Connect-Content-Encoding",
	"Connect-Accept-Encoding",
	"Grpc-Encoding",
	"Grpc-Accept-Encoding",
	"X-Grpc-Web",
}

// Deadline headers of the protocols.
const (
	headerConnectTimeout = "Connect-Timeout-Ms"
	headerGRPCTimeout    = "Grpc-Timeout"
)

// UserAgent is the BFF's own User-Agent towards the services; the browser's travels as
// Portico-Client-User-Agent.
const UserAgent = "portico-bff"

// upstreamHeader returns the request headers for the services: the allowlisted headers of
// in (ReverseProxy's outbound copy of the browser's headers: hop-by-hop headers gone, Te
// reduced to "trailers" when the browser asked for trailers), and the BFF's own: its user
// agent, the deadline (remaining, in the protocol's header), the request id and a trace
// context of its own whose trace id is the request id. The caller adds Authorization and the
// Portico-Client-* headers.
//
// Every name here is canonical, so the maps are indexed directly (Header.Get and Set would
// canonicalize each name again), and the BFF's own values share one array.
func upstreamHeader(in http.Header, remaining time.Duration, id string) http.Header {
	out := make(http.Header, len(forwardedHeaders)+9)
	for _, name := range forwardedHeaders {
		if v := in[name]; len(v) > 0 {
			out[name] = append([]string(nil), v...)
		}
	}
	own := make([]string, 0, 5)
	set := func(name, value string) {
		own = append(own, value)
		out[name] = own[len(own)-1 : len(own) : len(own)]
	}
	if v := in["Te"]; len(v) > 0 && v[0] == "trailers" { // gRPC over HTTP/2 requires it; ReverseProxy keeps only this value
		set("Te", "trailers")
	}
	set("User-Agent", UserAgent)
	remaining = max(remaining, time.Millisecond)
	if isGRPC(in) {
		set(headerGRPCTimeout, formatGRPCTimeout(remaining))
	} else {
		set(headerConnectTimeout, strconv.FormatInt(remaining.Milliseconds(), 10))
	}
	set(requestid.Header, id)
	set("Traceparent", traceparent(id))
	return out
}

// isGRPC reports whether the request speaks gRPC or gRPC-Web (whose deadline header is
// Grpc-Timeout) rather than Connect.
func isGRPC(h http.Header) bool {
	v := h["Content-Type"]
	return len(v) > 0 && strings.HasPrefix(v[0], "application/grpc")
}

// clientTimeout returns the deadline the browser asked for in the protocol's header of h, or
// zero when it asked for none. A malformed value is refused (InvalidArgument) rather than
// ignored, as the services would.
func clientTimeout(h http.Header) (time.Duration, error) {
	if isGRPC(h) {
		v := h.Get(headerGRPCTimeout)
		if v == "" {
			return 0, nil
		}
		d, ok := parseGRPCTimeout(v)
		if !ok {
			return 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s %q is not 1 to 8 digits and a unit (H, M, S, m, u, n)", headerGRPCTimeout, truncate(v, 32)))
		}
		return d, nil
	}
	v := h.Get(headerConnectTimeout)
	if v == "" {
		return 0, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 || len(v) > 10 || v[0] == '+' {
		return 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s %q is not a positive number of at most 10 digits", headerConnectTimeout, truncate(v, 32)))
	}
	return time.Duration(ms) * time.Millisecond, nil
}

var grpcTimeoutUnits = map[byte]time.Duration{
	'H': time.Hour, 'M': time.Minute, 'S': time.Second,
	'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond,
}

// parseGRPCTimeout parses a Grpc-Timeout value: 1 to 8 ASCII digits and a unit. A value
// too large for a time.Duration saturates.
func parseGRPCTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	unit, ok := grpcTimeoutUnits[v[len(v)-1]]
	if !ok {
		return 0, false
	}
	var n int64
	for _, c := range []byte(v[:len(v)-1]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n == 0 {
		return 0, false
	}
	if n > int64(1<<63-1)/int64(unit) {
		return time.Duration(1<<63 - 1), true
	}
	return time.Duration(n) * unit, true
}

// formatGRPCTimeout writes d as a Grpc-Timeout value in milliseconds (at most 8 digits).
func formatGRPCTimeout(d time.Duration) string {
	return strconv.FormatInt(min(max(d.Milliseconds(), 1), 99_999_999), 10) + "m"
}

// traceparent returns a W3C trace context header that starts a trace of the BFF's own: the
// trace id is the request id (32 hex digits), the parent span id random, sampled.
func traceparent(id string) string {
	var span [8]byte
	for span == [8]byte{} {
		_, _ = rand.Read(span[:]) // crypto/rand.Read never fails on supported platforms
	}
	return "00-" + id + "-" + hex.EncodeToString(span[:]) + "-01"
}
