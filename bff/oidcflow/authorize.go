package oidcflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"

	"github.com/portico-dev/portico/bff/session"
)

// errRefreshRefused marks a refresh the provider refused (invalid_grant and the like): the
// session is over.
var errRefreshRefused = errors.New("refresh refused")

// Authorize returns the signed-in session of r with an access token valid for at least the
// refresh skew, refreshing it first (one refresh per session at a time) and writing the new
// session cookie to w when it changed. Its errors are connect errors for the edge:
// Unauthenticated when there is no usable session (the cookies are then cleared), and
// Unavailable, with Retry-After set on w and the session kept, when the session store fails
// or the token has expired and the provider cannot be reached to refresh it. Only a
// definitive answer (no such session, expired, refused refresh) ends a session.
func (f *Flow) Authorize(w http.ResponseWriter, r *http.Request) (*session.Session, error) {
	s, err := f.cfg.Sessions.Load(r)
	if err != nil {
		if errors.Is(err, session.ErrUnavailable) {
			f.cfg.Logger.WarnContext(r.Context(), "session store unavailable; session kept", "err", err)
			return nil, unavailable(w, "sessions are unavailable right now; try again")
		}
		if !errors.Is(err, session.ErrNoSession) {
			if err := f.cfg.Sessions.Clear(w, r); err != nil {
				f.cfg.Logger.WarnContext(r.Context(), "clear ended session", "err", err)
			}
		}
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("not signed in"))
	}
	now := f.cfg.Now()
	if s.AccessExpiry.Sub(now) > f.cfg.RefreshSkew {
		if f.cfg.Sessions.NeedsTouch(s) {
			if err := f.cfg.Sessions.Save(w, r, s); err != nil {
				f.cfg.Logger.WarnContext(r.Context(), "touch session", "err", err)
			}
		}
		return s, nil
	}
	refreshed, err := f.refresh(r.Context(), s)
	switch {
	case err == nil:
		if err := f.cfg.Sessions.Save(w, r, refreshed); err != nil {
			if errors.Is(err, session.ErrInvalid) {
				// Signed out (or revoked) while the refresh ran: the cookie is already cleared.
				f.cfg.Logger.InfoContext(r.Context(), "session ended during refresh")
				return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("the session has ended; sign in again"))
			}
			if errors.Is(err, session.ErrUnavailable) {
				// The session still holds the old tokens; a retry within recentRefreshTTL
				// reuses this refresh instead of making another.
				f.cfg.Logger.WarnContext(r.Context(), "session store unavailable; refreshed session not saved", "err", err)
				return nil, unavailable(w, "sessions are unavailable right now; try again")
			}
			f.cfg.Logger.ErrorContext(r.Context(), "save refreshed session", "err", err)
			return nil, connect.NewError(connect.CodeInternal, errors.New("could not save the session"))
		}
		return refreshed, nil
	case errors.Is(err, errRefreshRefused):
		f.cfg.Logger.InfoContext(r.Context(), "refresh refused; session ended", "subject", s.User.Subject, "err", err)
		if err := f.cfg.Sessions.Clear(w, r); err != nil {
			f.cfg.Logger.WarnContext(r.Context(), "clear ended session", "err", err)
		}
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("session ended; sign in again"))
	case now.Before(s.AccessExpiry):
		// The provider is unreachable but the token still works: use it.
		f.cfg.Logger.WarnContext(r.Context(), "refresh failed; using the current token", "err", err)
		return s, nil
	default:
		f.cfg.Logger.WarnContext(r.Context(), "refresh failed", "err", err)
		return nil, unavailable(w, "sign-in service unavailable")
	}
}

// refresh redeems s's refresh token, coalescing concurrent refreshes of the same session.
func (f *Flow) refresh(ctx context.Context, s *session.Session) (*session.Session, error) {
	if s.RefreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token", errRefreshRefused)
	}
	key := refreshKey(s)
	if done, ok := f.recent.get(key, f.cfg.Now()); ok {
		// A concurrent request with the same cookie refreshed moments ago.
		out := *done
		return &out, nil
	}
	ch := f.refreshes.DoChan(key, func() (any, error) {
		// Detached from the first caller's request, so its cancellation does not fail the
		// others waiting on the same refresh.
		ctx, cancel := context.WithTimeout(f.clientContext(context.WithoutCancel(ctx)), 10*time.Second)
		defer cancel()
		next, err := f.redeem(ctx, s)
		if err == nil {
			f.recent.put(key, next, f.cfg.Now())
			f.cfg.Logger.InfoContext(ctx, "session refreshed", "subject", s.User.Subject)
		}
		return next, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		out := *res.Val.(*session.Session)
		return &out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *Flow) redeem(ctx context.Context, s *session.Session) (*session.Session, error) {
	p, err := f.providers.get(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := p.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: s.RefreshToken}).Token()
	if err != nil {
		// A 4xx answer (invalid_grant: expired or revoked) ends the session; a 5xx one or no
		// answer is the provider being unavailable.
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil &&
			re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return nil, fmt.Errorf("%w: %s", errRefreshRefused, oauthErrorCode(err))
		}
		return nil, fmt.Errorf("refresh: %w", err)
	}
	next := *s
	next.AccessToken = tok.AccessToken
	next.AccessExpiry = tok.Expiry
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	if _, ok := tok.Extra("id_token").(string); ok {
		user, err := f.verifyIDToken(ctx, p, tok, "")
		if err != nil {
			return nil, fmt.Errorf("%w: refreshed ID token: %w", errRefreshRefused, err)
		}
		if user.Subject != s.User.Subject {
			return nil, fmt.Errorf("%w: refreshed ID token names another subject", errRefreshRefused)
		}
		// Break-glass membership holds for the session's life, not only at sign-in: a local
		// user taken out of the group loses the session at the next refresh.
		if f.cfg.BreakGlassGroup != "" && !user.federated && !slices.Contains(user.Groups, f.cfg.BreakGlassGroup) {
			return nil, fmt.Errorf("%w: a local user no longer in the break-glass group", errRefreshRefused)
		}
		next.User = refreshedUser(user.User, s.User)
		if !p.cognito {
			next.IDToken, _ = tok.Extra("id_token").(string)
		}
	}
	return &next, nil
}

// refreshKey names one state of one session: its id and its current access token.
func refreshKey(s *session.Session) string {
	sum := sha256.Sum256([]byte(s.AccessToken))
	return s.ID + ":" + hex.EncodeToString(sum[:16])
}

// recentRefreshTTL is how long a refresh result serves requests that still carry the
// cookie from before it (the browser sends several calls before it stores the new cookie).
const recentRefreshTTL = 15 * time.Second

// recentRefreshes remembers refresh results for recentRefreshTTL, so that one session state
// is refreshed once even when its requests do not overlap. Entries expire, so memory follows
// the refresh rate, not the number of signed-in users.
type recentRefreshes struct {
	mu      sync.Mutex
	entries map[string]recentRefresh
}

type recentRefresh struct {
	s  *session.Session
	at time.Time
}

func (c *recentRefreshes) get(key string, now time.Time) (*session.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.Sub(e.at) > recentRefreshTTL || now.Before(e.at) {
		return nil, false
	}
	return e.s, true
}

func (c *recentRefreshes) put(key string, s *session.Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]recentRefresh)
	}
	for k, e := range c.entries {
		if now.Sub(e.at) > recentRefreshTTL || now.Before(e.at) {
			delete(c.entries, k)
		}
	}
	c.entries[key] = recentRefresh{s: s, at: now}
}

// forget drops the results of session id, so that a logged-out session's old cookie gets
// nothing from the cache.
func (c *recentRefreshes) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if strings.HasPrefix(k, id+":") {
			delete(c.entries, k)
		}
	}
}

// refreshedUser is the refreshed ID token's user, keeping what sign-in learnt from userinfo
// where the new ID token is silent.
func refreshedUser(fresh, old session.User) session.User {
	if fresh.Email == "" {
		fresh.Email = old.Email
	}
	if fresh.Name == "" {
		fresh.Name = old.Name
	}
	if fresh.Username == "" {
		fresh.Username = old.Username
	}
	if len(fresh.Groups) == 0 {
		fresh.Groups = old.Groups
	}
	return fresh
}
