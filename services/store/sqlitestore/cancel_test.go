package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// Reserves whose context ends at any moment (before, during or just after their BEGIN)
// leave no transaction open (another process can write at once), the write connection
// usable, and hold exactly what the granted ones hold.
func TestCanceledReservesLeaveTheStoreExact(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cancel.db")
	s, other := openT(t, path, store.Options{}), openT(t, path, store.Options{})
	lim := []store.Limit{storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<40)}
	granted := 0
	for i := range 300 {
		ctx, cancel := context.WithCancel(t.Context())
		r := reservation(fmt.Sprintf("x%d", i), 1)
		r.Limits = lim
		if i%3 == 0 {
			cancel()
		} else {
			go cancel()
		}
		if _, err := s.Reserve(ctx, r); err == nil {
			granted++
		}
		cancel()
	}
	// A transaction left open would hold the file's write lock until this store's next
	// write: the other instance would wait BusyTimeout for it.
	ctx, cancel := context.WithTimeout(t.Context(), BusyTimeout/4)
	defer cancel()
	r := reservation("other", 1)
	r.Limits = lim
	if _, err := other.Reserve(ctx, r); err != nil {
		t.Fatalf("another instance's Reserve after canceled ones: %v", err)
	}
	r.RequestID = "last"
	if _, err := s.Reserve(t.Context(), r); err != nil {
		t.Fatalf("Reserve after canceled ones: %v", err)
	}
	u, err := s.Usage(t.Context(), "alice", lim)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Quotas[0].Reserved, int64(granted+2); got != want {
		t.Fatalf("reserved %d, want %d (one per granted Reserve)", got, want)
	}
}
