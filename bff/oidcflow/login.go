package oidcflow

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
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
	local := false
	switch idp := r.URL.Query().Get("idp"); idp {
	case "":
	case LocalSignIn:
		if f.cfg.BreakGlassGroup == "" {
			writePage(w, pageNoLocalSignIn)
			return
		}
		local = true
	default:
		writePage(w, pageBadIdP)
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
	if local && !p.cognito {
		// Break-glass sign-in is Cognito's local user directory; a standard provider has none.
		writePage(w, pageNoLocalSignIn)
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
	switch {
	case local:
		opts = append(opts, oauth2.SetAuthURLParam("identity_provider", cognitoLocalProvider))
	case f.cfg.IdentityProvider != "" && p.cognito:
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
	// Break-glass membership is decided on the signed ID token's groups alone, never on what
	// userinfo adds below.
	signedGroups := slices.Clone(user.Groups)
	if err := f.completeFromUserInfo(ctx, p, tok, user); err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "userinfo refused", "err", err)
		writePage(w, pageExchangeFailed)
		return
	}
	// Fail closed: with a break-glass group configured, every user who is not federated must be
	// in it, whatever the provider was recognised as.
	if f.cfg.BreakGlassGroup != "" && !user.federated && !slices.Contains(signedGroups, f.cfg.BreakGlassGroup) {
		f.cfg.Logger.InfoContext(r.Context(), "local user outside the break-glass group refused", "subject", user.Subject)
		writePage(w, pageDenied)
		return
	}
	// Fixation: whatever session the browser had ends here; the new one gets a new id. When
	// the store cannot delete the old one, sign-in waits for it rather than leave that session
	// valid on the server behind the new cookie.
	if err := f.cfg.Sessions.Clear(w, r); err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "session store unavailable: previous session not ended at sign-in", "err", err)
		setRetryAfter(w)
		writePage(w, pageSessionsUnavailable)
		return
	}
	now := f.cfg.Now()
	s := &session.Session{
		ID:           session.NewID(),
		User:         user.User,
		AccessToken:  tok.AccessToken,
		AccessExpiry: tok.Expiry,
		RefreshToken: tok.RefreshToken,
		Created:      now,
		Expires:      now.Add(f.sessionLifetime(tok)),
	}
	if !p.cognito {
		s.IDToken, _ = tok.Extra("id_token").(string) // the id_token_hint of RP-initiated logout
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

// idClaims are the ID token (and userinfo) claims the BFF reads.
type idClaims struct {
	Issuer            string   `json:"iss"`
	Subject           string   `json:"sub"`
	TokenUse          string   `json:"token_use"`
	Nonce             string   `json:"nonce"`
	CognitoUsername   string   `json:"cognito:username"`
	Username          string   `json:"username"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Name              string   `json:"name"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	Groups            []string `json:"cognito:groups"`
	// Entra ID: tenant, app roles and group object ids.
	TenantID    string   `json:"tid"`
	Roles       []string `json:"roles"`
	EntraGroups []string `json:"groups"`
	// Cognito: the federated identities of a user who signed in through an external
	// identity provider (absent for the pool's local users).
	Identities []json.RawMessage `json:"identities"`
}

// user maps the claims to what the session keeps.
func (c *idClaims) user() session.User {
	u := session.User{Subject: c.Subject, Username: c.CognitoUsername, Email: c.Email, Name: c.Name, Groups: slices.Clone(c.Groups)}
	if u.Username == "" {
		u.Username = c.Username
	}
	if u.Username == "" {
		u.Username = c.PreferredUsername
	}
	if u.Name == "" && (c.GivenName != "" || c.FamilyName != "") {
		u.Name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	if u.Groups == nil {
		u.Groups = append(slices.Clone(c.Roles), c.EntraGroups...)
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	slices.Sort(u.Groups)
	u.Groups = slices.Compact(u.Groups)
	return u
}

// signedInUser is a verified ID token's user and what the flow decides on.
type signedInUser struct {
	session.User
	// federated says the ID token names a federated identity (Cognito's identities claim).
	federated bool
}

var (
	errNoIDToken   = errors.New("token response has no id_token")
	errNonce       = errors.New("ID token nonce does not match")
	errTokenUse    = errors.New("ID token token_use is not \"id\"")
	errNoAccessTok = errors.New("token response has no access_token")
	// errUserInfoSubject: userinfo named another subject than the ID token.
	errUserInfoSubject = errors.New("userinfo sub differs from the ID token's")
)

// LocalSignIn is the value of /auth/login's idp parameter that asks for break-glass
// sign-in (Config.BreakGlassGroup).
const LocalSignIn = "local"

// cognitoLocalProvider is Cognito's identity_provider value for the pool's own users.
const cognitoLocalProvider = "COGNITO"

// verifyIDToken verifies the ID token in tok (signature, issuer, audience, expiry with
// go-oidc; a multi-tenant issuer, the tenant, token_use and, when nonce is not empty, the
// nonce here) and returns its user.
func (f *Flow) verifyIDToken(ctx context.Context, p *provider, tok *oauth2.Token, nonce string) (*signedInUser, error) {
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
	if p.issuerTemplate != "" {
		if err := tenantIssuer(p.issuerTemplate, c.Issuer, c.TenantID, f.cfg.AllowedTenants); err != nil {
			return nil, err
		}
	} else if len(f.cfg.AllowedTenants) > 0 && !slices.Contains(f.cfg.AllowedTenants, c.TenantID) {
		return nil, fmt.Errorf("tenant %q may not sign in", c.TenantID)
	}
	return &signedInUser{User: c.user(), federated: len(c.Identities) > 0}, nil
}

// completeFromUserInfo fills in the name, e-mail, user name and groups the ID token left
// out from the provider's userinfo endpoint, when it has one. Userinfo must name the ID
// token's subject (OpenID Connect Core 5.3.2), or sign-in is refused; a provider that does
// not answer (Entra's userinfo accepts only Microsoft Graph tokens) leaves the ID token's
// claims as they are.
func (f *Flow) completeFromUserInfo(ctx context.Context, p *provider, tok *oauth2.Token, u *signedInUser) error {
	if p.meta.UserInfoURL == "" || (u.Email != "" && u.Name != "" && u.Username != "") {
		return nil
	}
	info, err := f.fetchUserInfo(ctx, p, tok.AccessToken)
	if err != nil {
		f.cfg.Logger.InfoContext(ctx, "userinfo unavailable; keeping the ID token's claims", "err", err)
		return nil
	}
	if info.Subject != u.Subject {
		return errUserInfoSubject
	}
	more := info.user()
	if u.Email == "" {
		u.Email = more.Email
	}
	if u.Name == "" {
		u.Name = more.Name
	}
	if u.Username == "" {
		u.Username = more.Username
	}
	if len(u.Groups) == 0 {
		u.Groups = more.Groups
	}
	return nil
}

// fetchUserInfo calls the userinfo endpoint with accessToken.
func (f *Flow) fetchUserInfo(ctx context.Context, p *provider, accessToken string) (*idClaims, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.meta.UserInfoURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo: %s", resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("userinfo: content type %q (signed userinfo is not supported)", mt)
	}
	var c idClaims
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&c); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	return &c, nil
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
