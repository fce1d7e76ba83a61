// Package token verifies the OAuth 2.0 access tokens that callers present to Portico.
//
// A Verifier accepts a compact JWS only when all of these hold, in this order:
//
//   - the token is at most MaxTokenSize bytes and has three parts in strict base64url (no
//     other byte, no stray bits: one spelling per token);
//   - the protected header names alg RS256 (no "none", no HS256 keyed with the public key, no
//     other algorithm) and carries no crit parameter;
//   - its kid is in the issuer's JWKS, which the KeySet fetches through the issuer's OpenID
//     discovery document, caches, refreshes on an unknown kid at most once per refresh interval
//     (one fetch at a time, shared by every waiting caller) and keeps serving while the issuer
//     is unreachable;
//   - the RSASSA-PKCS1-v1_5 SHA-256 signature verifies;
//   - iss equals the configured issuer exactly;
//   - exp is in the future and nbf and iat are not, each within Leeway (30 seconds) to absorb
//     clock skew between the issuer and this process;
//   - the Profile accepts the claims. The Cognito profile (Portico's) requires
//     token_use "access" and a client_id from the configured set — Cognito access tokens have
//     no aud, so client_id is what stops a token minted for another app — and maps
//     cognito:groups, scope and username to a principal.Principal. The Entra profile is the
//     seam for tokens issued directly by Microsoft Entra ID: it checks aud and maps roles.
//
// Every refusal wraps one of the sentinel errors (ErrMalformed, ErrAlgorithm, ErrUnknownKey,
// ErrSignature, ErrIssuer, ErrExpired, ErrNotYetValid, ErrTokenUse, ErrClientID, ErrSubject) so
// that logs say exactly why; callers must not send these details to clients.
//
// Successful results are remembered, keyed by a keyed 128-bit hash of the token, until the
// token expires, in a bounded cache, so a repeated token costs a hash and a map lookup rather
// than an RSA verification.
package token
