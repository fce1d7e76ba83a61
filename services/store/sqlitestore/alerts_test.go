package sqlitestore

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// TestAlertPageIsOneIndexRange: a window's page of marks is read as one range of the
// alert_marks_listed index, in its order (no sort of every mark), so its cost is the page's.
func TestAlertPageIsOneIndexRange(t *testing.T) {
	t.Parallel()
	s := openT(t, filepath.Join(t.TempDir(), "a.db"), store.Options{})
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+alertListQuery, 1, "", 11)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if len(plan) != 1 || !strings.Contains(got, "USING INDEX alert_marks_listed (resets_at=? AND list_key>?)") {
		t.Errorf("plan = %q; want one search of alert_marks_listed by resets_at and list_key", got)
	}
}

// TestAlertListingBackfilled: marks written before migration 0009 get their list key and
// superseded flag from it, and list as marks written after it do.
func TestAlertListingBackfilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.db")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := openT(t, path, store.Options{Now: func() time.Time { return now }})
	day := storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1000)
	for i := range 12 {
		key, resets := store.CounterKey(fmt.Sprint("user-", i), day, now)
		m := store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: fmt.Sprint("user-", i), Limit: day, Used: 800,
			ResetsAt: resets, Time: now.Add(-time.Duration(i%4) * time.Minute)}
		if _, err := s.MarkAlert(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			m.Threshold, m.Used, m.Time = store.ThresholdFull, 1000, m.Time.Add(time.Second)
			if _, err := s.MarkAlert(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func() []store.AlertMark {
		t.Helper()
		var out []store.AlertMark
		f := store.AlertFilter{Now: now, PageSize: 5}
		for {
			page, err := s.ListAlerts(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Marks...)
			if f.PageToken = page.NextPageToken; f.PageToken == "" {
				return out
			}
		}
	}
	before := list()
	if len(before) != 12 || before[0].Threshold != store.ThresholdFull || before[4].Threshold != store.ThresholdNear {
		t.Fatalf("listed %d marks, %+v; want 12, the four at 100 %% first", len(before), before)
	}
	reopen := func() {
		t.Helper()
		_ = s.Close()
		s = openT(t, path, store.Options{Now: func() time.Time { return now }})
		if after := list(); !reflect.DeepEqual(before, after) {
			t.Errorf("after the backfill:\n%+v\nwant\n%+v", after, before)
		}
	}
	// 0009 again over its own result (as a test of an earlier migration may run it).
	if _, err := s.db.Exec(`DELETE FROM schema_version WHERE version >= 9`); err != nil {
		t.Fatal(err)
	}
	reopen()
	// Back to the table as 0008 left it: no list key, no superseded flag, no listing index.
	if _, err := s.db.Exec(`DROP INDEX alert_marks_listed; ALTER TABLE alert_marks DROP COLUMN list_key;
		ALTER TABLE alert_marks DROP COLUMN superseded; DELETE FROM schema_version WHERE version >= 9`); err != nil {
		t.Fatal(err)
	}
	reopen()
}
