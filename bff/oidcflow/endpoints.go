package oidcflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/bff/session"
)

// SessionResponse is the body of GET /auth/session.
type SessionResponse struct {
	// User is the signed-in person.
	User session.User `json:"user"`
	// ExpiresAt is the absolute end of the session.
	ExpiresAt time.Time `json:"expiresAt"`
}

// LogoutResponse is the body of POST /auth/logout.
type LogoutResponse struct {
	// LogoutURL ends the provider's own session; the SPA navigates to it.
	LogoutURL string `json:"logoutUrl"`
}

var errorWriter = connect.NewErrorWriter()

// WriteError writes err as a Connect error in the protocol of r (Connect unary JSON for
// plain requests).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Cache-Control", "no-store")
	_ = errorWriter.Write(w, r, err)
}

// Session serves GET /auth/session: the user, groups and session expiry; 401 when
// anonymous. The caller checks CSRF first.
func (f *Flow) Session(w http.ResponseWriter, r *http.Request) {
	s, err := f.Authorize(w, r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, SessionResponse{User: s.User, ExpiresAt: s.Expires.UTC().Truncate(time.Second)})
}

// Logout serves POST /auth/logout: it ends the session (with a session store, deleting it
// there, so a copy of the cookie is dead at once), revokes the refresh token and returns the
// provider's logout URL. Logging out without a session still succeeds. When the session
// store fails, nothing is ended: the answer is 503 Unavailable with Retry-After and the
// cookie is kept, so the browser can log out again rather than believe it has. The caller
// checks CSRF first.
func (f *Flow) Logout(w http.ResponseWriter, r *http.Request) {
	s, err := f.cfg.Sessions.Load(r)
	if err == nil {
		f.recent.forget(s.ID)
	}
	if err == nil || !errors.Is(err, session.ErrUnavailable) {
		err = f.cfg.Sessions.Clear(w, r)
	}
	if err != nil {
		f.cfg.Logger.WarnContext(r.Context(), "logout: session store unavailable; session kept", "err", err)
		WriteError(w, r, unavailable(w, "sessions are unavailable right now; log out again"))
		return
	}
	ctx, cancel := context.WithTimeout(f.clientContext(r.Context()), 10*time.Second)
	defer cancel()
	p, perr := f.providers.get(ctx)
	if s != nil && s.RefreshToken != "" && perr == nil {
		if err := f.revoke(ctx, p, s.RefreshToken); err != nil {
			f.cfg.Logger.WarnContext(r.Context(), "revoke refresh token", "subject", s.User.Subject, "err", err)
		}
	}
	logoutBase := strings.TrimSuffix(f.cfg.Issuer, "/") + "/logout"
	if perr == nil {
		logoutBase = p.logoutURL
	}
	q := url.Values{"client_id": {f.cfg.ClientID}, "logout_uri": {f.cfg.PublicURL + "/"}}
	writeJSON(w, LogoutResponse{LogoutURL: logoutBase + "?" + q.Encode()})
}

// revoke revokes a refresh token (RFC 7009, Cognito's /oauth2/revoke).
func (f *Flow) revoke(ctx context.Context, p *provider, token string) error {
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint: %s", resp.Status)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // the logout URL keeps its '&'
	_ = enc.Encode(v)
}
