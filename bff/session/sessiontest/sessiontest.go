// Package sessiontest checks a session.Store implementation against the Store contract:
// create, load, update and delete; expiry; a deleted (revoked) session that no late refresh
// write can bring back; concurrent updates; unknown tickets; and, through Failing (a store
// that fails on demand), that a session.Manager keeps a session over a store blip and ends it
// only on a definitive answer.
package sessiontest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/session"
)

// NewStore returns an empty store (or one whose other sessions do not matter) that reads
// the time from now. It registers any cleanup with t.
type NewStore func(t *testing.T, now func() time.Time) session.Store

// Clock is a settable clock for stores under test; it is safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a Clock set to a fixed instant.
func NewClock() *Clock {
	c := new(Clock)
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// NewSession returns a signed-in session with realistic token sizes, created at now and
// ending a day later.
func NewSession(now time.Time) *session.Session {
	return &session.Session{
		ID:           session.NewID(),
		User:         session.User{Subject: "sub-" + session.NewID(), Username: "alice", Email: "alice@example.com", Groups: []string{"MLAdmins", "MLUsers"}},
		AccessToken:  "at-" + strings.Repeat("a", 1100),
		AccessExpiry: now.Add(time.Hour),
		RefreshToken: "rt-" + strings.Repeat("r", 1900),
		Created:      now,
		Expires:      now.Add(24 * time.Hour),
		LastSeen:     now,
	}
}

// Run runs the contract's subtests (in parallel) against stores from newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, st session.Store, clk *Clock)
	}{
		{"CreateLoadUpdateDelete", testLifecycle},
		{"UnknownTicket", testUnknown},
		{"CreateTwice", testCreateTwice},
		{"RevokedNotRevived", testRevoked},
		{"Expiry", testExpiry},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentUpdatesAndDelete", testConcurrentDelete},
		{"SessionsIndependent", testIndependent},
		{"BlipKeepsSession", testBlip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := NewClock()
			tt.fn(t, newStore(t, clk.Now), clk)
		})
	}
}

func mustLoad(t *testing.T, st session.Store, id string) *session.Session {
	t.Helper()
	got, err := st.Load(t.Context(), id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return got
}

func wantNotFound(t *testing.T, st session.Store, id string) {
	t.Helper()
	if s, err := st.Load(t.Context(), id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load = %v, %v; want ErrNotFound", s, err)
	}
}

func equal(a, b *session.Session) error {
	switch {
	case a.ID != b.ID:
		return fmt.Errorf("ID %q, want %q", a.ID, b.ID)
	case a.User.Subject != b.User.Subject || a.User.Username != b.User.Username || a.User.Email != b.User.Email || !slices.Equal(a.User.Groups, b.User.Groups):
		return fmt.Errorf("user %+v, want %+v", a.User, b.User)
	case a.AccessToken != b.AccessToken || a.RefreshToken != b.RefreshToken:
		return errors.New("tokens differ")
	case !a.AccessExpiry.Equal(b.AccessExpiry) || !a.Created.Equal(b.Created) || !a.Expires.Equal(b.Expires) || !a.LastSeen.Equal(b.LastSeen):
		return fmt.Errorf("times %v %v %v %v, want %v %v %v %v", a.AccessExpiry, a.Created, a.Expires, a.LastSeen, b.AccessExpiry, b.Created, b.Expires, b.LastSeen)
	}
	return nil
}

func testLifecycle(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := equal(mustLoad(t, st, s.ID), s); err != nil {
		t.Fatalf("Load after Create: %v", err)
	}
	clk.Advance(time.Hour)
	s2 := *s
	s2.AccessToken, s2.RefreshToken = "at-refreshed", "rt-rotated"
	s2.AccessExpiry, s2.LastSeen = clk.Now().Add(time.Hour), clk.Now()
	if err := st.Update(t.Context(), &s2); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := equal(mustLoad(t, st, s.ID), &s2); err != nil {
		t.Fatalf("Load after Update: %v", err)
	}
	if err := st.Delete(t.Context(), s.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, st, s.ID)
	if err := st.Delete(t.Context(), s.ID); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func testUnknown(t *testing.T, st session.Store, clk *Clock) {
	for _, id := range []string{session.NewID(), "", "not a ticket / \x00 ü"} {
		wantNotFound(t, st, id)
		s := NewSession(clk.Now())
		s.ID = id
		if err := st.Update(t.Context(), s); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Update of unknown %q = %v, want ErrNotFound", id, err)
		}
		wantNotFound(t, st, id)
		if err := st.Delete(t.Context(), id); err != nil {
			t.Fatalf("Delete of unknown %q: %v", id, err)
		}
	}
}

func testCreateTwice(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	other := NewSession(clk.Now())
	other.ID = s.ID
	if err := st.Create(t.Context(), other); !errors.Is(err, session.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if err := equal(mustLoad(t, st, s.ID), s); err != nil {
		t.Fatalf("the failed Create changed the session: %v", err)
	}
}

func testRevoked(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	// A refresh loads the session, then logout deletes it, then the refresh writes back.
	inFlight := mustLoad(t, st, s.ID)
	if err := st.Delete(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	inFlight.AccessToken, inFlight.RefreshToken = "at-late", "rt-late"
	if err := st.Update(t.Context(), inFlight); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("late Update = %v, want ErrNotFound", err)
	}
	wantNotFound(t, st, s.ID)
}

func testExpiry(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	s.Expires = clk.Now().Add(time.Minute + 500*time.Millisecond)
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	mustLoad(t, st, s.ID)
	if err := st.Update(t.Context(), s); err != nil {
		t.Fatalf("Update before the end: %v", err)
	}
	clk.Advance(500 * time.Millisecond) // exactly at Expires: over
	wantNotFound(t, st, s.ID)
	if err := st.Update(t.Context(), s); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after the end = %v, want ErrNotFound", err)
	}
	wantNotFound(t, st, s.ID)
	// An expired session's id is free again (ids are random; this only shows expiry is real).
	again := NewSession(clk.Now())
	again.ID = s.ID
	if err := st.Create(t.Context(), again); err != nil {
		t.Fatalf("Create over an expired session: %v", err)
	}
	if err := equal(mustLoad(t, st, s.ID), again); err != nil {
		t.Fatal(err)
	}
}

const writers = 8

func testConcurrentUpdates(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			u := *s
			u.AccessToken = fmt.Sprintf("at-writer-%d", i)
			for range 5 {
				if err := st.Update(t.Context(), &u); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Update: %v", err)
	}
	got := mustLoad(t, st, s.ID)
	if !strings.HasPrefix(got.AccessToken, "at-writer-") || got.RefreshToken != s.RefreshToken {
		t.Fatalf("after concurrent updates the session holds %q", got.AccessToken)
	}
}

func testConcurrentDelete(t *testing.T, st session.Store, clk *Clock) {
	s := NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			u := *s
			for range 5 {
				if err := st.Update(t.Context(), &u); err != nil && !errors.Is(err, session.ErrNotFound) {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		if err := st.Delete(t.Context(), s.ID); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Update racing Delete: %v", err)
	}
	// Whatever the interleaving, no update outlives the delete.
	wantNotFound(t, st, s.ID)
	if err := st.Update(t.Context(), s); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after Delete = %v, want ErrNotFound", err)
	}
}

func testIndependent(t *testing.T, st session.Store, clk *Clock) {
	a, b := NewSession(clk.Now()), NewSession(clk.Now())
	for _, s := range []*session.Session{a, b} {
		if err := st.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Delete(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, st, a.ID)
	if err := equal(mustLoad(t, st, b.ID), b); err != nil {
		t.Fatalf("deleting one session changed another: %v", err)
	}
}
