// Package authorizer is Portico's API Gateway Lambda authorizer (REQUEST and TOKEN types). It
// verifies the bearer token with package token and decides with package policy, so the gateway
// and the services agree on who may call.
//
// Decision:
//
//   - no token, or a token that does not verify (for any reason token reports, including a
//     key the issuer has removed from its JWKS, at most one key-set lifetime after the last
//     fetch): the error "Unauthorized", which API Gateway turns into 401;
//   - the issuer's keys cannot be fetched, so no token can be checked: ErrUnavailable, which
//     API Gateway answers with its AUTHORIZER_FAILURE response (500 unless mapped to 503) and
//     does not cache, so that clients retry rather than sign the user out;
//   - a person in at least one group the policy names: Allow on every method of the stage;
//   - a machine client: Allow on the services whose scope its token holds
//     (authn.DefaultServiceScopes), and on the OpenAI-compatible endpoint (/v1/*) with the
//     inference scope, nothing else;
//   - a personal API key (`portico_sk_…`, package apikey: looked up by its SHA-256, with a
//     30 s cache; refused with "Unauthorized" when unknown, revoked, expired, its owner idle
//     or keys disabled for the owner's groups): Allow on InferenceService and /v1/* only;
//   - anyone else (bob, with no ML group; a machine client with no useful scope): an explicit
//     Deny on every method of the stage, which API Gateway turns into 403.
//
// The policy document never names the one method being called: it covers the stage's methods
// with wildcards (arn:…:api/stage/*/* for people, arn:…:api/stage/*/pkg.Service/* for machine
// clients). API Gateway caches an authorizer's answer per token (TOKEN) or identity source
// (REQUEST) and applies the cached policy to every later call; a policy naming only the first
// method would make every other method fail with 403 until the cache entry expired. The answer
// depends only on the token, never on the path, so a wildcard answer is correct for all calls.
// The services still check entitlements per model and per RPC.
//
// The principal's context reaches the integration as
// $context.authorizer.{sub,username,groups,scopes,clientId,kind,apiKey}: groups and scopes
// are comma-joined, kind is "person" or "machine", apiKey the key's prefix (empty for
// tokens). API Gateway caches an answer for the authorizer's TTL: a revoked key is refused
// by the gateway once its cached answer expires, and by the services (which check every key
// again) within apikey.CacheTTL.
//
// The handler never panics and never returns anything but a policy, "Unauthorized" or, while
// the issuer's keys are unreachable, ErrUnavailable; reasons are logged with slog, tokens never.
package authorizer
