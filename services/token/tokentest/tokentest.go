// Package tokentest runs a small OpenID issuer on httptest for tests of token verification:
// a discovery document, a JWKS that counts its fetches and can be taken down, and helpers to
// mint well-formed and hostile Cognito-shaped tokens.
package tokentest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Dev client ids, the same as the dev identity provider's.
const (
	WebClientID     = "portico-web"
	MachineClientID = "portico-machine"
)

// Scopes of the dev resource server.
const (
	ScopeInference = "portico/inference"
	ScopeIdentity  = "portico/identity"
)

var firstKey = sync.OnceValue(func() *rsa.PrivateKey { return mustKey() })

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// Issuer is a test OpenID issuer. Its zero value is not usable; call Start.
type Issuer struct {
	// URL is the issuer identifier and base URL.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64

	mu         sync.Mutex
	keys       []signingKey // last one signs
	rotations  int
	down       bool
	tokenFn    http.HandlerFunc
	jwksHeader http.Header
}

// Start runs an issuer until the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{keys: []signingKey{{kid: "key-1", key: firstKey()}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", i.serveJWKS)
	mux.HandleFunc("POST /oauth2/token", i.serveToken)
	i.Server = httptest.NewServer(mux)
	i.URL = i.Server.URL
	t.Cleanup(i.Server.Close)
	return i
}

func (i *Issuer) isDown() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.down
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	i.discoveryFetches.Add(1)
	if i.isDown() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/.well-known/jwks.json",
		"token_endpoint":                        i.URL + "/oauth2/token",
		"authorization_endpoint":                i.URL + "/oauth2/authorize",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	i.jwksFetches.Add(1)
	if i.isDown() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	i.mu.Lock()
	for name, values := range i.jwksHeader {
		w.Header()[name] = values
	}
	keys := make([]map[string]string, 0, len(i.keys))
	for _, k := range i.keys {
		keys = append(keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
			"n": b64(k.key.N.Bytes()), "e": b64(big.NewInt(int64(k.key.E)).Bytes()),
		})
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// HandleToken sets the handler of POST /oauth2/token (none by default: 404).
func (i *Issuer) HandleToken(h http.HandlerFunc) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.tokenFn = h
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	h := i.tokenFn
	i.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// JWKSFetches returns how many times the JWKS was requested.
func (i *Issuer) JWKSFetches() int64 { return i.jwksFetches.Load() }

// SetDown makes discovery and JWKS answer 503 (true) or work again (false).
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.down = down
}

// RotateKeys publishes a new signing key, which signs from now on; the old keys stay published.
func (i *Issuer) RotateKeys() {
	k := mustKey()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rotations++
	i.keys = append(i.keys, signingKey{kid: fmt.Sprintf("key-%d", i.rotations+1), key: k})
}

// ReplaceKey publishes a new key under the current key's kid, which signs from now on: an
// issuer that reuses a kid for other key material.
func (i *Issuer) ReplaceKey() {
	k := mustKey()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[len(i.keys)-1].key = k
}

// RemoveOldKeys stops publishing every key but the current one, as an issuer does at the end
// of a rotation or after a key is compromised.
func (i *Issuer) RemoveOldKeys() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = i.keys[len(i.keys)-1:]
}

// SetJWKSHeader makes the JWKS response carry h (caching headers, typically) from now on.
func (i *Issuer) SetJWKSHeader(h http.Header) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksHeader = h.Clone()
}

// PublicKey returns the current signing key's public half.
func (i *Issuer) PublicKey() *rsa.PublicKey { return &i.current().key.PublicKey }

// Kid returns the current signing key's id.
func (i *Issuer) Kid() string { return i.current().kid }

func (i *Issuer) current() signingKey {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[len(i.keys)-1]
}

// Claims is a JWT claims set.
type Claims map[string]any

// PersonClaims returns the claims of a Cognito access token of user, issued to clientID now
// for an hour.
func (i *Issuer) PersonClaims(user, clientID string, groups ...string) Claims {
	now := time.Now()
	c := Claims{
		"iss": i.URL, "sub": "sub-" + user, "username": user, "client_id": clientID,
		"token_use": "access", "scope": "openid email profile",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "jti-" + user,
		"auth_time": now.Unix(), "origin_jti": "o", "event_id": "e", "version": 2,
	}
	if len(groups) > 0 {
		c["cognito:groups"] = groups
	}
	return c
}

// MachineClaims returns the claims of a client-credentials access token of clientID.
func (i *Issuer) MachineClaims(clientID string, scopes ...string) Claims {
	now := time.Now()
	return Claims{
		"iss": i.URL, "sub": clientID, "client_id": clientID, "token_use": "access",
		"scope": strings.Join(scopes, " "), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "jti-" + clientID, "version": 2,
	}
}

// AccessToken returns a signed access token of user in the web client, with groups.
func (i *Issuer) AccessToken(user string, groups ...string) string {
	return i.Sign(i.PersonClaims(user, WebClientID, groups...))
}

// MachineToken returns a signed client-credentials access token of the machine client.
func (i *Issuer) MachineToken(scopes ...string) string {
	return i.Sign(i.MachineClaims(MachineClientID, scopes...))
}

// Sign signs claims with RS256 and the current key.
func (i *Issuer) Sign(claims Claims) string {
	k := i.current()
	return SignRS256(map[string]any{"alg": "RS256", "kid": k.kid, "typ": "JWT"}, claims, k.key)
}

// SignWithHeader signs claims with RS256 and the current key under header, exactly as given
// (so a test chooses alg, kid, crit and anything else; the signature is RS256 whatever alg says).
func (i *Issuer) SignWithHeader(header map[string]any, claims Claims) string {
	return SignRS256(header, claims, i.current().key)
}

// SignPayload signs payload, exactly as given (not JSON, duplicate keys, wrong types), with
// RS256 and the current key under the usual header.
func (i *Issuer) SignPayload(payload []byte) string {
	k := i.current()
	in := encodePart(map[string]any{"alg": "RS256", "kid": k.kid, "typ": "JWT"}) + "." + b64(payload)
	return in + "." + b64(signPKCS1(k.key, in))
}

// SignRS256 signs claims under header with key.
func SignRS256(header map[string]any, claims Claims, key *rsa.PrivateKey) string {
	in := encodePart(header) + "." + encodePart(claims)
	return in + "." + b64(signPKCS1(key, in))
}

func signPKCS1(key *rsa.PrivateKey, signingInput string) []byte {
	h := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return sig
}

// Unsigned returns claims as an alg "none" token with an empty signature.
func (i *Issuer) Unsigned(claims Claims) string {
	return encodePart(map[string]any{"alg": "none", "kid": i.Kid()}) + "." + encodePart(claims) + "."
}

// HS256WithPublicKey returns claims signed with HMAC-SHA256 keyed with the issuer's public key
// (PKIX DER and PEM forms are both common in this attack; DER is used here).
func (i *Issuer) HS256WithPublicKey(claims Claims) string {
	der, err := x509.MarshalPKIXPublicKey(i.PublicKey())
	if err != nil {
		panic(err)
	}
	in := encodePart(map[string]any{"alg": "HS256", "kid": i.Kid()}) + "." + encodePart(claims)
	m := hmac.New(sha256.New, der)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

// SignWithUnknownKey signs claims with a key the issuer does not publish, under kid.
func SignWithUnknownKey(claims Claims, kid string) string {
	return SignRS256(map[string]any{"alg": "RS256", "kid": kid}, claims, strangerKey())
}

var strangerKey = sync.OnceValue(func() *rsa.PrivateKey { return mustKey() })

// StrangerKey returns a key no Issuer publishes (the one SignWithUnknownKey uses), for
// attacks that need their own header.
func StrangerKey() *rsa.PrivateKey { return strangerKey() }

// Tamper replaces the payload of a signed token with claims, keeping header and signature.
func Tamper(token string, claims Claims) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		panic("tokentest: not a JWS")
	}
	return parts[0] + "." + encodePart(claims) + "." + parts[2]
}

func encodePart(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
