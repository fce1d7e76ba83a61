package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// TestAlertPageReadsAPage: a page of ListAlerts reads at most a page and one item per
// current window, however many marks the windows hold.
func TestAlertPageReadsAPage(t *testing.T) {
	t.Parallel()
	db := client(t)
	r := &reading{API: db}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := New(r, newTable(t, db), store.Options{Now: func() time.Time { return now }})
	day := storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1000)
	month := storetest.UserCost(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, 1000)
	for i := range 60 {
		l := []store.Limit{day, month}[i%2]
		key, resets := store.CounterKey(fmt.Sprint("user-", i), l, now)
		for _, th := range []int{store.ThresholdFull, store.ThresholdNear} {
			m := store.AlertMark{Key: key, Threshold: th, User: fmt.Sprint("user-", i), Limit: l, ResetsAt: resets, Time: now.Add(-time.Duration(i) * time.Second)}
			if _, err := s.MarkAlert(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	const size = 5
	windows := int64(len(store.AlertWindowEnds(now)))
	f := store.AlertFilter{Now: now, PageSize: size}
	listed := 0
	for pages := 0; ; pages++ {
		r.items.Store(0)
		page, err := s.ListAlerts(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if n := r.items.Load(); n > windows*(size+1) {
			t.Fatalf("page %d read %d items; want at most %d (a page and one per window)", pages, n, windows*(size+1))
		}
		listed += len(page.Marks)
		if f.PageToken = page.NextPageToken; f.PageToken == "" {
			break
		}
	}
	if listed != 60 {
		t.Errorf("listed %d counters, want 60 (one per counter, its 100 %% mark)", listed)
	}
}

// TestUnlistedMarkListedAtNextCheck: a mark recorded without its listed item (its listing
// write failed, or it was recorded before listed items existed) is listed at the counter's
// next check, with the crossing time the mark recorded, and only once per instance.
func TestUnlistedMarkListedAtNextCheck(t *testing.T) {
	t.Parallel()
	db := client(t)
	f := &faulty{API: db}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := New(f, newTable(t, db), store.Options{Now: func() time.Time { return now }})
	l := storetest.UserTokens(typev1.QuotaWindow_QUOTA_WINDOW_DAY, 1000)
	key, resets := store.CounterKey("alice", l, now)
	crossed := now.Add(-time.Hour)
	m := store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: "alice", Limit: l, ResetsAt: resets, Time: crossed}

	f.set(func(op, sk string) bool { return op == "PutItem" && sk == alertListedSK })
	if _, err := s.MarkAlert(t.Context(), m); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("MarkAlert with the listing write lost: err = %v", err)
	}
	f.set(nil)
	page, err := s.ListAlerts(t.Context(), store.AlertFilter{Now: now})
	if err != nil || len(page.Marks) != 0 {
		t.Fatalf("before the next check: %+v, %v", page.Marks, err)
	}

	// The next check finds the mark recorded: not new, but listed now, as it was crossed.
	later := m
	later.Time = now
	if fresh, err := s.MarkAlert(t.Context(), later); err != nil || fresh {
		t.Fatalf("next check: fresh %v, err %v", fresh, err)
	}
	page, err = s.ListAlerts(t.Context(), store.AlertFilter{Now: now})
	if err != nil || len(page.Marks) != 1 || !page.Marks[0].Time.Equal(crossed) || page.Marks[0].User != "alice" {
		t.Fatalf("after the next check: %+v, %v", page.Marks, err)
	}

	// Later checks on this instance neither read nor write the listing again.
	f.set(func(op, sk string) bool { return op == "PutItem" && sk == alertListedSK })
	defer f.set(nil)
	if fresh, err := s.MarkAlert(t.Context(), later); err != nil || fresh {
		t.Fatalf("third check: fresh %v, err %v", fresh, err)
	}
}
