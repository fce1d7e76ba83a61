package sqlitestore

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
)

// TestUsageSummariesBackfilled: a database migrated to 0007 from a ledger written before it
// gets summaries equal to that ledger (huge figures saturate rather than fail the migration),
// and the reads answer as they did from the ledger.
func TestUsageSummariesBackfilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "u.db")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	opts := store.Options{Now: func() time.Time { return now }}
	s := openT(t, path, opts)
	settle := func(id, user, model, dept string, groups []string, o store.Outcome) {
		t.Helper()
		tk, err := s.Reserve(t.Context(), store.Reservation{RequestID: id, User: user, Groups: groups, ModelID: model, Department: dept})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(t.Context(), tk, o); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		now = time.Date(2026, 12, 1+i%6, i%24, 0, 0, 0, time.UTC)
		o := store.Outcome{InputTokens: int64(10 + i), OutputTokens: int64(i), CostNanos: int64(1000 * i)}
		if i%7 == 0 {
			o.Code = "unavailable"
		}
		settle(fmt.Sprint("r", i), []string{"alice", "bob"}[i%2], []string{"m1", "m2", "m3"}[i%3], []string{"", "Research"}[i%2],
			[][]string{{"MLUsers"}, {"MLUsers", "Admins"}}[i%2], o)
	}
	now = time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	settle("huge1", "carol", "m1", "", nil, store.Outcome{InputTokens: math.MaxInt64 - 5, CostNanos: math.MaxInt64})
	settle("huge2", "carol", "m1", "", nil, store.Outcome{InputTokens: math.MaxInt64 - 5, CostNanos: 7})

	f := store.UsageFilter{StartDay: "2026-12-01", EndDay: "2026-12-31", GroupBy: []adminv1.UsageDimension{
		adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER,
		adminv1.UsageDimension_USAGE_DIMENSION_MODEL, adminv1.UsageDimension_USAGE_DIMENSION_GROUP,
		adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT}}
	before, err := s.ListUsage(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Usage(t.Context(), "bob", nil) // bob: days 2, 4 and 6, five requests each
	if err != nil || u.ThisMonth.Requests != 15 || u.Today.Requests != 5 || u.Today.InputTokens != 10*5+5+11+17+23+29 {
		t.Fatalf("bob's usage = %+v, %v; want 15 requests this month, 5 today", u, err)
	}
	if c, err := s.Usage(t.Context(), "carol", nil); err != nil || c.Today.InputTokens != math.MaxInt64 || c.Today.CostNanos != math.MaxInt64 || c.Today.Requests != 2 {
		t.Fatalf("carol's usage = %+v, %v; want saturated figures", c, err)
	}
	// Back to a database as 0006 left it: a ledger, no summaries (0008 runs again harmlessly).
	if _, err := s.db.Exec(`DROP TABLE usage_daily; DELETE FROM schema_version WHERE version >= 7`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s = openT(t, path, opts)
	after, err := s.ListUsage(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("backfilled summaries differ:\nbefore %+v\nafter  %+v", before, after)
	}
	if u2, err := s.Usage(t.Context(), "bob", nil); err != nil || u2.Today != u.Today || u2.ThisMonth != u.ThisMonth {
		t.Errorf("bob's usage after the backfill = %+v, %v; want %+v", u2, err, u)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM usage_daily`).Scan(&rows); err != nil || rows >= 32 {
		t.Errorf("%d summary rows for 32 requests, %v; want one per combination", rows, err)
	}
}
