package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
)

// BenchmarkUsageHistory times Usage (a person's totals today and this month, as GetUsage
// reads them) and ListUsage (everyone's month by day, user and model, as the admin usage
// page reads it) after a month's history of 10 and of 100,000 requests over the same five
// days and two models: the reads sum per-day summaries, so the two should cost the same.
func BenchmarkUsageHistory(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			s := openT(b, filepath.Join(b.TempDir(), "usage.db"), store.Options{Now: clock})
			ctx := context.Background()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 64)
			for i := range n {
				if i%(n/5) == 0 { // five days of the month
					wg.Wait()
					mu.Lock()
					now = now.Add(24 * time.Hour)
					mu.Unlock()
				}
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					r := store.Reservation{RequestID: fmt.Sprint("h", i), User: "alice", Groups: []string{"MLUsers"},
						ModelID: []string{"m1", "m2"}[i%2], Tokens: 100}
					tk, err := s.Reserve(ctx, r)
					if err == nil {
						err = s.Settle(ctx, tk, store.Outcome{InputTokens: 60, OutputTokens: 40, CostNanos: 1000})
					}
					if err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			f := store.UsageFilter{StartDay: "2026-12-01", EndDay: "2026-12-31", GroupBy: []adminv1.UsageDimension{
				adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER, adminv1.UsageDimension_USAGE_DIMENSION_MODEL}}
			for b.Loop() {
				u, err := s.Usage(ctx, "alice", nil)
				if err != nil || u.ThisMonth.Requests != int64(n) {
					b.Fatalf("usage = %+v, %v", u, err)
				}
				if rep, err := s.ListUsage(ctx, f); err != nil || rep.Totals.Requests != int64(n) {
					b.Fatalf("list usage = %+v, %v", rep.Totals, err)
				}
			}
		})
	}
}
