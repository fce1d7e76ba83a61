package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// refreshTokenSize is the length Cognito's refresh tokens have (a JWE of about 1.8 KB).
const refreshTokenSize = 1800

// session is what a sign-in grants: the user, the client and scopes, and the token family.
type session struct {
	user      *User
	clientID  string
	scopes    []string
	authTime  time.Time
	originJTI string
}

// tokenSet is what the token endpoint returns.
type tokenSet struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// SignClaims signs claims as a JWT with the current signing key (RS256, with kid), exactly as
// the server signs its own tokens. Tests use it to craft tokens; the server uses it for all.
func (s *Server) SignClaims(claims map[string]any) (string, error) {
	kid, key := s.keys.current()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		nil,
	)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

// userAccessClaims returns the claims of a person's access token.
func (s *Server) userAccessClaims(sess *session, now time.Time) map[string]any {
	claims := map[string]any{
		"sub":        sess.user.Subject,
		"iss":        s.cfg.issuer,
		"client_id":  sess.clientID,
		"origin_jti": sess.originJTI,
		"token_use":  "access",
		"scope":      strings.Join(sess.scopes, " "),
		"auth_time":  sess.authTime.Unix(),
		"iat":        now.Unix(),
		"exp":        now.Add(s.cfg.accessTTL).Unix(),
		"jti":        uuid.NewString(),
		"username":   sess.user.Username,
	}
	if len(sess.user.Groups) > 0 {
		claims["cognito:groups"] = sess.user.Groups
	}
	// A Cognito pool puts custom attributes in ID tokens only; Portico's chargeback needs the
	// department in the access token, which a pre token generation trigger (V2) adds. The
	// dev IdP behaves like a pool with that trigger.
	if sess.user.Department != "" {
		claims["custom:department"] = sess.user.Department
	}
	return claims
}

// idClaims returns the claims of a person's ID token; accessToken feeds at_hash.
func (s *Server) idClaims(sess *session, nonce, accessToken string, now time.Time) map[string]any {
	u := sess.user
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"at_hash":           base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]),
		"sub":               u.Subject,
		"aud":               sess.clientID,
		"iss":               s.cfg.issuer,
		"token_use":         "id",
		"auth_time":         sess.authTime.Unix(),
		"iat":               now.Unix(),
		"exp":               now.Add(s.cfg.idTTL).Unix(),
		"jti":               uuid.NewString(),
		"origin_jti":        sess.originJTI,
		"cognito:username":  u.Username,
		"email":             u.Email,
		"email_verified":    u.Email != "",
		"name":              u.Name(),
		"given_name":        u.GivenName,
		"family_name":       u.FamilyName,
		"custom:department": u.Department,
	}
	if len(u.Groups) > 0 {
		claims["cognito:groups"] = u.Groups
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return claims
}

// machineAccessClaims returns the claims of a client-credentials access token.
func (s *Server) machineAccessClaims(clientID string, scopes []string, now time.Time) map[string]any {
	return map[string]any{
		"sub":       clientID,
		"iss":       s.cfg.issuer,
		"client_id": clientID,
		"token_use": "access",
		"scope":     strings.Join(scopes, " "),
		"auth_time": now.Unix(),
		"iat":       now.Unix(),
		"exp":       now.Add(s.cfg.accessTTL).Unix(),
		"jti":       uuid.NewString(),
	}
}

// issue mints the tokens of a session: an access token, an ID token when openid was
// granted, and a refresh token when withRefresh (in the Entra-shaped mode: whenever
// offline_access was granted).
func (s *Server) issue(sess *session, nonce string, withRefresh bool) (*tokenSet, error) {
	now := s.cfg.now()
	accessClaims := s.userAccessClaims
	if s.cfg.entra != nil {
		accessClaims = s.entraUserAccessClaims
		// Entra issues a refresh token only for offline_access, and a new one at each refresh.
		withRefresh = slices.Contains(sess.scopes, ScopeOfflineAccess)
	}
	access, err := s.SignClaims(accessClaims(sess, now))
	if err != nil {
		return nil, err
	}
	ts := &tokenSet{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.cfg.accessTTL / time.Second)}
	if slices.Contains(sess.scopes, "openid") {
		idClaims := s.idClaims(sess, nonce, access, now)
		if s.cfg.entra != nil {
			idClaims = s.entraIDClaims(sess, nonce, now)
		}
		if ts.IDToken, err = s.SignClaims(idClaims); err != nil {
			return nil, err
		}
	}
	if withRefresh {
		if ts.RefreshToken, err = s.sealRefresh(sess, now); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// refreshPayload is the sealed content of a refresh token.
type refreshPayload struct {
	Family   string `json:"jti"`
	Username string `json:"username"`
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	AuthTime int64  `json:"auth_time"`
	Expires  int64  `json:"exp"`
	Pad      string `json:"pad,omitempty"`
}

// sealRefresh makes an opaque refresh token: a JWE (A256KW, A256GCM) of Cognito's size,
// sealed with the data directory's key so that it survives restarts.
func (s *Server) sealRefresh(sess *session, now time.Time) (string, error) {
	p := refreshPayload{
		Family:   sess.originJTI,
		Username: sess.user.Username,
		Subject:  sess.user.Subject,
		ClientID: sess.clientID,
		Scope:    strings.Join(sess.scopes, " "),
		AuthTime: sess.authTime.Unix(),
		Expires:  now.Add(s.cfg.refreshTTL).Unix(),
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.A256KW, Key: s.keys.sealingKey()}, nil)
	if err != nil {
		return "", fmt.Errorf("refresh encrypter: %w", err)
	}
	seal := func(p refreshPayload) (string, error) {
		plain, err := json.Marshal(p)
		if err != nil {
			return "", fmt.Errorf("encode refresh token: %w", err)
		}
		obj, err := enc.Encrypt(plain)
		if err != nil {
			return "", fmt.Errorf("seal refresh token: %w", err)
		}
		return obj.CompactSerialize()
	}
	short, err := seal(p)
	if err != nil {
		return "", err
	}
	// Pad to about Cognito's size: every plaintext byte adds 4/3 of a character.
	if missing := (refreshTokenSize - len(short)) * 3 / 4; missing > len(`,"pad":""`) {
		p.Pad = randomString(missing - len(`,"pad":""`))
		return seal(p)
	}
	return short, nil
}

var errBadRefresh = errors.New("invalid refresh token")

// openRefresh decrypts a refresh token and checks its expiry and revocation.
func (s *Server) openRefresh(token string, now time.Time) (*refreshPayload, error) {
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.A256KW}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, errBadRefresh
	}
	plain, err := obj.Decrypt(s.keys.sealingKey())
	if err != nil {
		return nil, errBadRefresh
	}
	var p refreshPayload
	if err := json.Unmarshal(plain, &p); err != nil || p.Family == "" {
		return nil, errBadRefresh
	}
	if now.Unix() >= p.Expires {
		return nil, fmt.Errorf("%w: expired", errBadRefresh)
	}
	if s.revoked.revoked(p.Family) {
		return nil, fmt.Errorf("%w: revoked", errBadRefresh)
	}
	return &p, nil
}

// verifyAccess checks an access token this server issued: signature by an active key,
// issuer, token_use, expiry and revocation of its family. It returns the claims.
func (s *Server) verifyAccess(token string, now time.Time) (map[string]any, error) {
	claims, err := s.verifySigned(token, now)
	if err != nil {
		return nil, err
	}
	exp, _ := claims["exp"].(float64)
	switch {
	case claims["iss"] != s.cfg.issuer:
		return nil, errors.New("wrong issuer")
	case s.cfg.entra == nil && claims["token_use"] != "access":
		return nil, errors.New("not an access token")
	case s.cfg.entra != nil && claims["aud"] != GraphAudience:
		// As Entra's userinfo (Microsoft Graph): only a token for Graph is accepted.
		return nil, errors.New("not an access token for this endpoint")
	case float64(now.Unix()) >= exp:
		return nil, errors.New("expired")
	}
	if family, ok := claims["origin_jti"].(string); ok && s.revoked.revoked(family) {
		return nil, errors.New("revoked")
	}
	return claims, nil
}

// verifySigned checks a token's signature by an active key and returns its claims.
func (s *Server) verifySigned(token string, now time.Time) (map[string]any, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("malformed token")
	}
	kid := jws.Signatures[0].Header.KeyID
	var payload []byte
	for _, k := range s.keys.active(now) {
		if k.KeyID == kid {
			payload, err = jws.Verify(k)
			break
		}
	}
	if payload == nil || err != nil {
		return nil, errors.New("bad signature")
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errors.New("malformed claims")
	}
	return claims, nil
}

// randomString returns n random base64url characters.
func randomString(n int) string {
	b := make([]byte, (n*3+3)/4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
