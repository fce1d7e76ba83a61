package server

import (
	"context"
	"net/http"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// assignRequestID gives r an id of the server's own, whatever X-Request-Id the caller sent
// (it is kept aside in info for adoptRequestID): the Lambda request id when r came from a
// Lambda invocation, else a fresh one. The id goes in the context (so every log line carries
// it), in the request's header (for handlers that read it) and in the response's.
func assignRequestID(w http.ResponseWriter, r *http.Request, info *rpcInfo) context.Context {
	info.inboundRequestID = r.Header.Get(telemetry.RequestIDHeader)
	info.requestID = telemetry.NewRequestID()
	if inv, ok := lambdahttp.InvocationFromContext(r.Context()); ok && telemetry.ValidRequestID(inv.RequestID) {
		info.requestID = inv.RequestID
	}
	r.Header.Set(telemetry.RequestIDHeader, info.requestID)
	w.Header().Set(telemetry.RequestIDHeader, info.requestID)
	return telemetry.WithRequestID(r.Context(), info.requestID)
}

// adoptRequestID runs behind the authentication middleware: when the verified caller is
// trusted (WithTrustedCaller: a token issued to the BFF) and the caller sent a
// well-formed X-Request-Id, the request takes that id instead of the one assignRequestID
// made, so that the BFF's log, the services' log, the audit record and the browser all name
// the request alike. Anyone else's X-Request-Id is ignored.
func (s *Server) adoptRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := rpcInfoFrom(r.Context())
		if info != nil && s.cfg.trustedCaller != nil && s.cfg.trustedCaller(r.Context()) &&
			telemetry.ValidRequestID(info.inboundRequestID) {
			info.requestID = info.inboundRequestID
			r = r.WithContext(telemetry.WithRequestID(r.Context(), info.requestID))
			r.Header.Set(telemetry.RequestIDHeader, info.requestID)
			w.Header().Set(telemetry.RequestIDHeader, info.requestID)
		}
		next.ServeHTTP(w, r)
	})
}
