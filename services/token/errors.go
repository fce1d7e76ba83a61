package token

import "errors"

// Reasons a token is refused. Verify wraps exactly one of them, with details, for logs.
var (
	// ErrMissing means no token was presented.
	ErrMissing = errors.New("token: missing")
	// ErrMalformed means the token is not a well-formed compact JWS with JSON claims.
	ErrMalformed = errors.New("token: malformed")
	// ErrAlgorithm means the header names an algorithm other than RS256.
	ErrAlgorithm = errors.New("token: algorithm not allowed")
	// ErrUnknownKey means the header's kid is not in the issuer's key set, even after a refresh.
	ErrUnknownKey = errors.New("token: unknown signing key")
	// ErrSignature means the signature does not verify with the issuer's key.
	ErrSignature = errors.New("token: bad signature")
	// ErrIssuer means iss is not the configured issuer.
	ErrIssuer = errors.New("token: wrong issuer")
	// ErrExpired means exp has passed (beyond the leeway) or is missing.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid means nbf or iat lies in the future (beyond the leeway).
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrTokenUse means the token is not an access token (for example an ID token).
	ErrTokenUse = errors.New("token: wrong token_use")
	// ErrClientID means client_id is not one of the accepted clients.
	ErrClientID = errors.New("token: client_id not accepted")
	// ErrAudience means aud does not name this API (profiles that use aud).
	ErrAudience = errors.New("token: wrong audience")
	// ErrVersion means the token's version (Entra's ver) is not the configured one.
	ErrVersion = errors.New("token: wrong token version")
	// ErrTenant means the token's tenant (Entra's tid) is not the configured one.
	ErrTenant = errors.New("token: wrong tenant")
	// ErrScope means a delegated token lacks the scope the API requires.
	ErrScope = errors.New("token: required scope missing")
	// ErrGroups means the token's groups cannot be used: Entra's groups overage, or a group
	// object id the policy does not map.
	ErrGroups = errors.New("token: groups not usable")
	// ErrSubject means the token names neither a person (username) nor a machine client
	// (sub equal to client_id).
	ErrSubject = errors.New("token: unknown subject kind")
	// ErrKeySet means the issuer's discovery document or JWKS could not be fetched or read.
	ErrKeySet = errors.New("token: key set unavailable")
)
