package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/store"
)

// TestGroupCommitKeepsEachOutcome forms one group deterministically (the write lock is held
// while four writes queue) and checks that each write keeps its own outcome: a write that
// succeeds commits, one that fails or panics is rolled back alone (its caller gets its
// error, or its panic), and one whose context ended before its turn does nothing.
func TestGroupCommitKeepsEachOutcome(t *testing.T) {
	t.Parallel()
	s := openT(t, filepath.Join(t.TempDir(), "group.db"), store.Options{})
	insert := func(key string) func(*wtx) error {
		return func(tx *wtx) error {
			_, err := tx.exec(tx.lateCounter, key, 5, time.Now().Add(time.Hour).UnixNano())
			return err
		}
	}
	errRefused := errors.New("refused by the test")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	writes := []struct {
		key    string
		ctx    context.Context
		fn     func(*wtx) error
		want   error // nil, errRefused, context.Canceled; "panic" below
		panics bool
		kept   bool
	}{
		{key: "ok-1", ctx: context.Background(), fn: insert("ok-1"), kept: true},
		{key: "fails", ctx: context.Background(), fn: func(tx *wtx) error {
			if err := insert("fails")(tx); err != nil {
				return err
			}
			return errRefused
		}, want: errRefused},
		{key: "panics", ctx: context.Background(), fn: func(tx *wtx) error {
			if err := insert("panics")(tx); err != nil {
				return err
			}
			panic("deliberate")
		}, panics: true},
		{key: "canceled", ctx: canceled, fn: insert("canceled"), want: context.Canceled},
		{key: "ok-2", ctx: context.Background(), fn: insert("ok-2"), kept: true},
	}
	s.write.Lock() // every write queues behind this
	var wg sync.WaitGroup
	errs := make([]error, len(writes))
	panics := make([]any, len(writes))
	for i, w := range writes {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = s.inTx(w.ctx, "test", w.fn)
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.group.mu.Lock()
		n := len(s.group.pending)
		s.group.mu.Unlock()
		if n == len(writes) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", n, len(writes))
		}
	}
	s.write.Unlock()
	wg.Wait()
	for i, w := range writes {
		switch {
		case w.panics:
			if panics[i] != "deliberate" {
				t.Errorf("%s: recovered %v, want the write's own panic", w.key, panics[i])
			}
		case w.want == nil && errs[i] != nil:
			t.Errorf("%s: %v, want success", w.key, errs[i])
		case w.want != nil && !errors.Is(errs[i], w.want):
			t.Errorf("%s: %v, want %v", w.key, errs[i], w.want)
		}
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM counters WHERE key = ?`, w.key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if got := n == 1; got != w.kept {
			t.Errorf("%s: row kept = %v, want %v", w.key, got, w.kept)
		}
	}
}
