package bench_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/store/storetest"
	"github.com/portico-dev/portico/services/testing/bench"

	_ "modernc.org/sqlite"
)

func TestPercentileAndMedian(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"p50 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
		{"p99 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"p0", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := bench.Percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
	if got := bench.Median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("Median = %v, want 2", got)
	}
	if got := bench.Median([]int64{4, 1, 3, 2}); got != 2 {
		t.Errorf("Median of an even count = %v, want the lower middle 2", got)
	}
}

func TestConstantCountsSuccessesErrorsAndDrops(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	errBoom := errors.New("boom")
	res := bench.Constant(context.Background(), 200, 250*time.Millisecond, 1000, time.Second, func(context.Context) error {
		if n.Add(1)%5 == 0 {
			return errBoom
		}
		return nil
	})
	if res.Sent != 50 || res.Errors != 10 || len(res.Latencies) != 40 || res.Dropped != 0 {
		t.Fatalf("sent %d, errors %d, ok %d, dropped %d; want 50, 10, 40, 0", res.Sent, res.Errors, len(res.Latencies), res.Dropped)
	}
	if !errors.Is(res.FirstErr, errBoom) || res.OK() {
		t.Errorf("FirstErr = %v, OK = %v", res.FirstErr, res.OK())
	}

	block := make(chan struct{})
	res = bench.Constant(context.Background(), 100, 100*time.Millisecond, 2, time.Second, func(ctx context.Context) error {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil
	})
	close(block)
	if res.Sent != 10 || res.Dropped != 8 {
		t.Errorf("with 2 in flight at most: sent %d, dropped %d; want 10, 8", res.Sent, res.Dropped)
	}
}

func TestStreamsRecordsFirstChunkAndGaps(t *testing.T) {
	t.Parallel()
	var during atomic.Bool
	res := bench.Streams(context.Background(), 4, time.Second, func(_ context.Context, on func()) error {
		for range 3 {
			on()
		}
		return nil
	}, func() { during.Store(true) })
	if res.Errors != 0 || len(res.TTFT) != 4 || len(res.Gaps) != 8 || res.Chunks != 12 || !during.Load() {
		t.Fatalf("errors %d, ttft %d, gaps %d, chunks %d, during %v", res.Errors, len(res.TTFT), len(res.Gaps), res.Chunks, during.Load())
	}
	res = bench.Streams(context.Background(), 2, time.Second, func(context.Context, func()) error { return nil }, nil)
	if res.Errors != 2 {
		t.Errorf("streams without a chunk: %d errors, want 2", res.Errors)
	}
}

func TestParseBench(t *testing.T) {
	t.Parallel()
	out := []byte(`goos: linux
BenchmarkVerify/bare-rsa-2         	   10000	     30000 ns/op
BenchmarkVerify/warm-vs-bare-2     	    5000	     70000 ns/op	         1.10 ratio
BenchmarkVerify/warm-vs-bare-2     	    5000	     71000 ns/op	         1.30 ratio
BenchmarkVerify/warm-vs-bare-2     	    5000	     72000 ns/op	         1.20 ratio
BenchmarkOpen-2   	  100000	     11000 ns/op	 290.00 MB/s	    4096 B/op	       2 allocs/op
PASS
`)
	s := bench.ParseBench(out)
	if v, ok := s.Median("BenchmarkVerify/warm-vs-bare", "ratio"); !ok || v != 1.2 {
		t.Errorf("ratio median = %v, %v", v, ok)
	}
	if v, _ := s.Median("BenchmarkOpen", "allocs/op"); v != 2 {
		t.Errorf("allocs/op = %v", v)
	}
	if _, ok := s.Median("BenchmarkMissing", "ns/op"); ok {
		t.Error("a missing benchmark has a median")
	}
	g := bench.GoBench{Pkg: "./x", Regexp: "^Benchmark(A|B)$", Count: 5, BenchTime: "300ms"}
	if got, want := g.Command(), "go test -run '^$' -bench '^Benchmark(A|B)$' -count 5 -benchtime 300ms ./x"; got != want {
		t.Errorf("Command = %q, want %q", got, want)
	}
}

func TestPolicyIsValid(t *testing.T) {
	t.Parallel()
	if _, err := policy.Parse(bench.Policy); err != nil {
		t.Fatal(err)
	}
}

// TestCheckLedger settles requests in a real SQLite store and checks the comparison, then
// breaks a counter behind the store's back and expects the mismatch to be found.
func TestCheckLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portico.db")
	st, err := sqlitestore.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	limits := []store.Limit{
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<40),
		storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<40),
		storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1<<40),
	}
	for i := range 3 {
		r := store.Reservation{
			RequestID: fmt.Sprintf("r%d", i), User: "alice", Subject: "sub-alice", Groups: []string{"MLUsers"},
			ClientID: "portico-web", Procedure: "/portico.inference.v1.InferenceService/Converse",
			ModelID: "amazon.nova-lite-v1:0", Tokens: 500, Limits: limits,
		}
		tk, err := st.Reserve(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Settle(ctx, tk, store.Outcome{Code: "ok", InputTokens: 10, OutputTokens: int64(20 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	lc, err := bench.CheckLedger(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !lc.OK() || lc.Rows != 3 || lc.Counters != 3 {
		t.Fatalf("check = %+v, want OK with 3 rows and 3 counter series", lc)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE counters SET used = used + 1 WHERE key LIKE 'group/%'`); err != nil {
		t.Fatal(err)
	}
	lc, err = bench.CheckLedger(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if lc.OK() || len(lc.Mismatches) != 1 {
		t.Fatalf("after breaking the group counter: %+v, want one mismatch", lc)
	}
}

func TestCountGoroutines(t *testing.T) {
	t.Parallel()
	dump := `SIGQUIT: quit
PC=0x47a1e1 m=0 sigcode=0

goroutine 0 gp=0x6f2c80 m=0 mp=0x6f3640 [idle]:
runtime.futex(0x6f3780, 0x80, 0x0, 0x0, 0x0, 0x0)
goroutine 1 [select, 3 minutes]:
main.main()
	/src/main.go:10 +0x1d
goroutine 7 [IO wait]:
internal/poll.runtime_pollWait(0x7f, 0x72)
`
	n, err := bench.CountGoroutines(strings.NewReader(dump))
	if err != nil || n != 3 {
		t.Fatalf("CountGoroutines = %d, %v; want 3", n, err)
	}
	if _, err := bench.CountGoroutines(strings.NewReader("no dump here\n")); err == nil {
		t.Error("a log without a dump counted goroutines")
	}
}
