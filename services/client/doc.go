// Package client lets internal Go programs call Portico's services as a machine client: it
// obtains an access token with the OAuth 2.0 client-credentials grant from the issuer's token
// endpoint (cached and refreshed before it expires by golang.org/x/oauth2), and returns
// Connect clients of IdentityService, InferenceService, AdminService and
// ConversationService.
//
// # Protocols
//
// A standalone server (the h2c server of `make dev`) serves gRPC, Connect and gRPC-Web; a
// deployment on Lambda, behind a Function URL or API Gateway, serves only Connect and
// gRPC-Web, because gRPC needs HTTP/2 trailers that neither passes (the Lambda adapter
// answers gRPC with Unimplemented). Config.Protocol chooses; when it is empty,
// DefaultProtocol picks gRPC over h2c for a plain-HTTP loopback URL (http://localhost:8081)
// and Connect for any other URL, such as https://…execute-api….amazonaws.com/prod. gRPC
// goes over HTTP/2 only (h2c for http:// URLs, TLS for https://); Connect and gRPC-Web go
// over HTTP/1.1, or HTTP/2 when TLS negotiates it.
//
// # Retries
//
// Every client retries unary calls that fail with Unavailable, at most MaxAttempts times in
// all, waiting an exponentially growing delay with full jitter (a random delay between zero
// and BaseDelay·2^(attempt-1), capped at MaxDelay), or the delay of a RetryAfter error detail
// when the server sends one (also capped), and never past the context's deadline.
//
// What is retried depends on the method's declared idempotency:
//
//   - NO_SIDE_EFFECTS and IDEMPOTENT methods (GetMe, ListModels, GetUsage, ListUsage, …):
//     any Unavailable;
//   - other unary methods (Converse, InvokeEndpoint): only when the connection could not be
//     established, so the request certainly never reached the server. A Converse that the
//     server answered with Unavailable may have reserved quota or reached Bedrock; repeating
//     it is the caller's decision.
//
// Streaming calls are never retried: once a server stream has started, part of the answer has
// been consumed, and repeating the request would repeat its cost.
package client
