// Package apikey holds personal API keys: secrets a person creates to call the models they
// may use from scripts and tools, as themselves.
//
// A secret is Prefix ("portico_sk_") followed by the unpadded base64url encoding of 32
// random bytes and their CRC-32C (48 characters): recognisable by secret scanners, 256 bits
// of entropy, and checkable without a store read (a mistyped or made-up key is refused
// before any lookup). Only its SHA-256 (hex) is stored; the secret is shown once, when it
// is created. A key's Prefix field (the secret's first 17 characters) names it in lists and
// in the audit record of every call made with it.
//
// A key acts as its owner, a person, with the groups of the owner's last sign-in: the
// services record each person's groups and the time whenever a sign-in token is used
// (Verifier, at most one write per person every SeenInterval per instance). A key stops
// working when it is revoked (by its owner or an administrator), when it expires (at most
// the policy's keyMaxExpiryDays after its creation), when its owner has not signed in for
// the policy's keyMaxIdleDays, or when any of the owner's groups says `apiKeys: false`.
// Deprovisioning is therefore seen at the owner's next sign-in (new groups) or after the
// idle period, not at once.
//
// Resolver turns a secret into the owner's principal (principal.Principal.APIKey set to
// the key's prefix, KeyModels to its models). It caches what it read for CacheTTL (30 s):
// after the first use a key costs no store read, and a revocation is seen within CacheTTL
// on every instance. A key is usable only for inference (InferenceService and the
// OpenAI-compatible /v1 endpoint); package authn and the API Gateway authorizer refuse it
// elsewhere.
//
// Store keeps keys and the owners' last sign-in; sqlitekeys and dynamokeys implement it and
// keystoretest is their contract suite. Service is the ApiKeyService handler.
package apikey
