package inference

import "connectrpc.com/connect"

// MaxRequestBytes is the largest request message the service reads: a SageMaker payload of
// 6 MB (SageMaker's limit) with room for the message's other fields, or a conversation with
// images. The server's default message limit is lower; see HandlerOptions.
const MaxRequestBytes = 8 << 20

// HandlerOptions returns the connect options the InferenceService handler needs beyond the
// server's: a read limit of MaxRequestBytes, so that SageMaker payloads up to 6 MB reach
// the handler (and larger ones get its INVALID_ARGUMENT rather than the transport's
// RESOURCE_EXHAUSTED). Pass them after the server's options, which they override:
//
//	inferencev1connect.NewInferenceServiceHandler(svc, append(srv.HandlerOptions(), inference.HandlerOptions()...)...)
func HandlerOptions() []connect.HandlerOption {
	return []connect.HandlerOption{connect.WithReadMaxBytes(MaxRequestBytes)}
}
