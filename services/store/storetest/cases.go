package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
)

var t0 = time.Date(2026, 5, 14, 10, 0, 30, 0, time.UTC)

type env struct {
	t     *testing.T
	st    store.Store
	clock *Clock
	ctx   context.Context
}

func newEnv(t *testing.T, open Factory, at time.Time, ttl time.Duration) *env {
	c := NewClock(at)
	st := open(t, store.Options{Now: c.Now, ReservationTTL: ttl})
	return &env{t: t, st: st, clock: c, ctx: t.Context()}
}

func res(id, user string, groups []string, tokens int64, limits ...store.Limit) store.Reservation {
	return store.Reservation{
		RequestID: id, User: user, Subject: "sub-" + user, Groups: groups, ClientID: "portico-web",
		Procedure: "/portico.inference.v1.InferenceService/Converse", ModelID: "amazon.nova-lite-v1:0",
		SourceIP: "192.0.2.1", UserAgent: "test", Tokens: tokens, Limits: limits,
	}
}

func ok(in, out int64) store.Outcome {
	return store.Outcome{Code: "ok", InputTokens: in, OutputTokens: out, CostNanos: 60*in + 240*out, PriceTableVersion: "v1"}
}

func (e *env) reserve(r store.Reservation) store.Ticket {
	e.t.Helper()
	tk, err := e.st.Reserve(e.ctx, r)
	if err != nil {
		e.t.Fatalf("Reserve(%s): %v", r.RequestID, err)
	}
	return tk
}

func (e *env) refused(r store.Reservation) *store.QuotaError {
	e.t.Helper()
	_, err := e.st.Reserve(e.ctx, r)
	var qe *store.QuotaError
	if !errors.Is(err, store.ErrQuotaExceeded) || !errors.As(err, &qe) {
		e.t.Fatalf("Reserve(%s) err = %v, want a QuotaError", r.RequestID, err)
	}
	return qe
}

func (e *env) settle(tk store.Ticket, o store.Outcome) {
	e.t.Helper()
	if err := e.st.Settle(e.ctx, tk, o); err != nil {
		e.t.Fatalf("Settle(%s): %v", tk.Reservation.RequestID, err)
	}
}

func (e *env) usage(user string, limits ...store.Limit) store.Usage {
	e.t.Helper()
	u, err := e.st.Usage(e.ctx, user, limits)
	if err != nil {
		e.t.Fatalf("Usage(%s): %v", user, err)
	}
	if len(u.Quotas) != len(limits) {
		e.t.Fatalf("Usage returned %d quotas for %d limits", len(u.Quotas), len(limits))
	}
	return u
}

// wantQuota checks used/reserved of status i.
func (e *env) wantQuota(u store.Usage, i int, used, reserved int64) {
	e.t.Helper()
	q := u.Quotas[i]
	if q.Used != used || q.Reserved != reserved || q.Remaining() != max(0, q.Limit.Max-used-reserved) {
		e.t.Errorf("quota %d (%v): used %d reserved %d remaining %d; want used %d reserved %d",
			i, q.Limit, q.Used, q.Reserved, q.Remaining(), used, reserved)
	}
}

func (e *env) audit(f store.AuditFilter) []store.Record {
	e.t.Helper()
	var all []store.Record
	for range 1000 {
		p, err := e.st.ListAudit(e.ctx, f)
		if err != nil {
			e.t.Fatalf("ListAudit: %v", err)
		}
		all = append(all, p.Records...)
		if p.NextPageToken == "" {
			return all
		}
		f.PageToken = p.NextPageToken
	}
	e.t.Fatal("ListAudit never ended")
	return nil
}

func testArithmetic(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	limits := []store.Limit{UserTokens(day, 1000), UserTokens(month, 5000), GroupTokens("MLUsers", month, 10000), UserRequests(minute, 5)}
	r1 := res("r1", "alice", []string{"MLUsers", "Administrators", "MLUsers"}, 300, limits...)
	tk1 := e.reserve(r1)
	if len(tk1.Holds) != 4 || !tk1.Time.Equal(t0) || !tk1.ExpiresAt.Equal(t0.Add(store.DefaultReservationTTL)) {
		t.Fatalf("ticket = %+v", tk1)
	}
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 0, 300)
	e.wantQuota(u, 1, 0, 300)
	e.wantQuota(u, 2, 0, 300)
	e.wantQuota(u, 3, 0, 1)
	if want := time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC); !u.Quotas[0].ResetsAt.Equal(want) {
		t.Errorf("day resets at %v, want %v", u.Quotas[0].ResetsAt, want)
	}
	if want := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC); !u.Quotas[2].ResetsAt.Equal(want) {
		t.Errorf("month resets at %v, want %v", u.Quotas[2].ResetsAt, want)
	}
	if want := time.Date(2026, 5, 14, 10, 1, 0, 0, time.UTC); !u.Quotas[3].ResetsAt.Equal(want) {
		t.Errorf("minute resets at %v, want %v", u.Quotas[3].ResetsAt, want)
	}
	e.clock.Advance(time.Second)
	tk2 := e.reserve(res("r2", "alice", []string{"MLUsers"}, 200, limits...))
	e.wantQuota(e.usage("alice", limits...), 0, 0, 500)

	o1 := ok(50, 100)
	o1.Latency, o1.TimeToFirstToken, o1.StopReason, o1.UpstreamRequestID = 1500*time.Millisecond, 200*time.Millisecond, "end_turn", "up-1"
	o1.Retrieval = store.Retrieval{KnowledgeBaseID: "PORTICOHB1", Passages: 5, Latency: 42 * time.Millisecond}
	e.settle(tk1, o1)
	u = e.usage("alice", limits...)
	e.wantQuota(u, 0, 150, 200)
	e.wantQuota(u, 2, 150, 200)
	e.wantQuota(u, 3, 1, 1)

	e.settle(tk2, store.Outcome{Code: "canceled", ErrorMessage: "client went away", InputTokens: 20, CostNanos: 1200})
	u = e.usage("alice", limits...)
	e.wantQuota(u, 0, 170, 0)
	e.wantQuota(u, 1, 170, 0)
	e.wantQuota(u, 2, 170, 0)
	e.wantQuota(u, 3, 2, 0)
	want := store.Totals{Requests: 2, Errors: 1, InputTokens: 70, OutputTokens: 100, CostNanos: 60*50 + 240*100 + 1200}
	if u.Today != want || u.ThisMonth != want {
		t.Errorf("totals today %+v month %+v, want %+v", u.Today, u.ThisMonth, want)
	}
	if !u.AsOf.Equal(e.clock.Now()) {
		t.Errorf("AsOf = %v, want %v", u.AsOf, e.clock.Now())
	}
	// Another member of the group sees the group counter, not alice's.
	ub := e.usage("bob", limits...)
	e.wantQuota(ub, 0, 0, 0)
	e.wantQuota(ub, 2, 170, 0)
	if ub.Today != (store.Totals{}) {
		t.Errorf("bob's totals = %+v", ub.Today)
	}

	recs := e.audit(store.AuditFilter{})
	if len(recs) != 2 || recs[0].RequestID != "r2" || recs[1].RequestID != "r1" {
		t.Fatalf("audit = %+v", recs)
	}
	r := recs[1]
	wantRec := store.Record{
		RequestID: "r1", Time: t0, Subject: "sub-alice", User: "alice", Groups: []string{"Administrators", "MLUsers"},
		ClientID: "portico-web", Procedure: r1.Procedure, ModelID: r1.ModelID, Outcome: "ok",
		InputTokens: 50, OutputTokens: 100, CostNanos: 60*50 + 240*100, PriceTableVersion: "v1",
		Latency: 1500 * time.Millisecond, TimeToFirstToken: 200 * time.Millisecond, StopReason: "end_turn",
		UpstreamRequestID: "up-1", SourceIP: "192.0.2.1", UserAgent: "test", UsageSource: store.UsageReported,
		Retrieval: store.Retrieval{KnowledgeBaseID: "PORTICOHB1", Passages: 5, Latency: 42 * time.Millisecond},
	}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", wantRec) || !r.Time.Equal(t0) {
		t.Errorf("record\n got %+v\nwant %+v", r, wantRec)
	}
	if recs[0].Outcome != "canceled" || recs[0].ErrorMessage != "client went away" || recs[0].Late || recs[0].Retrieval != (store.Retrieval{}) {
		t.Errorf("record = %+v", recs[0])
	}
}

func testAllOrNothing(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	group := GroupTokens("MLUsers", month, 1000)
	e.settle(e.reserve(res("c1", "carol", []string{"MLUsers"}, 900, group)), ok(450, 450))
	limits := []store.Limit{UserTokens(day, 1000), group, UserRequests(minute, 10), UserTokens(month, 5000)}
	qe := e.refused(res("a1", "alice", []string{"MLUsers"}, 200, limits...))
	if qe.Status.Limit != group || qe.Status.Used != 900 || qe.Status.Reserved != 0 || qe.Requested != 200 ||
		!qe.Status.ResetsAt.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("QuotaError = %+v", qe)
	}
	if p := qe.Proto(); p.GetStatus().GetLimit().GetGroup() != "MLUsers" || p.GetStatus().GetRemaining() != 100 || p.GetRequested() != 200 {
		t.Errorf("QuotaError.Proto = %v", p)
	}
	if ra := qe.RetryAfter(e.clock.Now()); ra.GetRetryAt().AsTime() != qe.Status.ResetsAt || ra.GetDelayMs() <= 0 {
		t.Errorf("RetryAfter = %v", ra)
	}
	u := e.usage("alice", limits...)
	for i := range limits {
		want := int64(0)
		if i == 1 {
			want = 900
		}
		e.wantQuota(u, i, want, 0)
	}
	// A hold in flight counts as reserved in the refusal.
	tk := e.reserve(res("c2", "carol", []string{"MLUsers"}, 50, group))
	qe = e.refused(res("a2", "alice", []string{"MLUsers"}, 51, limits...))
	if qe.Status.Used != 900 || qe.Status.Reserved != 50 {
		t.Errorf("QuotaError = %+v", qe)
	}
	// Exactly to the limit fits.
	e.reserve(res("a3", "alice", []string{"MLUsers"}, 50, limits...))
	e.settle(tk, ok(1, 1))
	if recs := e.audit(store.AuditFilter{User: "alice"}); len(recs) != 0 {
		t.Errorf("refused or unsettled requests left records: %+v", recs)
	}
}

// testHugeReservation reserves amounts whose sum with a counter's used and reserved would
// pass math.MaxInt64: the check must refuse them, not wrap around to a negative sum that
// fits, which would hold a near-infinite amount and let every later request through.
func testHugeReservation(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	limit := UserTokens(day, 1000)
	e.settle(e.reserve(res("h1", "alice", nil, 10, limit)), ok(5, 5))
	tk := e.reserve(res("h2", "alice", nil, 10, limit))
	for i, tokens := range []int64{math.MaxInt64, math.MaxInt64 - 10, math.MaxInt64 - 15, 1001} {
		qe := e.refused(res(fmt.Sprintf("huge%d", i), "alice", nil, tokens, limit))
		if qe.Status.Used != 10 || qe.Status.Reserved != 10 || qe.Requested != tokens {
			t.Errorf("QuotaError for %d tokens = %+v", tokens, qe)
		}
	}
	e.wantQuota(e.usage("alice", limit), 0, 10, 10)
	e.settle(tk, ok(5, 5))
	_ = e.refused(res("h3", "alice", nil, 981, limit))
	e.reserve(res("h4", "alice", nil, 980, limit))

	// On counters never used before (no row, no item yet) the same check holds: the first
	// request may not hold more than the whole limit, whatever its size.
	group := GroupTokens("MLUsers", day, 500)
	for i, tokens := range []int64{1001, math.MaxInt64} {
		qe := e.refused(res(fmt.Sprintf("fresh%d", i), "bob", nil, tokens, UserTokens(day, 1000)))
		if qe.Status.Used != 0 || qe.Status.Reserved != 0 || qe.Requested != tokens {
			t.Errorf("QuotaError for %d tokens on a fresh counter = %+v", tokens, qe)
		}
		_ = e.refused(res(fmt.Sprintf("freshg%d", i), "carol", []string{"MLUsers"}, tokens, group))
	}
	e.wantQuota(e.usage("bob", UserTokens(day, 1000)), 0, 0, 0)
	e.reserve(res("fresh-fits", "bob", nil, 1000, UserTokens(day, 1000)))
	e.reserve(res("fresh-fits-g", "carol", []string{"MLUsers"}, 500, group))
}

func testRequestsPerMinute(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	rpm := UserRequests(minute, 2)
	a := e.reserve(res("a", "alice", nil, 1_000_000, rpm))
	e.reserve(res("b", "alice", nil, 0, rpm))
	qe := e.refused(res("c", "alice", nil, 5, rpm))
	if qe.Requested != 1 || qe.Status.Reserved != 2 || !qe.Status.ResetsAt.Equal(time.Date(2026, 5, 14, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("QuotaError = %+v", qe)
	}
	e.settle(a, ok(10, 10))
	qe = e.refused(res("c", "alice", nil, 5, rpm))
	if qe.Status.Used != 1 || qe.Status.Reserved != 1 {
		t.Errorf("QuotaError = %+v", qe)
	}
	e.clock.Set(time.Date(2026, 5, 14, 10, 0, 59, 999_999_999, time.UTC))
	_ = e.refused(res("c", "alice", nil, 5, rpm))
	e.clock.Set(time.Date(2026, 5, 14, 10, 1, 0, 0, time.UTC))
	e.reserve(res("c", "alice", nil, 5, rpm))
	e.wantQuota(e.usage("alice", rpm), 0, 0, 1)
}

func testWindowRollover(t *testing.T, open Factory) {
	end := time.Date(2026, 3, 31, 23, 59, 58, 0, time.UTC)
	e := newEnv(t, open, end, 72*time.Hour) // holds outlive the test
	limits := []store.Limit{UserTokens(day, 100), UserTokens(month, 150)}
	e.settle(e.reserve(res("a", "alice", nil, 50, limits...)), ok(25, 25))
	b := e.reserve(res("b", "alice", nil, 50, limits...))
	qe := e.refused(res("x", "alice", nil, 1, limits...))
	if qe.Status.Limit != limits[0] || !qe.Status.ResetsAt.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("QuotaError = %+v", qe)
	}
	e.clock.Set(time.Date(2026, 4, 1, 0, 0, 1, 0, time.UTC))
	// B settles after midnight but counts in the day and month it was reserved in.
	e.settle(b, ok(20, 20))
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 0, 0)
	e.wantQuota(u, 1, 0, 0)
	if u.Today != (store.Totals{}) || u.ThisMonth != (store.Totals{}) {
		t.Errorf("new period totals = %+v / %+v", u.Today, u.ThisMonth)
	}
	rep, err := e.st.ListUsage(e.ctx, store.UsageFilter{StartDay: "2026-03-31", EndDay: "2026-04-01",
		GroupBy: []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_DAY}})
	if err != nil || len(rep.Rows) != 1 || rep.Rows[0].Day != "2026-03-31" || rep.Rows[0].Totals.InputTokens != 45 {
		t.Fatalf("ListUsage = %+v, %v", rep, err)
	}
	// 100 more fits the new day (100) and the new month (150), not March's 90 used.
	e.reserve(res("c", "alice", nil, 100, limits...))
	e.clock.Set(time.Date(2026, 4, 1, 23, 0, 0, 0, time.UTC))
	_ = e.refused(res("d", "alice", nil, 51, limits...))
	e.clock.Set(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	// Day resets; month still holds 100 of 150.
	qe = e.refused(res("d", "alice", nil, 51, limits...))
	if qe.Status.Limit != limits[1] || qe.Status.Reserved != 100 {
		t.Errorf("QuotaError = %+v", qe)
	}
	e.reserve(res("d", "alice", nil, 50, limits...))
}

func testSettleOnErrorAndCancel(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	limits := []store.Limit{UserTokens(day, 1000), UserRequests(minute, 10)}
	a := e.reserve(res("a", "alice", nil, 400, limits...))
	b := e.reserve(res("b", "alice", nil, 400, limits...))
	c := e.reserve(res("c", "alice", nil, 100, limits...))

	// The client went away: the request's context is cancelled before Settle.
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if err := e.st.Settle(ctx, a, store.Outcome{Code: "canceled", InputTokens: 30, OutputTokens: 7}); err != nil {
		t.Fatalf("Settle with a cancelled context: %v", err)
	}
	if err := e.st.Settle(context.WithoutCancel(ctx), b, store.Outcome{Code: "canceled", InputTokens: 30}); err != nil {
		t.Fatalf("Settle with WithoutCancel: %v", err)
	}
	e.settle(c, store.Outcome{Code: "unavailable", ErrorMessage: "model not ready"})
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 67, 0)
	e.wantQuota(u, 1, 3, 0)
	if want := (store.Totals{Requests: 3, Errors: 3, InputTokens: 60, OutputTokens: 7}); u.Today != want {
		t.Errorf("totals = %+v, want %+v", u.Today, want)
	}
}

func testIdempotentSettle(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	limits := []store.Limit{UserTokens(day, 1000), UserRequests(minute, 10)}
	a := e.reserve(res("a", "alice", nil, 400, limits...))
	e.settle(a, ok(100, 100))
	e.settle(a, ok(300, 300))
	e.settle(a, store.Outcome{Code: "internal"})
	b := e.reserve(res("b", "alice", nil, 400, limits...))
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { errs <- e.st.Settle(e.ctx, b, ok(50, 50)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Settle: %v", err)
		}
	}
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 300, 0)
	e.wantQuota(u, 1, 2, 0)
	recs := e.audit(store.AuditFilter{})
	if len(recs) != 2 || recs[0].Outcome != "ok" || recs[1].Tokens() != 200 || recs[0].Tokens() != 100 {
		t.Errorf("audit = %+v", recs)
	}
}

func testDuplicateRequestID(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	l := UserTokens(day, 1000)
	a := e.reserve(res("dup", "alice", nil, 10, l))
	if _, err := e.st.Reserve(e.ctx, res("dup", "alice", nil, 10, l)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("second Reserve of a live id: err = %v, want ErrInvalid", err)
	}
	e.settle(a, ok(1, 1))
	if _, err := e.st.Reserve(e.ctx, res("dup", "bob", nil, 10, l)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Reserve of a settled id: err = %v, want ErrInvalid", err)
	}
	e.wantQuota(e.usage("alice", l), 0, 2, 0)
	e.wantQuota(e.usage("bob", l), 0, 0, 0)
}

func testExpiredRelease(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, time.Minute)
	limits := []store.Limit{UserTokens(day, 1000), GroupTokens("G", month, 1000)}
	a := e.reserve(res("a", "alice", []string{"G"}, 600, limits...))
	if !a.ExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("ExpiresAt = %v", a.ExpiresAt)
	}
	e.clock.Advance(59 * time.Second)
	_ = e.refused(res("b", "alice", []string{"G"}, 600, limits...))
	e.clock.Advance(2 * time.Second)
	b := e.reserve(res("b", "alice", []string{"G"}, 600, limits...))
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 0, 600)
	e.wantQuota(u, 1, 0, 600)
	// The abandoned request's process comes back late: its usage is still recorded, once.
	e.settle(a, ok(10, 10))
	e.settle(a, ok(10, 10))
	u = e.usage("alice", limits...)
	e.wantQuota(u, 0, 20, 600)
	e.wantQuota(u, 1, 20, 600)
	e.settle(b, ok(300, 300))
	u = e.usage("alice", limits...)
	e.wantQuota(u, 0, 620, 0)
	recs := e.audit(store.AuditFilter{})
	if len(recs) != 2 || recs[1].RequestID != "a" || !recs[1].Late || recs[0].Late {
		t.Errorf("audit = %+v", recs)
	}
	// An expired hold is also released before Usage reports it.
	e.reserve(res("c", "alice", []string{"G"}, 100, limits...))
	e.clock.Advance(2 * time.Minute)
	e.wantQuota(e.usage("alice", limits...), 0, 620, 0)
}

func testMergedLimits(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	// Two groups' policies give alice a daily limit: both count in one counter, the smaller
	// one applies, and the tokens are held once.
	tk := e.reserve(res("a", "alice", nil, 100, UserTokens(day, 1000), UserTokens(day, 300)))
	if len(tk.Holds) != 1 || tk.Holds[0].Limit.Max != 300 {
		t.Fatalf("holds = %+v", tk.Holds)
	}
	qe := e.refused(res("b", "alice", nil, 201, UserTokens(day, 300), UserTokens(day, 1000)))
	if qe.Status.Limit.Max != 300 || qe.Status.Reserved != 100 {
		t.Errorf("QuotaError = %+v", qe)
	}
	e.wantQuota(e.usage("alice", UserTokens(day, 1000)), 0, 0, 100)
	// No limits at all: the request is still recorded.
	e.settle(e.reserve(res("c", "alice", nil, 100)), ok(5, 5))
	if recs := e.audit(store.AuditFilter{}); len(recs) != 1 || recs[0].RequestID != "c" {
		t.Errorf("audit = %+v", recs)
	}
}

func testListUsage(t *testing.T, open Factory) {
	e := newEnv(t, open, time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), 0)
	type req struct {
		id, user string
		groups   []string
		model    string
		day      int
		in, out  int64
		code     string
	}
	reqs := []req{
		{"1", "alice", []string{"MLUsers"}, "amazon.nova-lite-v1:0", 1, 10, 20, "ok"},
		{"2", "alice", []string{"MLUsers"}, "amazon.nova-lite-v1:0", 1, 5, 0, "unavailable"},
		{"3", "alice", []string{"MLUsers"}, "anthropic.claude-3-5-haiku-20241022-v1:0", 2, 100, 200, "ok"},
		{"4", "dana", []string{"Administrators", "MLUsers"}, "us.anthropic.claude-sonnet-4-20250514-v1:0", 2, 1000, 2000, "ok"},
		{"5", "bob", nil, "amazon.nova-lite-v1:0", 3, 1, 1, "ok"},
	}
	for _, r := range reqs {
		e.clock.Set(time.Date(2026, 6, r.day, 8, 0, 0, 0, time.UTC))
		rv := res(r.id, r.user, r.groups, 5000)
		rv.ModelID = r.model
		o := ok(r.in, r.out)
		o.Code = r.code
		e.settle(e.reserve(rv), o)
	}
	dims := func(ds ...adminv1.UsageDimension) []adminv1.UsageDimension { return ds }
	const (
		user  = adminv1.UsageDimension_USAGE_DIMENSION_USER
		group = adminv1.UsageDimension_USAGE_DIMENSION_GROUP
		model = adminv1.UsageDimension_USAGE_DIMENSION_MODEL
		dayD  = adminv1.UsageDimension_USAGE_DIMENSION_DAY
	)
	tot := func(reqs, errs, in, out int64) store.Totals {
		return store.Totals{Requests: reqs, Errors: errs, InputTokens: in, OutputTokens: out, CostNanos: 60*in + 240*out}
	}
	tests := []struct {
		name   string
		f      store.UsageFilter
		rows   []store.UsageRow
		totals store.Totals
	}{
		{"totals", store.UsageFilter{StartDay: "2026-06-01", EndDay: "2026-06-02"},
			[]store.UsageRow{{Totals: tot(4, 1, 1115, 2220)}}, tot(4, 1, 1115, 2220)},
		{"nothing used", store.UsageFilter{StartDay: "2025-01-01", EndDay: "2025-12-31"},
			[]store.UsageRow{{}}, store.Totals{}},
		{"by user", store.UsageFilter{StartDay: "2026-06-01", EndDay: "2026-06-30", GroupBy: dims(user)},
			[]store.UsageRow{{User: "alice", Totals: tot(3, 1, 115, 220)}, {User: "bob", Totals: tot(1, 0, 1, 1)}, {User: "dana", Totals: tot(1, 0, 1000, 2000)}},
			tot(5, 1, 1116, 2221)},
		{"by group: a request counts in each of its groups, once in the totals", store.UsageFilter{StartDay: "2026-06-01", EndDay: "2026-06-03", GroupBy: dims(group)},
			[]store.UsageRow{{Group: "Administrators", Totals: tot(1, 0, 1000, 2000)}, {Group: "MLUsers", Totals: tot(4, 1, 1115, 2220)}},
			tot(5, 1, 1116, 2221)},
		{"by day and model in one group", store.UsageFilter{StartDay: "2026-06-01", EndDay: "2026-06-03", GroupBy: dims(dayD, model), Group: "MLUsers"},
			[]store.UsageRow{
				{Day: "2026-06-01", ModelID: "amazon.nova-lite-v1:0", Totals: tot(2, 1, 15, 20)},
				{Day: "2026-06-02", ModelID: "anthropic.claude-3-5-haiku-20241022-v1:0", Totals: tot(1, 0, 100, 200)},
				{Day: "2026-06-02", ModelID: "us.anthropic.claude-sonnet-4-20250514-v1:0", Totals: tot(1, 0, 1000, 2000)},
			}, tot(4, 1, 1115, 2220)},
		{"by group filtered to a group", store.UsageFilter{StartDay: "2026-06-02", EndDay: "2026-06-02", GroupBy: dims(group, user), Group: "MLUsers"},
			[]store.UsageRow{{Group: "MLUsers", User: "alice", Totals: tot(1, 0, 100, 200)}, {Group: "MLUsers", User: "dana", Totals: tot(1, 0, 1000, 2000)}},
			tot(2, 0, 1100, 2200)},
		{"one user and model", store.UsageFilter{StartDay: "2026-06-01", EndDay: "2026-06-03", User: "alice", ModelID: "amazon.nova-lite-v1:0", GroupBy: dims(model, user)},
			[]store.UsageRow{{User: "alice", ModelID: "amazon.nova-lite-v1:0", Totals: tot(2, 1, 15, 20)}}, tot(2, 1, 15, 20)},
		{"one day, by day", store.UsageFilter{StartDay: "2026-06-03", EndDay: "2026-06-03", GroupBy: dims(dayD)},
			[]store.UsageRow{{Day: "2026-06-03", Totals: tot(1, 0, 1, 1)}}, tot(1, 0, 1, 1)},
	}
	for _, tt := range tests {
		rep, err := e.st.ListUsage(e.ctx, tt.f)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(rep.Rows, tt.rows) || rep.Totals != tt.totals {
			t.Errorf("%s:\n got %+v %+v\nwant %+v %+v", tt.name, rep.Rows, rep.Totals, tt.rows, tt.totals)
		}
	}
	bad := []store.UsageFilter{
		{StartDay: "2026-06-02", EndDay: "2026-06-01"},
		{StartDay: "2026-6-1", EndDay: "2026-06-01"},
		{StartDay: "2026-06-01", EndDay: ""},
		{StartDay: "2025-01-01", EndDay: "2026-01-03"},
		{StartDay: "2026-06-01", EndDay: "2026-06-02", GroupBy: dims(user, user)},
		{StartDay: "2026-06-01", EndDay: "2026-06-02", GroupBy: dims(adminv1.UsageDimension_USAGE_DIMENSION_UNSPECIFIED)},
	}
	for _, f := range bad {
		if _, err := e.st.ListUsage(e.ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListUsage(%+v) err = %v, want ErrInvalid", f, err)
		}
	}
	if _, err := e.st.ListUsage(e.ctx, store.UsageFilter{StartDay: "2025-01-01", EndDay: "2026-01-01"}); err != nil {
		t.Errorf("366-day range refused: %v", err)
	}
}

func testListAudit(t *testing.T, open Factory) {
	start := time.Date(2026, 7, 31, 23, 59, 50, 0, time.UTC) // spans a month boundary
	e := newEnv(t, open, start, 0)
	var want []store.Record // oldest first
	for i := range 25 {
		// Every third request shares the previous one's time: ties break by request id.
		if i%3 != 1 {
			e.clock.Advance(time.Second)
		}
		user := []string{"alice", "bob"}[i%2]
		r := res(fmt.Sprintf("req-%02d", i), user, nil, 10)
		if i%5 == 0 {
			r.ModelID = "portico-demo-llm"
		}
		e.settle(e.reserve(r), ok(int64(i), 1))
		want = append(want, store.Record{RequestID: r.RequestID, Time: e.clock.Now(), User: user, ModelID: r.ModelID})
	}
	slices.Reverse(want)
	ids := func(rs []store.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.RequestID)
		}
		return out
	}
	filter := func(keep func(store.Record) bool) []string {
		var out []string
		for _, r := range want {
			if keep(r) {
				out = append(out, r.RequestID)
			}
		}
		return out
	}
	// Pages of 10, 10, 5.
	var got []store.Record
	f := store.AuditFilter{PageSize: 10}
	for page := 0; ; page++ {
		p, err := e.st.ListAudit(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if wantLen := []int{10, 10, 5}[min(page, 2)]; len(p.Records) != wantLen {
			t.Errorf("page %d has %d records, want %d", page, len(p.Records), wantLen)
		}
		got = append(got, p.Records...)
		if p.NextPageToken == "" {
			break
		}
		if page > 3 {
			t.Fatal("too many pages")
		}
		f.PageToken = p.NextPageToken
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("pages:\n got %v\nwant %v", ids(got), ids(want))
	}
	mid := want[12].Time
	tests := []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"default page", store.AuditFilter{}, ids(want)},
		{"one user", store.AuditFilter{User: "alice", PageSize: 4}, filter(func(r store.Record) bool { return r.User == "alice" })},
		{"one model", store.AuditFilter{ModelID: "portico-demo-llm", PageSize: 2}, filter(func(r store.Record) bool { return r.ModelID == "portico-demo-llm" })},
		{"user and model", store.AuditFilter{User: "alice", ModelID: "portico-demo-llm", PageSize: 1}, filter(func(r store.Record) bool {
			return r.User == "alice" && r.ModelID == "portico-demo-llm"
		})},
		{"from a time", store.AuditFilter{Start: mid, PageSize: 3}, filter(func(r store.Record) bool { return !r.Time.Before(mid) })},
		{"before a time", store.AuditFilter{End: mid, PageSize: 7}, filter(func(r store.Record) bool { return r.Time.Before(mid) })},
		{"window, one user", store.AuditFilter{Start: want[20].Time, End: mid, User: "bob"}, filter(func(r store.Record) bool {
			return !r.Time.Before(want[20].Time) && r.Time.Before(mid) && r.User == "bob"
		})},
		{"nobody", store.AuditFilter{User: "nobody"}, nil},
		{"empty window", store.AuditFilter{Start: mid, End: mid}, nil},
	}
	for _, tt := range tests {
		if got := ids(e.audit(tt.f)); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, tt.want)
		}
	}
	for _, f := range []store.AuditFilter{{PageSize: -1}, {PageSize: 501}, {PageToken: "not a token!"}, {PageToken: "e30"}} {
		if _, err := e.st.ListAudit(e.ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListAudit(%+v) err = %v, want ErrInvalid", f, err)
		}
	}
	if p, err := e.st.ListAudit(e.ctx, store.AuditFilter{PageSize: 500}); err != nil || len(p.Records) != 25 || p.NextPageToken != "" {
		t.Errorf("page of 500: %d records, token %q, %v", len(p.Records), p.NextPageToken, err)
	}
}

// testConcurrency is the case: 100 concurrent requests against a quota sized for 10
// never overspend, and the counters end exactly at the sum of the ledger.
func testConcurrency(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	limits := []store.Limit{UserTokens(day, 1000), GroupTokens("MLUsers", month, 1000), UserRequests(minute, 1000)}
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			tk, err := e.st.Reserve(e.ctx, res(fmt.Sprintf("c-%03d", i), "alice", []string{"MLUsers"}, 100, limits...))
			if errors.Is(err, store.ErrQuotaExceeded) {
				refused.Add(1)
				return
			}
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			granted.Add(1)
			u, err := e.st.Usage(e.ctx, "alice", limits)
			if err != nil {
				t.Errorf("Usage: %v", err)
			} else {
				for _, q := range u.Quotas[:2] {
					if q.Used+q.Reserved > q.Limit.Max {
						t.Errorf("overspent: %+v", q)
					}
				}
			}
			if err := e.st.Settle(e.ctx, tk, ok(60, 40)); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 10 || refused.Load() != 90 {
		t.Errorf("granted %d, refused %d; want 10 and 90", granted.Load(), refused.Load())
	}
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 1000, 0)
	e.wantQuota(u, 1, 1000, 0)
	e.wantQuota(u, 2, 10, 0)
	var sum int64
	recs := e.audit(store.AuditFilter{PageSize: 7})
	for _, r := range recs {
		sum += r.Tokens()
	}
	if len(recs) != 10 || sum != 1000 || u.Today.InputTokens+u.Today.OutputTokens != 1000 {
		t.Errorf("ledger: %d records, %d tokens; totals %+v", len(recs), sum, u.Today)
	}
}

// testConcurrentGroup races several users on one group limit (and their own daily limits)
// with actual usage below the holds: the group never passes its limit, and every counter
// equals the ledger.
func testConcurrentGroup(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	group := GroupTokens("Team", month, 1000)
	users := []string{"u1", "u2", "u3", "u4"}
	var wg sync.WaitGroup
	var granted atomic.Int64
	for i := range 60 {
		wg.Go(func() {
			user := users[i%len(users)]
			tk, err := e.st.Reserve(e.ctx, res(fmt.Sprintf("g-%03d", i), user, []string{"Team"}, 100, group, UserTokens(day, 300)))
			if errors.Is(err, store.ErrQuotaExceeded) {
				return
			}
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			granted.Add(1)
			if err := e.st.Settle(e.ctx, tk, ok(int64(i%30), int64(i%20))); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	var sum int64
	perUser := map[string]int64{}
	recs := e.audit(store.AuditFilter{PageSize: 500})
	for _, r := range recs {
		sum += r.Tokens()
		perUser[r.User] += r.Tokens()
	}
	u := e.usage("u1", group, UserTokens(day, 300))
	e.wantQuota(u, 0, sum, 0)
	e.wantQuota(u, 1, perUser["u1"], 0)
	// Safety, not liveness: a store may refuse a request spuriously while another one's
	// refused reservation unwinds (dynamostore does, for milliseconds), never let one past.
	if int64(len(recs)) != granted.Load() || granted.Load() == 0 || sum > 1000 {
		t.Errorf("granted %d, %d records, %d tokens", granted.Load(), len(recs), sum)
	}
}

func testUnavailable(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	l := UserTokens(day, 1000)
	tk := e.reserve(res("a", "alice", nil, 10, l))
	if err := e.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := e.st.Reserve(e.ctx, res("b", "alice", nil, 10, l)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Reserve after Close: %v", err)
	}
	if err := e.st.Settle(e.ctx, tk, ok(1, 1)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Settle after Close: %v", err)
	}
	if _, err := e.st.Usage(e.ctx, "alice", []store.Limit{l}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Usage after Close: %v", err)
	}
	if _, err := e.st.ListUsage(e.ctx, store.UsageFilter{StartDay: "2026-01-01", EndDay: "2026-01-01"}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListUsage after Close: %v", err)
	}
	if _, err := e.st.ListAudit(e.ctx, store.AuditFilter{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListAudit after Close: %v", err)
	}
	if err := e.st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testInvalid(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	good := res("x", "alice", nil, 10, UserTokens(day, 100))
	mut := func(f func(*store.Reservation)) store.Reservation {
		r := good
		f(&r)
		return r
	}
	bad := []store.Reservation{
		mut(func(r *store.Reservation) { r.RequestID = "" }),
		mut(func(r *store.Reservation) { r.User = "" }),
		mut(func(r *store.Reservation) { r.ModelID = "" }),
		mut(func(r *store.Reservation) { r.Tokens = -1 }),
		mut(func(r *store.Reservation) { r.Limits = []store.Limit{{Max: 5}} }),
		mut(func(r *store.Reservation) { r.Limits = []store.Limit{GroupTokens("", day, 5)} }),
		mut(func(r *store.Reservation) { r.Limits = []store.Limit{UserTokens(day, -1)} }),
	}
	for _, r := range bad {
		if _, err := e.st.Reserve(e.ctx, r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Reserve(%+v) err = %v, want ErrInvalid", r, err)
		}
	}
	e.wantQuota(e.usage("alice", UserTokens(day, 100)), 0, 0, 0)
}
