// Package devidp is a development OpenID Provider shaped like Amazon Cognito: the identity
// provider of Portico's embedded, one-machine stack and of its tests.
//
// It serves OIDC discovery, a JWKS, an HTML login form at the authorization endpoint, the
// token endpoint (authorization code with PKCE S256, refresh token, client credentials),
// RFC 7009 revocation, userInfo and Cognito's non-standard
// /logout?client_id=…&logout_uri=… endpoint. Its tokens have Cognito's shape: RS256 with a
// kid; access tokens carry client_id, token_use=access, scope, cognito:groups and username and
// no aud; ID tokens carry aud, token_use=id, nonce, email and cognito:groups; refresh tokens
// are opaque JWE blobs of Cognito's size (about 1.8 KB), sealed with a key kept in the data
// directory so that a restart does not end anyone's session.
//
// # Why not zitadel/oidc's op package
//
// github.com/zitadel/oidc/v3/pkg/op was judged and not used. Its CreateJWT builds access
// tokens with oidc.NewAccessTokenClaims, which always puts an aud claim in (the client id
// when the request has no audience), and registered claims win over the private claims a
// Storage may add, so a Cognito access token — the one thing this package exists to imitate,
// because Portico's verifiers must check client_id and token_use instead of aud — cannot be
// produced through it. It also adds nbf, and Cognito's /logout endpoint, resource-server
// scopes and opaque JWE refresh tokens would each need bypassing the library. Implementing
// op.Server to regain control of the token endpoint would leave the library with little more
// than routing, behind some thirty Storage and Client methods. The protocol surface here is
// small (five endpoints), so it is written directly on github.com/go-jose/go-jose/v4 for
// JWS, JWE and JWK, following RFC 6749, RFC 7636, RFC 7009 and OpenID Connect Core.
//
// The package is for development and tests only: users and passwords come from a YAML file,
// pending logins and authorization codes live in memory, and no single sign-on session is
// kept (every authorization shows the login form, and /logout only redirects).
//
// WithEntra makes it Entra-shaped instead (Microsoft Entra ID v2.0: a tenant issuer path,
// end_session_endpoint, ver/tid/oid/azp/scp/roles claims, group object ids, refresh tokens
// only for offline_access), so that Portico's Entra paths run on one machine too
// (PORTICO_IDP_PROFILE=entra; `make dev IDENTITY=entra`).
//
// Endpoints, relative to the issuer: /.well-known/openid-configuration,
// /.well-known/jwks.json, /oauth2/authorize (GET, the login form; it posts to /login),
// /oauth2/token, /oauth2/revoke, /oauth2/userInfo, /logout, POST /dev/rotate-keys and
// /healthz. Package devidptest runs it in tests.
package devidp
