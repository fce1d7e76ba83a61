// Package authn authenticates every RPC before it is decoded and answers the authorisation
// questions handlers ask.
//
// New returns HTTP middleware for the Connect handlers: it reads `Authorization: Bearer`,
// verifies the access token with package token and puts the principal in the request context
// (principal.NewContext). A missing or refused token gets Unauthenticated, in the shape of the
// caller's protocol (Connect, gRPC or gRPC-Web), with a `WWW-Authenticate: Bearer` header
// (RFC 6750) and a generic message; the precise reason is logged with slog, never the token.
// When tokens cannot be checked because the issuer's keys are unreachable, the answer is
// Unavailable instead, so that clients retry rather than drop their sessions.
//
// Machine clients (client-credentials tokens) must also hold the scope of the service they
// call (DefaultServiceScopes); a machine client without it, or calling a service no scope
// opens, gets PermissionDenied before any decoding. People need no scope: what they may use is
// decided by their groups, in package policy.
//
// Personal API keys reach the middleware through the verifier (apikey.Verifier resolves
// `portico_sk_…` secrets to their owners): a key's principal (principal.Principal.APIKey set)
// may call only the services of KeyServices (inference) and gets PermissionDenied anywhere
// else. A verifier error wrapping ErrUnavailable (a key store that cannot be read) is
// answered Unavailable, like the issuer's keys being unreachable.
//
// Unauthenticated means "who are you?" (no, malformed, expired or untrusted token);
// PermissionDenied means "I know who you are and you may not" (RequireUsageAdmin,
// RequireScope, and the policy checks of the handlers).
//
// The gRPC health and reflection services are not wrapped: the server mounts them outside.
package authn
