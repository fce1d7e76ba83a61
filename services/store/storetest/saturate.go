package storetest

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
)

// testHugeUsage settles outcomes whose counts are huge, negative, or a pair that passes
// math.MaxInt64 when added: the counters saturate instead of wrapping around (a wrapped sum
// lowered them by ~1e11 and lifted every limit), usage stays readable, and a limit that was
// reached keeps refusing.
func testHugeUsage(t *testing.T, open Factory) {
	const limit = 30_000
	tests := []struct {
		name     string
		in, out  int64
		wantUsed int64
	}{
		{"overflowing pair", math.MaxInt64 - 1, math.MaxInt64 - 1, math.MaxInt64},
		{"pair summing just past the range", math.MaxInt64 - 5, 6, math.MaxInt64},
		{"largest input", math.MaxInt64, 0, math.MaxInt64},
		{"negative and huge", -5, math.MaxInt64, math.MaxInt64},
		{"both negative", math.MinInt64, -1, 0},
		{"zero", 0, 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, open, t0, 0)
			l := UserTokens(day, limit)
			tk := e.reserve(res(fmt.Sprintf("h%d", i), "alice", []string{"MLUsers"}, 100, l, GroupTokens("MLUsers", month, limit)))
			o := ok(0, 0)
			o.InputTokens, o.OutputTokens = tt.in, tt.out
			e.settle(tk, o)
			u := e.usage("alice", l, GroupTokens("MLUsers", month, limit))
			e.wantQuota(u, 0, tt.wantUsed, 0)
			e.wantQuota(u, 1, tt.wantUsed, 0)
			if u.Today.InputTokens < 0 || u.Today.OutputTokens < 0 || u.Today.Requests != 1 {
				t.Errorf("today = %+v", u.Today)
			}
			rep, err := e.st.ListUsage(e.ctx, store.UsageFilter{StartDay: "2026-05-14", EndDay: "2026-05-14"})
			if err != nil {
				t.Fatalf("ListUsage: %v", err)
			}
			if rep.Totals.Requests != 1 || rep.Totals.InputTokens < 0 || rep.Totals.OutputTokens < 0 {
				t.Errorf("ListUsage totals = %+v", rep.Totals)
			}
			recs := e.audit(store.AuditFilter{})
			if len(recs) != 1 || recs[0].InputTokens < 0 || recs[0].OutputTokens < 0 || recs[0].Tokens() != tt.wantUsed {
				t.Errorf("records = %+v", recs)
			}
			next := res(fmt.Sprintf("n%d", i), "alice", nil, 1, l)
			if tt.wantUsed >= limit {
				qe := e.refused(next)
				if qe.Status.Used != tt.wantUsed {
					t.Errorf("refusal = %+v", qe)
				}
			} else {
				e.reserve(next)
			}
		})
	}
}

// testSumsNeverOverflow records requests whose counts and costs add up past math.MaxInt64
// on one day: GetUsage's totals and ListUsage keep answering, saturated, instead of failing
// (SQLite's sum() stops a query at an integer overflow) or wrapping around.
func testSumsNeverOverflow(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	half := int64(math.MaxInt64/2 + 1)
	for i := range 3 {
		tk := e.reserve(res(fmt.Sprintf("s%d", i), "alice", []string{"MLUsers"}, 10))
		o := ok(0, 0)
		o.InputTokens, o.OutputTokens, o.CostNanos = half, half, half
		e.settle(tk, o)
	}
	sat := store.Totals{Requests: 3, InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64, CostNanos: math.MaxInt64}
	u := e.usage("alice")
	if u.Today != sat || u.ThisMonth != sat {
		t.Errorf("usage totals today %+v month %+v, want %+v", u.Today, u.ThisMonth, sat)
	}
	for _, f := range []store.UsageFilter{
		{StartDay: "2026-05-01", EndDay: "2026-05-31"},
		{StartDay: "2026-05-14", EndDay: "2026-05-14", User: "alice"},
		{StartDay: "2026-05-14", EndDay: "2026-05-14", GroupBy: []adminv1.UsageDimension{
			adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER,
			adminv1.UsageDimension_USAGE_DIMENSION_GROUP, adminv1.UsageDimension_USAGE_DIMENSION_MODEL,
		}},
	} {
		rep, err := e.st.ListUsage(e.ctx, f)
		if err != nil {
			t.Fatalf("ListUsage(%+v): %v", f, err)
		}
		if rep.Totals != sat || len(rep.Rows) != 1 || rep.Rows[0].Totals != sat {
			t.Errorf("ListUsage(%+v) = %+v, want totals %+v", f, rep, sat)
		}
		if p := rep.Totals.Proto(); p.GetTotalTokens() != math.MaxInt64 {
			t.Errorf("total tokens = %d", p.GetTotalTokens())
		}
	}
}

// testUsageSource checks that the usage source of an outcome is recorded, and that an
// outcome naming none gets the one its estimated flag implies.
func testUsageSource(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	tests := []struct {
		id            string
		source        store.UsageSource
		estimated     bool
		want          store.UsageSource
		wantEstimated bool
	}{
		{"reported", store.UsageReported, false, store.UsageReported, false},
		{"estimated", store.UsageEstimated, true, store.UsageEstimated, true},
		{"clamped", store.UsageClamped, false, store.UsageClamped, true},
		{"flag only", "", true, store.UsageEstimated, true},
		{"nothing said", "", false, store.UsageReported, false},
		{"unknown source", "made-up", false, store.UsageReported, false},
	}
	for i, tt := range tests {
		e.clock.Advance(time.Duration(i+1) * time.Second)
		o := ok(3, 4)
		o.UsageSource, o.UsageEstimated = tt.source, tt.estimated
		e.settle(e.reserve(res(tt.id, "alice", nil, 10)), o)
	}
	got := map[string]store.Record{}
	for _, r := range e.audit(store.AuditFilter{}) {
		got[r.RequestID] = r
	}
	for _, tt := range tests {
		r := got[tt.id]
		if r.UsageSource != tt.want || r.UsageEstimated != tt.wantEstimated {
			t.Errorf("%s: source %q estimated %v, want %q %v", tt.id, r.UsageSource, r.UsageEstimated, tt.want, tt.wantEstimated)
		}
		if p := r.Proto(); p.GetUsageSource() != string(tt.want) {
			t.Errorf("%s: proto usage_source %q", tt.id, p.GetUsageSource())
		}
	}
}

// testNegativeCounter plants negative figures in a counter: Reserve and Usage fail with
// ErrCorrupt instead of reading them as zero (which let every request through).
func testNegativeCounter(t *testing.T, open Factory, write CounterWriter) {
	tests := []struct {
		name           string
		used, reserved int64
	}{
		{"used lowered by a wrapped settle", -100_000_000_000, 0},
		{"used just below zero", -1, 0},
		{"reserved below zero", 0, -1},
		{"smallest int64", math.MinInt64, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, open, t0, 0)
			l := UserTokens(day, 30_000)
			key, resets := store.CounterKey("alice", l, t0)
			write(t, e.st, key, tt.used, tt.reserved, resets)
			_, err := e.st.Reserve(e.ctx, res("c1", "alice", nil, 10, l))
			if !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Reserve on a negative counter: err = %v, want ErrCorrupt", err)
			}
			if _, err := e.st.Usage(e.ctx, "alice", []store.Limit{l}); !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("Usage of a negative counter: err = %v, want ErrCorrupt", err)
			}
			// Other counters are unaffected.
			e.reserve(res("c2", "bob", nil, 10, l))
		})
	}
}
