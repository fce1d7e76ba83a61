package dynamostore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// reading passes calls to a real client and counts the items its reads return.
type reading struct {
	API
	items atomic.Int64
}

func (r *reading) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := r.API.GetItem(ctx, in, opts...)
	if err == nil && out.Item != nil {
		r.items.Add(1)
	}
	return out, err
}

func (r *reading) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := r.API.Query(ctx, in, opts...)
	if err == nil {
		r.items.Add(int64(out.ScannedCount))
	}
	return out, err
}

// usageReads settles n requests of one user (one model, one group set, spread over two days)
// and returns how many items Usage and ListUsage (everyone's, by day, user and model) read.
func usageReads(t testing.TB, n int) (usage, list int64, took time.Duration) {
	t.Helper()
	db := client(t)
	r := &reading{API: db}
	clock := storetest.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	s := New(r, newTable(t, db), store.Options{Now: clock.Now})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		if i == n/2 {
			wg.Wait()
			clock.Advance(24 * time.Hour)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			tk, err := s.Reserve(context.Background(), store.Reservation{RequestID: fmt.Sprint("r", i), User: "alice",
				Groups: []string{"MLUsers"}, ModelID: "amazon.nova-lite-v1:0", Tokens: 10})
			if err == nil {
				err = s.Settle(context.Background(), tk, store.Outcome{InputTokens: 7, OutputTokens: 3})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r.items.Store(0)
	start := time.Now()
	u, err := s.Usage(context.Background(), "alice", nil)
	if err != nil || u.ThisMonth.Requests != int64(n) {
		t.Fatalf("usage = %+v, %v; want %d requests", u, err, n)
	}
	usage = r.items.Swap(0)
	rep, err := s.ListUsage(context.Background(), store.UsageFilter{StartDay: "2026-11-01", EndDay: "2026-12-31", GroupBy: []adminv1.UsageDimension{
		adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER, adminv1.UsageDimension_USAGE_DIMENSION_MODEL}})
	if err != nil || rep.Totals.Requests != int64(n) || len(rep.Rows) != 2 {
		t.Fatalf("ListUsage = %+v, %v; want %d requests in two rows", rep, err, n)
	}
	return usage, r.items.Load(), time.Since(start)
}

// TestUsageReadsDoNotGrowWithHistory: Usage and ListUsage read as many items after 400
// requests as after 10 (one summary per day and combination, not one record per request).
func TestUsageReadsDoNotGrowWithHistory(t *testing.T) {
	t.Parallel()
	u10, l10, _ := usageReads(t, 10)
	u400, l400, _ := usageReads(t, 400)
	t.Logf("items read: Usage %d after 10 requests, %d after 400; ListUsage %d and %d", u10, u400, l10, l400)
	if u10 != u400 || l10 != l400 || u10 > 4 || l10 > 4 {
		t.Errorf("items read: Usage %d after 10 requests, %d after 400; ListUsage %d and %d; want the same few", u10, u400, l10, l400)
	}
}

// BenchmarkUsageReads reports the items Usage and ListUsage read (items-usage/op,
// items-list/op) after 10 and after 2,000 requests of one person on DynamoDB (dynalite, which
// settles about a hundred requests a second here: 100,000 would take a quarter of an hour).
func BenchmarkUsageReads(b *testing.B) {
	for _, n := range []int{10, 2000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			var u, l int64
			var took time.Duration
			for b.Loop() {
				u, l, took = usageReads(b, n)
			}
			b.ReportMetric(float64(took.Nanoseconds()), "ns/op") // the reads, not the history's writes
			b.ReportMetric(float64(u), "items-usage/op")
			b.ReportMetric(float64(l), "items-list/op")
		})
	}
}
