package inference

import (
	"context"
	"net/http"
)

// Call describes a request served by a handler other than Connect's (the OpenAI-compatible
// endpoint) for the audit trail: what Connect's call info gives for RPCs.
type Call struct {
	// Procedure is recorded as the record's procedure, such as "/v1/chat/completions".
	Procedure string
	// PeerAddr is the client's address (host:port), as http.Request.RemoteAddr.
	PeerAddr string
	// Header is the request's header (User-Agent; Portico-Client-* from trusted clients).
	Header http.Header
}

type callKey struct{}

// WithCall returns a copy of ctx that describes the call c. Converse and ConverseStreamTo
// read it when ctx is not a Connect handler's.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}
