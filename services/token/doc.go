// Package token verifies the OAuth 2.0 access tokens that callers present to Portico.
//
// A Verifier accepts a compact JWS only when all of these hold, in this order:
//
//   - the token is at most MaxTokenSize bytes and has three parts in strict base64url (no
//     other byte, no stray bits: one spelling per token);
//   - the protected header names alg RS256 (no "none", no HS256 keyed with the public key, no
//     other algorithm) and carries no crit parameter;
//   - its kid is in the issuer's JWKS, which the KeySet fetches through the issuer's OpenID
//     discovery document, caches for the lifetime the JWKS response's caching headers allow
//     (Cache-Control max-age or Expires, kept within 5 to 60 minutes, 15 without them),
//     refreshes on an unknown kid or an outlived set at most once per refresh interval (5
//     seconds; one fetch at a time, shared by every waiting caller) and keeps serving while
//     the issuer is unreachable — never an empty set;
//   - the RSASSA-PKCS1-v1_5 SHA-256 signature verifies;
//   - iss equals the configured issuer exactly;
//   - exp is in the future and nbf and iat are not, each within Leeway (30 seconds) to absorb
//     clock skew between the issuer and this process;
//   - the Profile accepts the claims. The Cognito profile (Portico's) requires
//     token_use "access" and a client_id from the configured set — Cognito access tokens have
//     no aud, so client_id is what stops a token minted for another app — and maps
//     cognito:groups, scope and username to a principal.Principal. The Entra profile is for
//     v2.0 access tokens issued directly by Microsoft Entra ID: it checks ver, tid, aud and
//     azp, takes the user id from oid, and maps scp, roles and group object ids.
//
// Every refusal wraps one of the sentinel errors (ErrMalformed, ErrAlgorithm, ErrUnknownKey,
// ErrSignature, ErrIssuer, ErrExpired, ErrNotYetValid, ErrTokenUse, ErrClientID, ErrSubject,
// and for the Entra profile ErrVersion, ErrTenant, ErrAudience, ErrScope, ErrGroups) so
// that logs say exactly why; callers must not send these details to clients.
//
// Successful results are remembered, keyed by a keyed 128-bit hash of the token, until the
// token expires, in a bounded cache, so a repeated token costs a hash and a map lookup rather
// than an RSA verification. A remembered result counts only while the key set still holds the
// key that verified it.
//
// # Key removal
//
// A key the issuer removes from its JWKS (at the end of a rotation, or at once after a
// compromise) stops verifying tokens, cached results included, at most one key-set lifetime
// after the last successful fetch. The refresh that makes this so is lazy, single-flight and
// runs on the request path, and the package starts no goroutine that outlives a fetch, so a
// Verifier needs no Close: from three quarters of the lifetime on, a request with a known kid
// is answered at once and starts one shared fetch in the background; a request that finds
// the set past its lifetime waits for that fetch (unless the last one failed: then the keys
// held keep answering while the issuer is down, and requests stop waiting until it is back).
// That shape is chosen for AWS Lambda, which freezes the process between invocations: a
// background ticker would be frozen with it and fire late, and its goroutine could not be
// stopped since a Lambda function never returns from main, whereas a lazily started fetch is
// simply finished, or joined, by the next request. Under steady traffic no request waits for
// the issuer; after a quiet spell longer than the lifetime the first request does, once.
package token
