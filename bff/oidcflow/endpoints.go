package oidcflow

import (
	"context"
	"crypto/subtle"
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
	if s != nil && s.RefreshToken != "" && perr == nil && p.revokeURL != "" {
		if err := f.revoke(ctx, p, s.RefreshToken); err != nil {
			f.cfg.Logger.WarnContext(r.Context(), "revoke refresh token", "subject", s.User.Subject, "err", err)
		}
	}
	if perr == nil && !p.cognito && p.logoutURL == "" {
		// A standard provider without RP-initiated logout: the sign-out is Portico's alone.
		writeJSON(w, LogoutResponse{LogoutURL: f.cfg.PublicURL + "/"})
		return
	}
	if perr == nil && !p.cognito {
		// RP-initiated logout; the state comes back to /auth/signed-out, which checks it.
		st := logoutState{State: randomString(), Expires: f.cfg.Now().Add(LoginCookieLifetime)}
		payload, err := json.Marshal(st)
		if err == nil {
			err = f.logoutJar.Write(w, r, payload, LoginCookieLifetime)
		}
		if err != nil {
			f.cfg.Logger.ErrorContext(r.Context(), "write logout cookie", "err", err)
			writeJSON(w, LogoutResponse{LogoutURL: "/"})
			return
		}
		q := url.Values{
			"client_id":                {f.cfg.ClientID},
			"post_logout_redirect_uri": {f.cfg.PublicURL + SignedOutPath},
			"state":                    {st.State},
		}
		if s != nil && s.IDToken != "" {
			q.Set("id_token_hint", s.IDToken)
		}
		writeJSON(w, LogoutResponse{LogoutURL: withQuery(p.logoutURL, q)})
		return
	}
	logoutBase := strings.TrimSuffix(f.cfg.Issuer, "/") + "/logout"
	if perr == nil {
		logoutBase = p.logoutURL
	}
	q := url.Values{"client_id": {f.cfg.ClientID}, "logout_uri": {f.cfg.PublicURL + "/"}}
	writeJSON(w, LogoutResponse{LogoutURL: logoutBase + "?" + q.Encode()})
}

// SignedOutPath is where a standard provider returns the browser after RP-initiated logout
// (the post_logout_redirect_uri to register with the provider, after the public URL).
const SignedOutPath = "/auth/signed-out"

// logoutState is what the logout cookie carries from /auth/logout to /auth/signed-out.
type logoutState struct {
	State   string    `json:"state"`
	Expires time.Time `json:"exp"`
}

// SignedOut serves GET /auth/signed-out?state=…, the return from the provider's
// end_session_endpoint: with the state this browser's logout started, it redirects home;
// otherwise (forged, replayed or expired) it answers 400 with a page saying so. The state
// is single-use. Portico's own session ended at POST /auth/logout either way.
func (f *Flow) SignedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	raw, err := f.logoutJar.Read(r)
	f.logoutJar.Clear(w, r)
	var st logoutState
	if err != nil || json.Unmarshal(raw, &st) != nil || st.State == "" || !f.cfg.Now().Before(st.Expires) ||
		subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(st.State)) != 1 {
		f.cfg.Logger.InfoContext(r.Context(), "sign-out return refused: state does not match")
		writePage(w, pageLogoutState)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// withQuery adds q to endpoint's own query (an end_session_endpoint may have one).
func withQuery(endpoint string, q url.Values) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint + "?" + q.Encode()
	}
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	return u.String()
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
