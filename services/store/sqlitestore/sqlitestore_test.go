package sqlitestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "portico.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func openT(t testing.TB, path string, opts store.Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var limits = []store.Limit{
	storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1000),
	storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1000),
}

func reservation(id string, tokens int64) store.Reservation {
	return store.Reservation{RequestID: id, User: "alice", Groups: []string{"MLUsers"}, ModelID: "amazon.nova-lite-v1:0", Tokens: tokens, Limits: limits}
}

// Two stores on one file stand for two processes: each has its own connections and its own
// in-process write lock, so only SQLite's file lock keeps them apart.
func TestTwoInstancesShareLimits(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openT(t, path, store.Options{}), openT(t, path, store.Options{})
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			tk, err := s.Reserve(t.Context(), reservation(fmt.Sprintf("r%d", i), 100))
			if errors.Is(err, store.ErrQuotaExceeded) {
				refused.Add(1)
				return
			}
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			granted.Add(1)
			if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 50, OutputTokens: 50}); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 10 || refused.Load() != 90 {
		t.Fatalf("granted %d refused %d, want 10 and 90", granted.Load(), refused.Load())
	}
	for _, s := range []*Store{a, b} {
		u, err := s.Usage(t.Context(), "alice", limits)
		if err != nil || u.Quotas[0].Used != 1000 || u.Quotas[0].Reserved != 0 || u.Quotas[1].Used != 1000 || u.Today.Requests != 10 {
			t.Errorf("usage = %+v, %v", u, err)
		}
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	s := openT(t, path, store.Options{})
	_ = s.Close()
	s = openT(t, path, store.Options{}) // reopening applies nothing twice
	var n, v int
	if err := s.db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil || n != SchemaVersion() || v != SchemaVersion() || v < 1 {
		t.Fatalf("schema_version: %d rows, max %d, %v", n, v, err)
	}
	if _, err := s.db.Exec(`INSERT INTO schema_version (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := Open(t.Context(), path, store.Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema: err = %v", err)
	}
}

func TestBrokenDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), path, store.Options{}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open(junk) err = %v, want ErrUnavailable", err)
	}
	if _, err := Open(t.Context(), ":memory:", store.Options{}); err == nil {
		t.Fatal(":memory: accepted")
	}
}

// A write that fails half-way leaves nothing behind: the transaction is rolled back whole.
func TestFailedWritesLeaveNothingHalfWritten(t *testing.T) {
	t.Parallel()
	s := openT(t, filepath.Join(t.TempDir(), "f.db"), store.Options{})
	ctx := t.Context()
	exec := func(q string) {
		t.Helper()
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// The reservation row is written after the counters: fail it.
	exec(`CREATE TRIGGER fail_reserve BEFORE INSERT ON reservations BEGIN SELECT RAISE(ABORT, 'disk gone'); END`)
	if _, err := s.Reserve(ctx, reservation("a", 100)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Reserve err = %v, want ErrUnavailable", err)
	}
	u, err := s.Usage(ctx, "alice", limits)
	if err != nil || u.Quotas[0].Reserved != 0 || u.Quotas[1].Reserved != 0 {
		t.Fatalf("after a failed Reserve: %+v, %v", u, err)
	}
	exec(`DROP TRIGGER fail_reserve`)
	tk, err := s.Reserve(ctx, reservation("a", 100))
	if err != nil {
		t.Fatal(err)
	}
	// The ledger row is written after the counters: fail it.
	exec(`CREATE TRIGGER fail_settle BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'disk gone'); END`)
	if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 10, OutputTokens: 10}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Settle err = %v, want ErrUnavailable", err)
	}
	u, _ = s.Usage(ctx, "alice", limits)
	if u.Quotas[0].Used != 0 || u.Quotas[0].Reserved != 100 {
		t.Fatalf("after a failed Settle: %+v", u.Quotas[0])
	}
	exec(`DROP TRIGGER fail_settle`)
	if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 10, OutputTokens: 10}); err != nil {
		t.Fatal(err)
	}
	u, _ = s.Usage(ctx, "alice", limits)
	if u.Quotas[0].Used != 20 || u.Quotas[0].Reserved != 0 || u.Today.Requests != 1 {
		t.Fatalf("after the retried Settle: %+v", u)
	}
}

func TestOldCountersArePurged(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC))
	s := openT(t, filepath.Join(t.TempDir(), "p.db"), store.Options{Now: clock.Now})
	rpm := []store.Limit{storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 10)}
	for i := range 3 {
		r := reservation(fmt.Sprintf("r%d", i), 1)
		r.Limits = rpm
		tk, err := s.Reserve(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(t.Context(), tk, store.Outcome{}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	count := func() (n int) {
		if err := s.db.QueryRow(`SELECT count(*) FROM counters`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("%d counters, want 3", n)
	}
	clock.Advance(CounterRetention + time.Hour)
	r := reservation("late", 1)
	r.Limits = rpm
	if _, err := s.Reserve(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d counters after the retention, want 1 (the new one)", n)
	}
}

// TestPathIsAFileName opens files whose names hold the characters a SQLite URI reads as its
// query, fragment or escapes: each must open exactly the file named, never another one (or
// pragmas taken from the name).
func TestPathIsAFileName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a#b.db", "c?_txlock=deferred", "e%20f.db", "plain.db"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s := openT(t, path, store.Options{})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				if n := e.Name(); !strings.HasSuffix(n, "-wal") && !strings.HasSuffix(n, "-shm") {
					names = append(names, n)
				}
			}
			if len(names) != 1 || names[0] != name {
				t.Errorf("opening %q made %q", name, names)
			}
		})
	}
}

func TestContractCorrupt(t *testing.T) {
	t.Parallel()
	storetest.RunCorrupt(t, func(t *testing.T, opts store.Options) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "portico.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, func(t *testing.T, st store.Store, key string, used, reserved int64, resetsAt time.Time) {
		_, err := st.(*Store).db.ExecContext(t.Context(), `INSERT OR REPLACE INTO counters (key, used, reserved, resets_at)
			VALUES (?, ?, ?, ?)`, key, used, reserved, resetsAt.UnixNano())
		if err != nil {
			t.Fatal(err)
		}
	})
}
