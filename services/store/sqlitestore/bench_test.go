package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// BenchmarkReserveSettle runs one request's store work (Reserve, then Settle) at a time,
// on four limits, and reports the p50 and p99 of one Reserve+Settle.
func BenchmarkReserveSettle(b *testing.B) {
	s := openT(b, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	ctx := context.Background()
	lim := []store.Limit{
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<60),
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1<<60),
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		r := reservation(fmt.Sprintf("b%d", i), 1000)
		r.Limits = lim
		t0 := time.Now()
		tk, err := s.Reserve(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 100, OutputTokens: 200, CostNanos: 1234}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportPercentiles(b, lat)
}

// BenchmarkReserveSettleParallel runs reserve+settle from many goroutines on one store,
// the shape of a busy services process.
func BenchmarkReserveSettleParallel(b *testing.B) {
	s := openT(b, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	lim := []store.Limit{
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<60),
		storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1<<60),
	}
	var (
		seq atomic.Int64
		mu  sync.Mutex
		lat []time.Duration
	)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		var mine []time.Duration
		defer func() {
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			r := reservation(fmt.Sprintf("p%d", seq.Add(1)), 1000)
			r.Limits = lim
			t0 := time.Now()
			tk, err := s.Reserve(ctx, r)
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 100, OutputTokens: 200}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
	})
	reportPercentiles(b, lat)
}

// reportPercentiles reports the p50 and p99 of one Reserve+Settle.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
}
