package bff_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/bff/oidcflow"
	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/dynamosession"
	"github.com/portico-dev/portico/bff/session/sessiontest"
	"github.com/portico-dev/portico/bff/session/sqlitesession"
	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// serverStore is one of the server-side session stores, opened for a test.
type serverStore struct {
	name string
	open func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store
}

// serverStores are the three server-side session stores: this process's memory, a SQLite
// file and a DynamoDB table (on dynalite).
var serverStores = []serverStore{
	{"memory", func(_ testing.TB, now func() time.Time, _ session.Sealer) session.Store {
		return session.NewMemoryStore(now)
	}},
	{"sqlite", func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store {
		st, err := sqlitesession.Open(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), sealer, sqlitesession.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"dynamodb", func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store {
		srv := dynalitetest.Start(t)
		table := srv.Table("portico-sessions")
		if err := dynamosession.EnsureTable(context.Background(), srv.Client, table); err != nil {
			t.Fatal(err)
		}
		return dynamosession.New(srv.Client, table, sealer, dynamosession.Options{Now: now})
	}},
}

// blipStack is a stack whose session store (nil in cookie mode) fails on demand.
type blipStack struct {
	*stack
	store *sessiontest.Failing
}

func newBlipStack(t *testing.T, mode string) blipStack {
	t.Helper()
	so := stackOptions{idpOpts: []devidp.Option{devidp.WithAccessTokenTTL(10 * time.Minute)}}
	var failing *sessiontest.Failing
	for _, ss := range serverStores {
		if ss.name == mode {
			so.store = func(t testing.TB, now func() time.Time, sealer session.Sealer) session.Store {
				failing = sessiontest.NewFailing(ss.open(t, now, sealer))
				return failing
			}
		}
	}
	if mode != "cookie" && so.store == nil {
		t.Fatalf("unknown session mode %q", mode)
	}
	return blipStack{stack: newStack(t, so), store: failing}
}

// wantUnavailable checks a 503 Unavailable answer with Retry-After that leaves the
// browser's cookies alone.
func wantUnavailable(t *testing.T, what string, resp reply, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || connectError(t, body) != "unavailable" {
		t.Fatalf("%s: %s %s, want 503 unavailable", what, resp.Status, body)
	}
	if got, want := resp.Header.Get("Retry-After"), "2"; got != want || oidcflow.RetryAfter != 2*time.Second {
		t.Fatalf("%s: Retry-After %q, want %q", what, got, want)
	}
	if cookies := resp.Header.Values("Set-Cookie"); len(cookies) != 0 {
		t.Fatalf("%s: the answer sets cookies %q; the session must be kept as it is", what, cookies)
	}
}

// TestSessionsSurviveBlips makes the session store (or, in cookie mode and for refreshes,
// the provider) fail at each point the BFF uses it. Each blip answers 503 Unavailable with
// Retry-After and keeps the session: once the store is back, the same browser carries on
// without signing in again. A failed touch does not even fail the call.
func TestSessionsSurviveBlips(t *testing.T) {
	t.Parallel()
	type blip struct {
		name    string
		modes   []string // nil: every server-side store
		prepare func(s blipStack)
		// fail starts the blip and heal ends it.
		fail, heal func(s blipStack)
		// during makes the calls during the blip and checks their answers; after checks the
		// browser's state once the blip is over.
		during func(t *testing.T, s blipStack, b *browser)
		after  func(t *testing.T, s blipStack, b *browser)
	}
	storeFails := func(ops ...sessiontest.Op) func(s blipStack) { return func(s blipStack) { s.store.Fail(ops...) } }
	storeHeals := func(s blipStack) { s.store.Heal() }
	signedIn := func(t *testing.T, s blipStack, b *browser) {
		t.Helper()
		if resp, body := b.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK {
			t.Fatalf("session after the blip: %s %s", resp.Status, body)
		}
		if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
			t.Fatalf("GetMe after the blip: %s %s", resp.Status, body)
		}
	}
	nearExpiry := func(s blipStack) { s.clock.advance(9*time.Minute + 30*time.Second) } // inside the refresh skew
	blips := []blip{
		{
			name: "session: load fails", fail: storeFails(sessiontest.OpLoad), heal: storeHeals,
			during: func(t *testing.T, _ blipStack, b *browser) {
				resp, body := b.call(http.MethodGet, "/auth/session", "", true)
				wantUnavailable(t, "GET /auth/session", resp, body)
			},
			after: signedIn,
		},
		{
			name: "api: load fails", fail: storeFails(sessiontest.OpLoad), heal: storeHeals,
			during: func(t *testing.T, s blipStack, b *browser) {
				resp, body := b.call(http.MethodPost, getMe, "{}", true)
				wantUnavailable(t, "GetMe", resp, body)
				if n := len(s.up.calls()); n != 0 {
					t.Fatalf("%d calls reached the services during the blip", n)
				}
			},
			after: signedIn,
		},
		{
			name: "refresh: saving the refreshed session fails", prepare: nearExpiry,
			fail: storeFails(sessiontest.OpUpdate), heal: storeHeals,
			during: func(t *testing.T, s blipStack, b *browser) {
				resp, body := b.call(http.MethodPost, getMe, "{}", true)
				wantUnavailable(t, "GetMe needing a refresh", resp, body)
				if s.store.Failed(sessiontest.OpUpdate) == 0 {
					t.Fatal("the refreshed session was never written")
				}
			},
			after: func(t *testing.T, s blipStack, b *browser) {
				if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
					t.Fatalf("GetMe after the blip: %s %s", resp.Status, body)
				}
				// The retry reused the refresh made during the blip.
				if n := s.idpRT.refreshes.Load(); n != 1 {
					t.Fatalf("%d refreshes, want 1", n)
				}
			},
		},
		{
			name: "refresh: provider down", modes: []string{"cookie", "memory", "sqlite", "dynamodb"},
			prepare: func(s blipStack) { s.clock.advance(11 * time.Minute) }, // access token expired
			fail:    func(s blipStack) { s.idp.SetDown(true) }, heal: func(s blipStack) { s.idp.SetDown(false) },
			during: func(t *testing.T, _ blipStack, b *browser) {
				resp, body := b.call(http.MethodGet, "/auth/session", "", true)
				wantUnavailable(t, "GET /auth/session with the provider down", resp, body)
				resp, body = b.call(http.MethodPost, getMe, "{}", true)
				wantUnavailable(t, "GetMe with the provider down", resp, body)
			},
			after: signedIn,
		},
		{
			name: "touch fails", fail: storeFails(sessiontest.OpUpdate), heal: storeHeals,
			prepare: func(s blipStack) { s.clock.advance(6 * time.Minute) }, // worth a touch, token still fresh
			during: func(t *testing.T, s blipStack, b *browser) {
				if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
					t.Fatalf("GetMe with the touch failing: %s %s", resp.Status, body)
				}
				if s.store.Failed(sessiontest.OpUpdate) == 0 {
					t.Fatal("the session was never touched")
				}
			},
			after: signedIn,
		},
		{
			name: "logout: delete fails", fail: storeFails(sessiontest.OpDelete), heal: storeHeals,
			during: func(t *testing.T, s blipStack, b *browser) {
				resp, body := b.call(http.MethodPost, "/auth/logout", "", true)
				wantUnavailable(t, "logout", resp, body)
				if n := s.idpRT.revokes.Load(); n != 0 {
					t.Fatalf("%d revocations by a logout that did not end the session", n)
				}
			},
			after: func(t *testing.T, s blipStack, b *browser) {
				signedIn(t, s, b)
				kept := b.snapshot()
				if resp, body := b.call(http.MethodPost, "/auth/logout", "", true); resp.StatusCode != http.StatusOK {
					t.Fatalf("logout once the store is back: %s %s", resp.Status, body)
				}
				if n := s.idpRT.revokes.Load(); n != 1 {
					t.Fatalf("%d revocations, want 1", n)
				}
				b.restore(kept)
				resp, body := b.call(http.MethodGet, "/auth/session", "", true)
				if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
					t.Fatalf("the logged-out cookie: %s %s", resp.Status, body)
				}
			},
		},
		{
			name: "logout: load fails", fail: storeFails(sessiontest.OpLoad), heal: storeHeals,
			during: func(t *testing.T, s blipStack, b *browser) {
				resp, body := b.call(http.MethodPost, "/auth/logout", "", true)
				wantUnavailable(t, "logout", resp, body)
				if n := s.idpRT.revokes.Load(); n != 0 {
					t.Fatalf("%d revocations by a logout that did not end the session", n)
				}
			},
			after: signedIn,
		},
	}
	for _, bl := range blips {
		modes := bl.modes
		if modes == nil {
			modes = []string{"memory", "sqlite", "dynamodb"}
		}
		for _, mode := range modes {
			t.Run(bl.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s := newBlipStack(t, mode)
				b := s.browser()
				b.signIn("alice", "/")
				if bl.prepare != nil {
					bl.prepare(s)
				}
				before := b.snapshot()
				bl.fail(s)
				bl.during(t, s, b)
				bl.heal(s)
				if got := b.snapshot(); len(got) != len(before) {
					t.Fatalf("the browser's cookies changed over the blip: %d, then %d", len(before), len(got))
				}
				bl.after(t, s, b)
				assertCleanUpstream(t, s.up)
			})
		}
	}
}

// TestSignInWithStoreDown: the callback cannot save the new session. The browser gets the
// friendly page with 503 and Retry-After and no session cookie; once the store is back,
// signing in works.
func TestSignInWithStoreDown(t *testing.T) {
	t.Parallel()
	for _, ss := range serverStores {
		t.Run(ss.name, func(t *testing.T) {
			t.Parallel()
			s := newBlipStack(t, ss.name)
			b := s.browser()
			s.store.Fail(sessiontest.OpCreate)
			cb := b.signIn("alice", "/")
			if cb.StatusCode != http.StatusServiceUnavailable || cb.Header.Get("Retry-After") != "2" {
				t.Fatalf("callback with the store down: %s, Retry-After %q", cb.Status, cb.Header.Get("Retry-After"))
			}
			if _, ok := b.snapshot()[bff.SessionCookieName]; ok {
				t.Fatal("a session cookie was set for a session that was not saved")
			}
			s.store.Heal()
			if cb := b.signIn("alice", "/"); cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in once the store is back: %s", cb.Status)
			}
			if resp, body := b.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusOK {
				t.Fatalf("session: %s %s", resp.Status, body)
			}
		})
	}
}

// TestSignInEndsThePreviousSession: signing in again ends the browser's previous session on
// the server; when the store cannot delete it, sign-in answers 503 with Retry-After instead
// of leaving it valid behind the new cookie (a copy of the old cookie would keep working).
func TestSignInEndsThePreviousSession(t *testing.T) {
	t.Parallel()
	for _, ss := range serverStores {
		t.Run(ss.name, func(t *testing.T) {
			t.Parallel()
			s := newBlipStack(t, ss.name)
			b := s.browser()
			if cb := b.signIn("alice", "/"); cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("first sign-in: %s", cb.Status)
			}
			old := b.snapshot()
			s.store.Fail(sessiontest.OpDelete)
			cb := b.signIn("alice", "/")
			if cb.StatusCode != http.StatusServiceUnavailable || cb.Header.Get("Retry-After") != "2" {
				t.Fatalf("sign-in with the old session undeletable: %s, Retry-After %q", cb.Status, cb.Header.Get("Retry-After"))
			}
			s.store.Heal()
			if cb := b.signIn("alice", "/"); cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in once the store is back: %s", cb.Status)
			}
			b.restore(old)
			if resp, body := b.call(http.MethodGet, "/auth/session", "", true); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the previous session after signing in again: %s %s", resp.Status, body)
			}
		})
	}
}

// TestLogoutKillsCopiedCookie is the point of server-side sessions: sign in, copy the
// cookie, log out, and the copy is dead at once, on /auth/session and on /api/, for each
// server-side store. (In cookie mode a copy keeps working until the access token expires:
// TestLogoutRevokesAndClears.)
func TestLogoutKillsCopiedCookie(t *testing.T) {
	t.Parallel()
	for _, ss := range serverStores {
		t.Run(ss.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{store: ss.open})
			b := s.browser()
			b.signIn("alice", "/")
			if resp, body := b.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
				t.Fatalf("GetMe: %s %s", resp.Status, body)
			}
			copied := b.snapshot()
			if resp, body := b.call(http.MethodPost, "/auth/logout", "", true); resp.StatusCode != http.StatusOK {
				t.Fatalf("logout: %s %s", resp.Status, body)
			}
			if len(b.snapshot()) != 0 {
				t.Fatalf("cookies left after logout: %v", b.snapshot())
			}
			thief := s.browser()
			thief.restore(copied)
			for _, call := range []struct{ method, path, body string }{
				{http.MethodGet, "/auth/session", ""},
				{http.MethodPost, getMe, "{}"},
			} {
				thief.restore(copied)
				resp, body := thief.call(call.method, call.path, call.body, true)
				if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
					t.Fatalf("%s %s with the copied cookie after logout: %s %s", call.method, call.path, resp.Status, body)
				}
			}
			if n := len(s.up.calls()); n != 1 {
				t.Fatalf("upstream saw %d calls, want 1 (before logout)", n)
			}
		})
	}
}
