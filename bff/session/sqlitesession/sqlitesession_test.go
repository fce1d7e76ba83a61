package sqlitesession

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/sessiontest"
)

func open(t testing.TB, path string, sealer session.Sealer, now func() time.Time) *Store {
	t.Helper()
	st, err := Open(t.Context(), path, sealer, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

func TestContract(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		return open(t, filepath.Join(t.TempDir(), "sessions.db"), sessiontest.Codec(t, 7), now)
	})
}

func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	clk := sessiontest.NewClock()
	path := filepath.Join(t.TempDir(), "sessions.db")
	st := open(t, path, sessiontest.Codec(t, 7), clk.Now)
	s := sessiontest.NewSession(clk.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var key, sealed string
	if err := db.QueryRowContext(t.Context(), `SELECT key, sealed FROM bff_sessions`).Scan(&key, &sealed); err != nil {
		t.Fatal(err)
	}
	if key != session.StoreKey(s.ID) || strings.Contains(key, s.ID) {
		t.Fatalf("row key %q is not the ticket's hash", key)
	}
	for _, secret := range []string{s.ID, s.AccessToken[:20], s.RefreshToken[:20], s.User.Email} {
		if strings.Contains(sealed, secret) {
			t.Fatalf("the stored row contains %q in the clear", secret)
		}
	}

	// Another key ring cannot open it; a sealed value moved to another row does not open.
	other := open(t, path, sessiontest.Codec(t, 8), clk.Now)
	if _, err := other.Load(t.Context(), s.ID); !errors.Is(err, session.ErrNotFound) || !strings.Contains(err.Error(), "open stored session") {
		t.Fatalf("Load with foreign keys = %v, want ErrNotFound for a value that does not open", err)
	}
	victim := sessiontest.NewSession(clk.Now())
	if err := st.Create(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE bff_sessions SET sealed = ? WHERE key = ?`, sealed, session.StoreKey(victim.ID)); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(t.Context(), victim.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("a sealed session copied to another row: Load = %v, %v; want ErrNotFound", got, err)
	}
}

func TestSharedAndDurable(t *testing.T) {
	t.Parallel()
	clk := sessiontest.NewClock()
	path := filepath.Join(t.TempDir(), "sessions.db")
	a, b := open(t, path, sessiontest.Codec(t, 7), clk.Now), open(t, path, sessiontest.Codec(t, 7), clk.Now)
	s := sessiontest.NewSession(clk.Now())
	if err := a.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(t.Context(), s.ID); err != nil {
		t.Fatalf("second handle: %v", err)
	}
	if err := b.Delete(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(t.Context(), s); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after another handle deleted = %v, want ErrNotFound", err)
	}

	kept := sessiontest.NewSession(clk.Now())
	if err := a.Create(t.Context(), kept); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := open(t, path, sessiontest.Codec(t, 7), clk.Now)
	if _, err := reopened.Load(t.Context(), kept.ID); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestSweepsExpired(t *testing.T) {
	t.Parallel()
	clk := sessiontest.NewClock()
	path := filepath.Join(t.TempDir(), "sessions.db")
	st := open(t, path, sessiontest.Codec(t, 7), clk.Now)
	for range 20 {
		s := sessiontest.NewSession(clk.Now())
		s.Expires = clk.Now().Add(time.Minute)
		if err := st.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute)
	if err := st.Create(t.Context(), sessiontest.NewSession(clk.Now())); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.db.QueryRowContext(t.Context(), `SELECT count(*) FROM bff_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows after the sweep, want 1", n)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:"} {
		if _, err := Open(t.Context(), path, sessiontest.Codec(t, 7), Options{}); err == nil {
			t.Fatalf("Open(%q) succeeded", path)
		}
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), nil, Options{}); err == nil {
		t.Fatal("Open without a sealer succeeded")
	}
}

// TestDatabaseFailureIsNotNotFound: a database that fails (here: closed) is the store
// failing, not an answer about the session, so the BFF keeps the session (the contract's
// BlipKeepsSession covers what the Manager then does).
func TestDatabaseFailureIsNotNotFound(t *testing.T) {
	t.Parallel()
	st, err := Open(t.Context(), filepath.Join(t.TempDir(), "sessions.db"), sessiontest.Codec(t, 7), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := sessiontest.NewSession(time.Now())
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, loadErr := st.Load(t.Context(), s.ID)
	for name, err := range map[string]error{
		"Load":   loadErr,
		"Create": st.Create(t.Context(), sessiontest.NewSession(time.Now())),
		"Update": st.Update(t.Context(), s),
		"Delete": st.Delete(t.Context(), s.ID),
	} {
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) {
			t.Errorf("%s on a closed database = %v, want the database's error", name, err)
		}
	}
}
