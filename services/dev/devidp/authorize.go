package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Lifetimes of the pieces of a sign-in.
const (
	loginFormTTL = 10 * time.Minute
	authCodeTTL  = 5 * time.Minute
	// maxPending bounds the login forms kept in memory.
	maxPending = 10000
)

// authRequest is an authorization request waiting for the user to sign in.
type authRequest struct {
	client        *client
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	codeChallenge string
	expires       time.Time
}

// authCode is an issued authorization code. After redemption it stays, marked used, until
// it expires, so that a replay can revoke what the first redemption issued (RFC 6749 4.1.2).
type authCode struct {
	sess          *session
	redirectURI   string
	nonce         string
	codeChallenge string
	expires       time.Time
	used          bool
}

var (
	//go:embed login.html
	loginHTML string
	//go:embed login.css
	loginCSS  string
	loginPage = template.Must(template.New("login").Funcs(template.FuncMap{"join": strings.Join}).Parse(loginHTML))
	// loginCSP allows nothing but the page's own style block (by hash): no script at all.
	loginStyleHash = func() string {
		sum := sha256.Sum256([]byte(loginCSS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
)

// codeChallengeRE is RFC 7636's S256 challenge: base64url of 32 bytes.
var codeChallengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

type loginView struct {
	Style     template.CSS
	Action    string
	RequestID string
	Username  string
	Error     string
	Users     []*User // listed only for the embedded dev users
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.clients[q.Get("client_id")]
	if !ok {
		s.renderError(w, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !s.redirectAllowed(c, redirectURI) {
		s.renderError(w, http.StatusBadRequest, "redirect_uri is not registered for this client.")
		return
	}
	// From here on, errors go back to the client's redirect URI.
	state := q.Get("state")
	fail := func(code, desc string) { redirectError(w, r, redirectURI, state, code, desc) }
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	if !c.allows("authorization_code") {
		fail("unauthorized_client", "client may not use the authorization code grant")
		return
	}
	scopes, ok := c.grantScopes(strings.Fields(q.Get("scope")))
	if !ok {
		fail("invalid_scope", "scope not allowed for this client")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && c.requirePKCE:
		fail("invalid_request", "code_challenge is required (PKCE S256)")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case challenge != "" && !codeChallengeRE.MatchString(challenge):
		fail("invalid_request", "malformed code_challenge")
		return
	}
	id := randomString(32)
	now := s.now()
	s.mu.Lock()
	s.prune(now)
	if len(s.pending) >= maxPending {
		s.mu.Unlock()
		s.renderError(w, http.StatusServiceUnavailable, "Too many sign-ins in progress; try again in a few minutes.")
		return
	}
	s.pending[id] = &authRequest{
		client: c, redirectURI: redirectURI, state: state, nonce: q.Get("nonce"),
		scopes: scopes, codeChallenge: challenge, expires: now.Add(loginFormTTL),
	}
	s.mu.Unlock()
	s.renderLogin(w, http.StatusOK, redirectURI, loginView{RequestID: id})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, http.StatusBadRequest, "Malformed sign-in form.")
		return
	}
	id := r.PostForm.Get("request")
	now := s.now()
	s.mu.Lock()
	req, ok := s.pending[id]
	if ok && now.After(req.expires) {
		delete(s.pending, id)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		s.renderError(w, http.StatusBadRequest, "This sign-in page has expired. Go back to the application and sign in again.")
		return
	}
	username := r.PostForm.Get("username")
	user := s.authenticate(username, r.PostForm.Get("password"))
	if user == nil {
		s.cfg.logger.Info("sign-in failed", "client_id", req.client.id)
		s.renderLogin(w, http.StatusOK, req.redirectURI, loginView{
			RequestID: id, Username: username, Error: "Incorrect username or password.",
		})
		return
	}
	code := randomString(43)
	s.mu.Lock()
	if _, still := s.pending[id]; !still { // a concurrent submission won
		s.mu.Unlock()
		s.renderError(w, http.StatusBadRequest, "This sign-in page has already been used.")
		return
	}
	delete(s.pending, id)
	s.codes[code] = &authCode{
		sess: &session{
			user: user, clientID: req.client.id, scopes: req.scopes,
			authTime: now, originJTI: newID(),
		},
		redirectURI: req.redirectURI, nonce: req.nonce, codeChallenge: req.codeChallenge,
		expires: now.Add(authCodeTTL),
	}
	s.mu.Unlock()
	s.cfg.logger.Info("signed in", "username", user.Username, "client_id", req.client.id)
	params := url.Values{"code": {code}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, params), http.StatusFound)
}

// authenticate returns the user whose username and password match, or nil. It compares a
// password even for unknown users, so timing does not tell which usernames exist.
func (s *Server) authenticate(username, password string) *User {
	user, ok := s.users[username]
	want := DevPassword + "\x00unknown-user"
	if ok {
		want = user.Password
	}
	got := sha256.Sum256([]byte(password))
	exp := sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || !ok {
		return nil
	}
	return user
}

// prune forgets expired login forms and codes. Callers hold s.mu.
func (s *Server) prune(now time.Time) {
	for id, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, id)
		}
	}
	for c, ac := range s.codes {
		if now.After(ac.expires) {
			delete(s.codes, c)
		}
	}
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, redirectURI string, v loginView) {
	formAction := "'self'"
	if u, err := url.Parse(redirectURI); err == nil && u.Host != "" {
		// Browsers apply form-action to the redirect that follows the form post.
		formAction += " " + u.Scheme + "://" + u.Host
	}
	v.Style = template.CSS(loginCSS) //nolint:gosec // G203: the embedded style sheet, no input
	v.Action = s.issuerPath + "/login"
	if s.cfg.entra == nil {
		v.Action = "/login"
	}
	if s.cfg.devUsers {
		for _, name := range sortedKeys(s.users) {
			v.Users = append(v.Users, s.users[name])
		}
	}
	s.writeHTML(w, status, "default-src 'none'; style-src "+loginStyleHash+"; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'", v)
}

func (s *Server) renderError(w http.ResponseWriter, status int, msg string) {
	s.writeHTML(w, status, "default-src 'none'; style-src "+loginStyleHash+"; frame-ancestors 'none'; base-uri 'none'",
		loginView{Style: template.CSS(loginCSS), Error: msg}) //nolint:gosec // G203: the embedded style sheet, no input
}

func (s *Server) writeHTML(w http.ResponseWriter, status int, csp string, v loginView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, v); err != nil {
		s.cfg.logger.Error("render login page", "err", err)
	}
}

// redirectError sends an OAuth error back to the client's redirect URI.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	params := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		params.Set("state", state)
	}
	// G710: callers pass only a redirect URI registered for the client (exact match).
	http.Redirect(w, r, withQuery(redirectURI, params), http.StatusFound) //nolint:gosec // see above
}

// withQuery adds params to uri's query.
func withQuery(uri string, params url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}
