package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// codeVerifierRE is RFC 7636's code_verifier: 43 to 128 unreserved characters.
var codeVerifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// oauthError is an RFC 6749 section 5.2 error response.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description,omitempty"`
	basic  bool   // answer WWW-Authenticate: Basic (client authenticated with Basic)
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Desc }

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

func errInvalidGrant(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Desc: desc}
}

func writeOAuthError(w http.ResponseWriter, err *oauthError) {
	if err.status == http.StatusUnauthorized && err.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="portico-devidp"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, err.status, err)
}

// parseClientForm parses a form POST and authenticates the client by HTTP Basic or by
// client_id and client_secret in the body (RFC 6749 section 2.3.1).
func (s *Server) parseClientForm(w http.ResponseWriter, r *http.Request) (*client, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, errInvalidRequest("content type must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("malformed form body")
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Has("client_secret") {
			return nil, errInvalidRequest("use one client authentication method")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: "malformed credentials", basic: true}
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return nil, errInvalidRequest("client_id does not match the authenticated client")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := s.clients[id]
	if !ok || !c.secretMatches(secret) {
		return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: "client authentication failed", basic: basic}
	}
	return c, nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	c, oerr := s.parseClientForm(w, r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	grant := r.PostForm.Get("grant_type")
	var ts *tokenSet
	switch grant {
	case "authorization_code", "refresh_token", "client_credentials":
		if !c.allows(grant) {
			oerr = &oauthError{status: http.StatusBadRequest, Code: "unauthorized_client", Desc: "client may not use " + grant}
			break
		}
		switch grant {
		case "authorization_code":
			ts, oerr = s.redeemCode(c, r.PostForm)
		case "refresh_token":
			ts, oerr = s.redeemRefresh(c, r.PostForm)
		default:
			ts, oerr = s.clientCredentials(c, r.PostForm)
		}
	case "":
		oerr = errInvalidRequest("grant_type is required")
	default:
		oerr = &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Desc: "unsupported grant_type"}
	}
	if oerr != nil {
		s.cfg.logger.Info("token request refused", "client_id", c.id, "grant_type", grant, "error", oerr.Code)
		writeOAuthError(w, oerr)
		return
	}
	s.cfg.logger.Info("tokens issued", "client_id", c.id, "grant_type", grant)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, ts)
}

func (s *Server) redeemCode(c *client, form url.Values) (*tokenSet, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, errInvalidRequest("code is required")
	}
	now := s.now()
	s.mu.Lock()
	ac, ok := s.codes[code]
	var replayed bool
	if ok {
		replayed = ac.used
		ac.used = true
	}
	s.mu.Unlock()
	switch {
	case !ok || now.After(ac.expires):
		return nil, errInvalidGrant("invalid or expired code")
	case replayed:
		// RFC 6749 4.1.2: a code used twice revokes what it issued.
		if err := s.revoked.revoke(ac.sess.originJTI, now.Add(s.cfg.refreshTTL), now); err != nil {
			s.cfg.logger.Error("revoke replayed code's tokens", "err", err)
		}
		s.cfg.logger.Warn("authorization code replayed; its tokens are revoked", "client_id", c.id)
		return nil, errInvalidGrant("code already used")
	case ac.sess.clientID != c.id:
		return nil, errInvalidGrant("code was issued to another client")
	case form.Get("redirect_uri") != ac.redirectURI:
		return nil, errInvalidGrant("redirect_uri does not match the authorization request")
	}
	if ac.codeChallenge != "" {
		verifier := form.Get("code_verifier")
		if verifier == "" {
			return nil, errInvalidRequest("code_verifier is required")
		}
		sum := sha256.Sum256([]byte(verifier))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if !codeVerifierRE.MatchString(verifier) || subtle.ConstantTimeCompare([]byte(got), []byte(ac.codeChallenge)) != 1 {
			return nil, errInvalidGrant("code_verifier does not match code_challenge")
		}
	} else if form.Has("code_verifier") {
		return nil, errInvalidGrant("code_verifier sent but no code_challenge was")
	}
	ts, err := s.issue(ac.sess, ac.nonce, true)
	if err != nil {
		s.cfg.logger.Error("issue tokens", "err", err)
		return nil, &oauthError{status: http.StatusInternalServerError, Code: "server_error"}
	}
	return ts, nil
}

func (s *Server) redeemRefresh(c *client, form url.Values) (*tokenSet, *oauthError) {
	token := form.Get("refresh_token")
	if token == "" {
		return nil, errInvalidRequest("refresh_token is required")
	}
	p, err := s.openRefresh(token, s.now())
	if err != nil {
		return nil, errInvalidGrant("invalid, expired or revoked refresh token")
	}
	if p.ClientID != c.id {
		return nil, errInvalidGrant("refresh token was issued to another client")
	}
	user, ok := s.users[p.Username]
	if !ok || user.Subject != p.Subject {
		return nil, errInvalidGrant("user no longer exists")
	}
	sess := &session{
		user: user, clientID: p.ClientID, scopes: strings.Fields(p.Scope),
		authTime: time.Unix(p.AuthTime, 0), originJTI: p.Family,
	}
	if form.Has("scope") {
		if requested := strings.Fields(form.Get("scope")); !subset(requested, sess.scopes) {
			return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: "scope exceeds the original grant"}
		}
	}
	// As Cognito without refresh-token rotation: new access and ID tokens, same refresh
	// token. The Entra-shaped mode rotates it (issue decides).
	ts, err := s.issue(sess, "", false)
	if err != nil {
		s.cfg.logger.Error("issue tokens", "err", err)
		return nil, &oauthError{status: http.StatusInternalServerError, Code: "server_error"}
	}
	return ts, nil
}

func (s *Server) clientCredentials(c *client, form url.Values) (*tokenSet, *oauthError) {
	if s.cfg.entra != nil {
		return s.entraClientCredentials(c, form)
	}
	scopes, ok := c.grantScopes(strings.Fields(form.Get("scope")))
	if !ok {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: "scope not allowed for this client"}
	}
	access, err := s.SignClaims(s.machineAccessClaims(c.id, scopes, s.now()))
	if err != nil {
		s.cfg.logger.Error("issue tokens", "err", err)
		return nil, &oauthError{status: http.StatusInternalServerError, Code: "server_error"}
	}
	return &tokenSet{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.cfg.accessTTL / time.Second)}, nil
}

// handleRevoke implements RFC 7009 for refresh tokens: revoking one ends its token family,
// so it can no longer be redeemed and its access tokens fail at userInfo.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	c, oerr := s.parseClientForm(w, r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, errInvalidRequest("token is required"))
		return
	}
	now := s.now()
	p, err := s.openRefresh(token, now)
	if err != nil {
		// RFC 7009 2.2: invalid, expired or already revoked tokens are answered with 200.
		w.WriteHeader(http.StatusOK)
		return
	}
	if p.ClientID != c.id {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, Code: "unauthorized_client", Desc: "token was issued to another client"})
		return
	}
	if err := s.revoked.revoke(p.Family, time.Unix(p.Expires, 0), now); err != nil {
		s.cfg.logger.Error("revoke", "err", err)
		writeOAuthError(w, &oauthError{status: http.StatusServiceUnavailable, Code: "server_error"})
		return
	}
	s.cfg.logger.Info("refresh token revoked", "client_id", c.id, "username", p.Username)
	w.WriteHeader(http.StatusOK)
}

// handleUserInfo answers OIDC userInfo for a valid, unrevoked access token with openid scope.
// As Cognito, email_verified is the string "true" or "false".
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico-devidp"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "bearer token required"})
		return
	}
	claims, err := s.verifyAccess(token, s.now())
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error()})
		return
	}
	scope, _ := claims["scope"].(string)
	username, _ := claims["username"].(string)
	if s.cfg.entra != nil {
		scope, _ = claims["scp"].(string)
		username = s.usernameByObjectID(claims["oid"])
	}
	user, ok := s.users[username]
	if !ok || !contains(strings.Fields(scope), "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "userInfo needs a user's token with the openid scope"})
		return
	}
	verified := "false"
	if user.Email != "" {
		verified = "true"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":               user.Subject,
		"username":          user.Username,
		"email":             user.Email,
		"email_verified":    verified,
		"name":              user.Name(),
		"given_name":        user.GivenName,
		"family_name":       user.FamilyName,
		"custom:department": user.Department,
	})
}

// handleLogout is Cognito's /logout?client_id=…&logout_uri=…: it redirects to logout_uri when
// that is one of the client's sign-out URLs. There is no single sign-on session to end.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.clients[q.Get("client_id")]
	if !ok {
		s.renderError(w, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	logoutURI := q.Get("logout_uri")
	if !s.logoutAllowed(c, logoutURI) {
		s.renderError(w, http.StatusBadRequest, "logout_uri is not a sign-out URL of this client.")
		return
	}
	http.Redirect(w, r, logoutURI, http.StatusFound) //nolint:gosec // G710: logoutAllowed matched it exactly against the client's sign-out URLs
}

func subset(sub, of []string) bool {
	for _, s := range sub {
		if !contains(of, s) {
			return false
		}
	}
	return true
}
