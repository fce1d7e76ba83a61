package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// faulty passes calls to a real client, failing the calls its fail function picks.
type faulty struct {
	API
	mu   sync.Mutex
	fail func(op string, expr string) bool
}

var errInjected = errors.New("injected: connection reset")

func (f *faulty) check(op, expr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(op, expr) {
		return errInjected
	}
	return nil
}

func (f *faulty) set(fn func(op, expr string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *faulty) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	// The expression, then the item's partition key: " @CTR#user/alice/tokens/day/...".
	if err := f.check("UpdateItem", aws.ToString(in.UpdateExpression)+" @"+getStr(in.Key, "PK")); err != nil {
		return nil, err
	}
	return f.API.UpdateItem(ctx, in, opts...)
}

func (f *faulty) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.check("PutItem", getStr(in.Item, "SK")); err != nil {
		return nil, err
	}
	return f.API.PutItem(ctx, in, opts...)
}

var limits = []store.Limit{
	storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1000),
	storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1000),
	storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1000),
}

func reservation(id string, tokens int64) store.Reservation {
	return store.Reservation{RequestID: id, User: "alice", Groups: []string{"MLUsers"}, ModelID: "amazon.nova-lite-v1:0", Tokens: tokens, Limits: limits}
}

func wantHeld(t *testing.T, s *Store, used, reserved int64) {
	t.Helper()
	u, err := s.Usage(t.Context(), "alice", limits[:2])
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range u.Quotas {
		if q.Used != used || q.Reserved != reserved {
			t.Errorf("%v: used %d reserved %d, want %d and %d", q.Limit, q.Used, q.Reserved, used, reserved)
		}
	}
}

// A Reserve that fails half-way (the second counter write is lost) unwinds what it held.
func TestReserveFailureUnwinds(t *testing.T) {
	t.Parallel()
	db := client(t)
	f := &faulty{API: db}
	clock := storetest.NewClock(time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC))
	s := New(f, newTable(t, db), store.Options{Now: clock.Now, ReservationTTL: time.Minute})
	var holds atomic.Int64
	f.set(func(op, expr string) bool {
		return op == "UpdateItem" && strings.HasPrefix(expr, "ADD #r :n") && holds.Add(1) == 2
	})
	if _, err := s.Reserve(t.Context(), reservation("a", 100)); !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, errInjected) {
		t.Fatalf("Reserve err = %v, want ErrUnavailable wrapping the fault", err)
	}
	f.set(nil)
	wantHeld(t, s, 0, 0)

	// When the unwinding fails too, the reservation's expiry releases what is left.
	holds.Store(0)
	f.set(func(op, expr string) bool {
		return op == "UpdateItem" && (strings.HasPrefix(expr, "ADD #r :n") && holds.Add(1) == 2 || strings.HasPrefix(expr, "SET #s = :releasing"))
	})
	if _, err := s.Reserve(t.Context(), reservation("b", 100)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Reserve err = %v, want ErrUnavailable", err)
	}
	f.set(nil)
	u, _ := s.Usage(t.Context(), "alice", limits[1:2]) // holds go in key order: the group counter first
	if u.Quotas[0].Reserved != 100 {
		t.Fatalf("the first hold should still be held until expiry: %+v", u.Quotas[0])
	}
	clock.Advance(time.Minute)
	wantHeld(t, s, 0, 0)

	// When the usage summary's pending mark is lost, the counters already raised are unwound.
	f.set(func(op, expr string) bool { return op == "UpdateItem" && strings.Contains(expr, "ADD #p") })
	if _, err := s.Reserve(t.Context(), reservation("d", 100)); !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, errInjected) {
		t.Fatalf("Reserve err = %v, want ErrUnavailable wrapping the fault", err)
	}
	f.set(nil)
	wantHeld(t, s, 0, 0)
	tk, err := s.Reserve(t.Context(), reservation("c", 1000))
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 10}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Usage(t.Context(), "alice", nil); err != nil || u.Today.Requests != 1 || u.Today.InputTokens != 10 {
		t.Errorf("usage = %+v, %v; want the one settled request", u, err)
	}
}

// A Settle that fails half-way, retried, applies every counter and the record once.
func TestSettleFailureRetried(t *testing.T) {
	t.Parallel()
	db := client(t)
	f := &faulty{API: db}
	s := New(f, newTable(t, db), store.Options{})
	tk, err := s.Reserve(t.Context(), reservation("a", 300))
	if err != nil {
		t.Fatal(err)
	}
	faults := []func(op, expr string) bool{
		func(op, expr string) bool { return op == "UpdateItem" && strings.HasPrefix(expr, "ADD #u") }, // first counter
		func() func(op, expr string) bool { // second counter
			var n atomic.Int64
			return func(op, expr string) bool {
				return op == "UpdateItem" && strings.HasPrefix(expr, "ADD #u") && n.Add(1) == 2
			}
		}(),
		func(op, expr string) bool { return op == "PutItem" && expr == "REC" },                         // the record
		func(op, expr string) bool { return op == "UpdateItem" && strings.Contains(expr, "REMOVE") },   // marking it settled
		func(op, expr string) bool { return op == "UpdateItem" && strings.Contains(expr, "ADD #req") }, // the usage summary
	}
	for i, fault := range faults {
		f.set(fault)
		if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 100, OutputTokens: 50}); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("fault %d: Settle err = %v, want ErrUnavailable", i, err)
		}
	}
	f.set(nil)
	if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 100, OutputTokens: 50}); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 999}); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, s, 150, 0)
	u, _ := s.Usage(t.Context(), "alice", limits[2:])
	if u.Quotas[0].Used != 1 || u.Today.Requests != 1 || u.Today.InputTokens != 100 {
		t.Errorf("usage = %+v", u)
	}
}

// A late Settle (its reservation expired and was released) that fails half-way, retried,
// applies every counter and the record once: no lost record, no counter charged twice.
func TestLateSettleFailureRetried(t *testing.T) {
	t.Parallel()
	db := client(t)
	f := &faulty{API: db}
	clock := storetest.NewClock(time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC))
	s := New(f, newTable(t, db), store.Options{Now: clock.Now, ReservationTTL: time.Minute})
	tk, err := s.Reserve(t.Context(), reservation("a", 300))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if n, err := s.releaseExpired(t.Context(), clock.Now()); err != nil || n != 1 {
		t.Fatalf("releaseExpired = %d, %v", n, err)
	}
	wantHeld(t, s, 0, 0)
	faults := []func(op, expr string) bool{
		func() func(op, expr string) bool { // second counter
			var n atomic.Int64
			return func(op, expr string) bool {
				return op == "UpdateItem" && strings.HasPrefix(expr, "ADD #u") && n.Add(1) == 2
			}
		}(),
		func(op, expr string) bool { return op == "PutItem" && expr == "REC" },                         // the record
		func(op, expr string) bool { return op == "UpdateItem" && strings.Contains(expr, "REMOVE") },   // marking it settled
		func(op, expr string) bool { return op == "UpdateItem" && strings.Contains(expr, "ADD #req") }, // the usage summary
	}
	for i, fault := range faults {
		f.set(fault)
		if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 100, OutputTokens: 50}); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("fault %d: Settle err = %v, want ErrUnavailable", i, err)
		}
	}
	f.set(nil)
	for range 2 {
		if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 100, OutputTokens: 50}); err != nil {
			t.Fatal(err)
		}
	}
	wantHeld(t, s, 150, 0) // the day and month windows are the reservation's still
	u, _ := s.Usage(t.Context(), "alice", nil)
	if u.Today.Requests != 1 || u.Today.InputTokens != 100 {
		t.Errorf("usage = %+v", u)
	}
	page, err := s.ListAudit(t.Context(), store.AuditFilter{User: "alice"})
	if err != nil || len(page.Records) != 1 || !page.Records[0].Late {
		t.Errorf("audit = %+v, %v; want one late record", page.Records, err)
	}
}

// Two instances (two clients, as two Lambda instances) share one table's limits.
func TestTwoInstancesShareLimits(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	url := dynalitetest.Start(t).URL
	a, b := New(dynalitetest.NewClient(url), table, store.Options{}), New(dynalitetest.NewClient(url), table, store.Options{})
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			tk, err := s.Reserve(t.Context(), reservation(fmt.Sprintf("r%d", i), 250))
			if errors.Is(err, store.ErrQuotaExceeded) {
				return
			}
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			granted.Add(1)
			if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 200, OutputTokens: 50}); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 4 {
		t.Errorf("granted %d, want 4", granted.Load())
	}
	wantHeld(t, a, 1000, 0)
}

// A DynamoDB endpoint that is down makes every call fail with ErrUnavailable.
func TestEndpointDownIsUnavailable(t *testing.T) {
	t.Parallel()
	db := dynalitetest.NewClient(dynalitetest.DeadEndpoint(t), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	s := New(db, "portico", store.Options{})
	if _, err := s.Reserve(t.Context(), reservation("a", 1)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Reserve err = %v", err)
	}
	if err := s.Settle(t.Context(), store.Ticket{Reservation: reservation("a", 1)}, store.Outcome{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Settle err = %v", err)
	}
	if _, err := s.Usage(t.Context(), "alice", limits); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Usage err = %v", err)
	}
	if _, err := s.ListAudit(t.Context(), store.AuditFilter{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListAudit err = %v", err)
	}
}

func TestEnsureTableIsIdempotent(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	if err := EnsureTable(t.Context(), db, table); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil || len(out.Table.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("table = %+v, %v", out, err)
	}
}

func BenchmarkReserveSettle(b *testing.B) {
	db := client(b)
	s := New(db, newTable(b, db), store.Options{})
	ctx := context.Background()
	big := []store.Limit{
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1<<60),
		storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.GroupTokens("MLUsers", typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1<<60),
		storetest.UserRequests(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, 1<<60),
	}
	i := 0
	for b.Loop() {
		i++
		r := reservation(fmt.Sprintf("b%d", i), 1000)
		r.Limits = big
		tk, err := s.Reserve(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Settle(ctx, tk, store.Outcome{InputTokens: 100, OutputTokens: 200, CostNanos: 1234}); err != nil {
			b.Fatal(err)
		}
	}
}

// A Settle that failed half-way and is never retried is released after a second TTL.
func TestAbandonedSettleReleased(t *testing.T) {
	t.Parallel()
	// Where the release of the abandoned Settle is interrupted once (and retried by the next
	// sweep): nowhere; at the day counter's release (the counter the first Settle did not
	// charge); at the summary's release (the summary the first Settle did add); at marking
	// the reservation released.
	for _, cut := range []struct{ name, op, expr string }{
		{"not interrupted", "", ""},
		{"at the day counter's release", "UpdateItem", "ADD #r :neg, #c :neg, #x :id DELETE #h :id @CTR#user/alice/tokens/day/"},
		{"at the summary's release", "UpdateItem", "DELETE #p :id ADD #x :id @USAGE#alice"},
		{"at marking it released", "UpdateItem", "SET #s = :s, #ttl = :ttl REMOVE GSI1PK, GSI1SK @RSV#a"},
	} {
		t.Run(cut.name, func(t *testing.T) {
			t.Parallel()
			testAbandonedSettleReleased(t, cut.op, cut.expr)
		})
	}
}

// testAbandonedSettleReleased abandons a Settle half-way, lets the reservation's expiry
// release it, interrupting the release once at the write (op, expr prefix) named, then
// retries the Settle: each counter and the usage summary must count the request once.
func testAbandonedSettleReleased(t *testing.T, op, expr string) {
	db := client(t)
	f := &faulty{API: db}
	clock := storetest.NewClock(time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC))
	s := New(f, newTable(t, db), store.Options{Now: clock.Now, ReservationTTL: time.Minute})
	tk, err := s.Reserve(t.Context(), reservation("a", 100))
	if err != nil {
		t.Fatal(err)
	}
	// The counters settle at once: the user's day counter is the one whose write is lost.
	f.set(func(op, expr string) bool {
		return op == "UpdateItem" && strings.HasPrefix(expr, "ADD #u") && strings.Contains(expr, " @CTR#user/alice/tokens/day/")
	})
	if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 10, OutputTokens: 10}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Settle err = %v", err)
	}
	f.set(nil)
	clock.Advance(time.Minute) // expired, but a Settle owns it: left alone
	u, err := s.Usage(t.Context(), "alice", limits[:2])
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Quotas[0].Reserved + u.Quotas[1].Reserved; got != 100 {
		t.Fatalf("reserved %d before the second TTL, want 100 (one hold settled, one held)", got)
	}
	clock.Advance(time.Minute)
	if op != "" {
		var once atomic.Bool
		f.set(func(o, e string) bool {
			return o == op && strings.HasPrefix(e, expr) && once.CompareAndSwap(false, true)
		})
		if _, err := s.Usage(t.Context(), "alice", limits[:2]); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Usage with the release interrupted: err = %v", err)
		}
		if !once.Load() {
			t.Fatalf("no write matched %s %q", op, expr)
		}
		f.set(nil)
	}
	u, err = s.Usage(t.Context(), "alice", limits[:2])
	if err != nil {
		t.Fatal(err)
	}
	if u.Quotas[0].Reserved != 0 || u.Quotas[1].Reserved != 0 || u.Quotas[0].Used+u.Quotas[1].Used != 20 {
		t.Fatalf("after the second TTL: %+v", u.Quotas)
	}
	// The caller retries its Settle after all: each counter ends charged once (the one the
	// first attempt settled is not charged again), and the usage summary counts the request
	// once.
	if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: 10, OutputTokens: 10}); err != nil {
		t.Fatalf("retried Settle: %v", err)
	}
	wantHeld(t, s, 20, 0)
	u, err = s.Usage(t.Context(), "alice", limits[:2])
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Totals{Requests: 1, InputTokens: 10, OutputTokens: 10}); u.Today.Requests != want.Requests || u.Today.InputTokens != want.InputTokens || u.Today.OutputTokens != want.OutputTokens {
		t.Errorf("today's summary %+v, want %+v", u.Today, want)
	}
}
