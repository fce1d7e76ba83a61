package sqlitestore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/sqlitedb"
	"github.com/portico-dev/portico/services/store"
)

// TestWALIsCheckpointedInTheBackground checks that committed writes reach the database file
// while the store is open, although no commit checkpoints (wal_autocheckpoint is off).
func TestWALIsCheckpointedInTheBackground(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	s := openT(t, path, store.Options{})
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for i := range 100 {
		tk, err := s.Reserve(t.Context(), reservation(fmt.Sprintf("c%d", i), 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(t.Context(), tk, store.Outcome{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * sqlitedb.CheckpointInterval)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is still %d bytes: the WAL was not checkpointed", before)
		}
		time.Sleep(sqlitedb.CheckpointInterval / 10)
	}
}
