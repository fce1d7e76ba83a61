package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// BenchmarkReserveSettleBurst runs reserve+settle from 64 goroutines per GOMAXPROCS on one
// store: the writes of a burst queue for the one write connection, which the group commit
// serves in shared transactions. Its instructions per operation (callgrind, -test.cpu 1)
// compare builds without the machine's load in the way.
func BenchmarkReserveSettleBurst(b *testing.B) {
	s := openT(b, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	lim := []store.Limit{
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<60),
		storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1<<60),
	}
	var seq atomic.Int64
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			r := reservation(fmt.Sprintf("p%d", seq.Add(1)), 1000)
			r.Limits = lim
			tk, err := s.Reserve(ctx, r)
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 100, OutputTokens: 200}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
