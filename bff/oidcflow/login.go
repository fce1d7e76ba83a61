package oidcflow

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/portico-dev/portico/bff/session"
)

// loginState is what the login cookie carries from /auth/login to /auth/callback.
type loginState struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	ReturnTo string    `json:"returnTo"`
	Expires  time.Time `json:"exp"`
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return base64.RawURLEncoding.EncodeToString(b)
}

// Login serves GET /auth/login?returnTo=/local/path: it starts the authorization code flow
// with PKCE and redirects to the provider.
func (f *Flow) Login(w http.ResponseWriter, r *http.Request) {
	returnTo, ok := ValidReturnTo(r.URL.Query().Get("returnTo"))
	if !ok {
		writePage(w, pageBadReturnTo)
		return
	}
	// Rediscover at every sign-in: it notices a provider that is down before sending the
	// user there, and picks up changed endpoints.
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	p, err := f.providers.discover(ctx)
	if err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "sign-in unavailable", "err", err)
		writePage(w, pageUnavailable)
		return
	}
	st := loginState{
		State:    randomString(),
		Nonce:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: returnTo,
		Expires:  f.cfg.Now().Add(LoginCookieLifetime),
	}
	payload, err := json.Marshal(st)
	if err == nil {
		err = f.loginJar.Write(w, r, payload, LoginCookieLifetime)
	}
	if err != nil {
		f.cfg.Logger.ErrorContext(r.Context(), "write login cookie", "err", err)
		writePage(w, pageInternal)
		return
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier), oauth2.SetAuthURLParam("nonce", st.Nonce)}
	if f.cfg.IdentityProvider != "" {
		opts = append(opts, oauth2.SetAuthURLParam("identity_provider", f.cfg.IdentityProvider))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.oauth.AuthCodeURL(st.State, opts...), http.StatusFound)
}

// Callback serves GET /auth/callback: it checks state, exchanges the code, verifies the ID
// token and its nonce, ends any earlier session and starts the new one.
func (f *Flow) Callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	st, ok := f.readLoginState(r)
	// The login state is single-use: clear it whatever happens next, so a replayed callback
	// finds no state.
	f.loginJar.Clear(w, r)
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		writePage(w, pageLoginExpired)
		return
	}
	if code := q.Get("error"); code != "" {
		f.cfg.Logger.InfoContext(r.Context(), "sign-in refused by the provider", "error", truncate(code, 64))
		if code == "access_denied" {
			writePage(w, pageDenied)
		} else {
			writePage(w, pageIdPError)
		}
		return
	}
	code := q.Get("code")
	if code == "" {
		writePage(w, pageExchangeFailed)
		return
	}
	ctx, cancel := context.WithTimeout(f.clientContext(r.Context()), 10*time.Second)
	defer cancel()
	p, err := f.providers.get(ctx)
	if err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "sign-in unavailable", "err", err)
		writePage(w, pageUnavailable)
		return
	}
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		if re, isOAuth := errors.AsType[*oauth2.RetrieveError](err); isOAuth && re.Response != nil && re.Response.StatusCode < 500 {
			f.cfg.Logger.InfoContext(r.Context(), "code exchange refused", "err", oauthErrorCode(err))
			writePage(w, pageExchangeFailed)
		} else {
			f.cfg.Logger.WarnContext(r.Context(), "code exchange failed", "err", err)
			writePage(w, pageUnavailable)
		}
		return
	}
	user, err := f.verifyIDToken(ctx, p, tok, st.Nonce)
	if err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "ID token refused", "err", err)
		writePage(w, pageExchangeFailed)
		return
	}
	// Fixation: whatever session the browser had ends here; the new one gets a new id.
	if err := f.cfg.Sessions.Clear(w, r); err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "clear previous session", "err", err)
	}
	now := f.cfg.Now()
	s := &session.Session{
		ID:           session.NewID(),
		User:         *user,
		AccessToken:  tok.AccessToken,
		AccessExpiry: tok.Expiry,
		RefreshToken: tok.RefreshToken,
		Created:      now,
		Expires:      now.Add(f.sessionLifetime(tok)),
	}
	if err := f.cfg.Sessions.Save(w, r, s); err != nil {
		if errors.Is(err, session.ErrUnavailable) {
			f.cfg.Logger.WarnContext(r.Context(), "session store unavailable at sign-in", "err", err)
			setRetryAfter(w)
			writePage(w, pageSessionsUnavailable)
			return
		}
		f.cfg.Logger.ErrorContext(r.Context(), "save session", "err", err)
		writePage(w, pageInternal)
		return
	}
	f.cfg.Logger.InfoContext(r.Context(), "signed in", "subject", user.Subject, "groups", len(user.Groups))
	http.Redirect(w, r, st.ReturnTo, http.StatusSeeOther)
}

func (f *Flow) readLoginState(r *http.Request) (loginState, bool) {
	var st loginState
	raw, err := f.loginJar.Read(r)
	if err != nil || json.Unmarshal(raw, &st) != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return st, false
	}
	if !f.cfg.Now().Before(st.Expires) {
		return st, false
	}
	returnTo, ok := ValidReturnTo(st.ReturnTo)
	st.ReturnTo = returnTo
	return st, ok
}

// sessionLifetime is the configured maximum, bounded by the refresh token's lifetime (the
// provider's refresh_expires_in when it sends one) or, without a refresh token, by the access
// token's.
func (f *Flow) sessionLifetime(tok *oauth2.Token) time.Duration {
	lifetime := min(f.cfg.MaxSessionLifetime, f.cfg.RefreshTokenLifetime)
	if v, ok := tok.Extra("refresh_expires_in").(float64); ok && v > 0 {
		lifetime = min(lifetime, time.Duration(v)*time.Second)
	}
	if tok.RefreshToken == "" && !tok.Expiry.IsZero() {
		lifetime = min(lifetime, tok.Expiry.Sub(f.cfg.Now()))
	}
	return lifetime
}

// idClaims are the ID token claims the BFF reads.
type idClaims struct {
	Subject         string   `json:"sub"`
	TokenUse        string   `json:"token_use"`
	Nonce           string   `json:"nonce"`
	CognitoUsername string   `json:"cognito:username"`
	Username        string   `json:"username"`
	Email           string   `json:"email"`
	Name            string   `json:"name"`
	GivenName       string   `json:"given_name"`
	FamilyName      string   `json:"family_name"`
	Groups          []string `json:"cognito:groups"`
}

var (
	errNoIDToken   = errors.New("token response has no id_token")
	errNonce       = errors.New("ID token nonce does not match")
	errTokenUse    = errors.New("ID token token_use is not \"id\"")
	errNoAccessTok = errors.New("token response has no access_token")
)

// verifyIDToken verifies the ID token in tok (signature, issuer, audience, expiry with
// go-oidc; token_use and, when nonce is not empty, the nonce here) and returns its user.
func (f *Flow) verifyIDToken(ctx context.Context, p *provider, tok *oauth2.Token, nonce string) (*session.User, error) {
	if tok.AccessToken == "" {
		return nil, errNoAccessTok
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errNoIDToken
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, err
	}
	if c.TokenUse != "" && c.TokenUse != "id" {
		return nil, errTokenUse
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, errNonce
	}
	u := &session.User{Subject: idt.Subject, Username: c.CognitoUsername, Email: c.Email, Name: c.Name, Groups: c.Groups}
	if u.Username == "" {
		u.Username = c.Username
	}
	if u.Name == "" && (c.GivenName != "" || c.FamilyName != "") {
		u.Name = c.GivenName + " " + c.FamilyName
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	slices.Sort(u.Groups)
	return u, nil
}

func oauthErrorCode(err error) string {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		return truncate(re.ErrorCode, 64)
	}
	return "unknown"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
