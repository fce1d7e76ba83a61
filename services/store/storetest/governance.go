package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

// governanceCases are the contract of budgets, departments, policy versions and alert marks
// (issue 15); Run runs them with the rest.
var governanceCases = []struct {
	name string
	fn   func(*testing.T, Factory)
}{
	{"CostBudgetConcurrentGrantsExactly", testCostBudgetConcurrent},
	{"CostReservedAtWorstSettledAtEstimate", testCostSettle},
	{"DepartmentRecordedAndGrouped", testDepartment},
	{"PolicyVersions", testPolicyVersions},
	{"PolicyVersionsConcurrentWritersOneWins", testPolicyVersionRace},
	{"AlertMarkedOncePerThresholdPerWindow", testAlertMarks},
	{"AlertPagesListEachCounterOnceInOrder", testAlertPages},
	{"AlertListingRefusesBadPages", testAlertBadPages},
	{"CountersMatchUsage", testCounters},
}

// UserCost returns a per-user budget of max nanos per window.
func UserCost(w typev1.QuotaWindow, max int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: w, Unit: typev1.QuotaUnit_QUOTA_UNIT_COST, Max: max}
}

// GroupCost returns a group budget of max nanos per window.
func GroupCost(group string, w typev1.QuotaWindow, max int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: group, Window: w, Unit: typev1.QuotaUnit_QUOTA_UNIT_COST, Max: max}
}

func governance(t *testing.T, st store.Store) store.Governance {
	t.Helper()
	g, ok := st.(store.Governance)
	if !ok {
		t.Fatalf("%T does not implement store.Governance", st)
	}
	return g
}

// testCostBudgetConcurrent races 100 requests, each reserving a worst case of 0.0015 against
// budgets that hold exactly 10 of them, all in flight at once: exactly 10 are granted, every
// refusal names a budget, and once they settle below the worst case the budgets' used
// figures equal the ledger's costs.
func testCostBudgetConcurrent(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	const worst = 1_500_000 // nanos
	limits := []store.Limit{UserCost(day, 10*worst), GroupCost("MLUsers", month, 10*worst)}
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var tickets []store.Ticket
	for i := range 100 {
		wg.Go(func() {
			r := res(fmt.Sprintf("b-%03d", i), "alice", []string{"MLUsers"}, 100, limits...)
			r.Cost = worst
			tk, err := e.st.Reserve(e.ctx, r)
			var qe *store.QuotaError
			if errors.As(err, &qe) {
				if qe.Status.Limit.Unit != typev1.QuotaUnit_QUOTA_UNIT_COST || qe.Requested != worst {
					t.Errorf("refusal names %v requesting %d; want a budget and %d", qe.Status.Limit, qe.Requested, worst)
				}
				refused.Add(1)
				return
			}
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			granted.Add(1)
			mu.Lock()
			tickets = append(tickets, tk)
			mu.Unlock()
		})
	}
	wg.Wait()
	if granted.Load() != 10 || refused.Load() != 90 {
		t.Fatalf("granted %d, refused %d; want 10 and 90", granted.Load(), refused.Load())
	}
	for _, tk := range tickets {
		wg.Go(func() {
			o := ok(60, 40)
			o.CostNanos = 1_000_001 // the estimate, below the worst case
			if err := e.st.Settle(e.ctx, tk, o); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	u := e.usage("alice", limits...)
	e.wantQuota(u, 0, 10*1_000_001, 0)
	e.wantQuota(u, 1, 10*1_000_001, 0)
	if u.Today.CostNanos != 10*1_000_001 {
		t.Errorf("ledger cost today = %d, want %d", u.Today.CostNanos, 10*1_000_001)
	}
}

// testCostSettle reserves a budget at the worst case and settles it at the estimate; a
// request whose worst case does not fit what is left is refused with the budget named.
func testCostSettle(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	budget := UserCost(month, 5_000)
	r := res("c-1", "alice", nil, 100, budget, UserTokens(day, 1000))
	r.Cost = 3_000
	tk := e.reserve(r)
	e.wantQuota(e.usage("alice", budget), 0, 0, 3_000)
	r2 := res("c-2", "alice", nil, 100, budget)
	r2.Cost = 2_001
	qe := e.refused(r2)
	if qe.Status.Limit != budget || qe.Requested != 2_001 || qe.Status.Reserved != 3_000 {
		t.Errorf("refusal = %+v", qe)
	}
	if p := qe.Proto(); p.GetStatus().GetLimit().GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_COST {
		t.Errorf("QuotaExceeded detail names unit %v, want QUOTA_UNIT_COST", p.GetStatus().GetLimit().GetUnit())
	}
	o := ok(10, 10)
	o.CostNanos = 1_234
	e.settle(tk, o)
	e.wantQuota(e.usage("alice", budget), 0, 1_234, 0)
	r2.RequestID = "c-3"
	r2.Cost = 3_766
	e.settle(e.reserve(r2), store.Outcome{Code: "unavailable", CostNanos: 0})
	e.wantQuota(e.usage("alice", budget), 0, 1_234, 0)
	neg := res("c-4", "alice", nil, 1, budget)
	neg.Cost = -1
	if _, err := e.st.Reserve(e.ctx, neg); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative cost: %v, want ErrInvalid", err)
	}
}

// testDepartment records departments and details, breaks usage down and filters it by
// department, and lists them in the audit trail.
func testDepartment(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	for i, dep := range []string{"Legal", "Research", "Research", ""} {
		r := res(fmt.Sprintf("d-%d", i), []string{"carol", "alice", "dana", "bob"}[i], nil, 10)
		r.Department = dep
		o := ok(int64(i+1), 0)
		o.Detail = "detail " + dep
		e.settle(e.reserve(r), o)
	}
	f := store.UsageFilter{StartDay: t0.Format(time.DateOnly), EndDay: t0.Format(time.DateOnly),
		GroupBy: []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT}}
	rep, err := e.st.ListUsage(e.ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rep.Rows {
		got = append(got, fmt.Sprintf("%s=%d", row.Department, row.Totals.InputTokens))
	}
	if want := []string{"=4", "Legal=1", "Research=5"}; !slices.Equal(got, want) {
		t.Errorf("by department = %v, want %v", got, want)
	}
	f.Department = "Research"
	f.GroupBy = []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_USER}
	if rep, err = e.st.ListUsage(e.ctx, f); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Totals.InputTokens != 5 || rep.Rows[0].User != "alice" || rep.Rows[1].User != "dana" {
		t.Errorf("Research by user = %+v", rep)
	}
	for _, r := range e.audit(store.AuditFilter{}) {
		if want := map[string]string{"carol": "Legal", "alice": "Research", "dana": "Research", "bob": ""}[r.User]; r.Department != want || r.Detail != "detail "+want {
			t.Errorf("record of %s: department %q detail %q", r.User, r.Department, r.Detail)
		}
	}
}

func policyVersion(n int64, kind, yaml string) store.PolicyVersion {
	return store.PolicyVersion{Version: n, Time: t0.Add(time.Duration(n) * time.Minute), Author: "dana", AuthorSubject: "sub-dana",
		Kind: kind, Comment: "comment " + yaml, Changes: []string{"change " + yaml}, YAML: yaml}
}

// testPolicyVersions writes and reads versions: numbered from 1 with no gap, a stale number
// refused, pages newest first.
func testPolicyVersions(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	if n, err := g.LatestPolicyVersion(e.ctx); n != 0 || err != nil {
		t.Fatalf("empty store: latest %d, %v", n, err)
	}
	if err := g.AddPolicyVersion(e.ctx, policyVersion(2, store.PolicyUpdate, "b")); !errors.Is(err, store.ErrStaleVersion) {
		t.Errorf("version 2 in an empty store: %v, want ErrStaleVersion", err)
	}
	if err := g.AddPolicyVersion(e.ctx, policyVersion(0, store.PolicyUpdate, "b")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("version 0: %v, want ErrInvalid", err)
	}
	seed := policyVersion(1, store.PolicySeed, "a")
	seed.Author, seed.AuthorSubject, seed.Changes = "", "", nil
	if err := g.AddPolicyVersion(e.ctx, seed); err != nil {
		t.Fatal(err)
	}
	if err := g.AddPolicyVersion(e.ctx, policyVersion(1, store.PolicyUpdate, "again")); !errors.Is(err, store.ErrStaleVersion) {
		t.Errorf("version 1 twice: %v, want ErrStaleVersion", err)
	}
	for n := int64(2); n <= 7; n++ {
		v := policyVersion(n, store.PolicyUpdate, fmt.Sprint("y", n))
		if n == 7 {
			v.Kind, v.Restored = store.PolicyRollback, 3
		}
		if err := g.AddPolicyVersion(e.ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := g.LatestPolicyVersion(e.ctx); n != 7 || err != nil {
		t.Errorf("latest %d, %v; want 7", n, err)
	}
	got, err := g.PolicyVersion(e.ctx, 7)
	if want := policyVersion(7, store.PolicyRollback, "y7"); err != nil || !got.Time.Equal(want.Time) || got.Restored != 3 ||
		got.YAML != "y7" || got.Author != "dana" || got.AuthorSubject != "sub-dana" || got.Kind != store.PolicyRollback ||
		got.Comment != want.Comment || !slices.Equal(got.Changes, want.Changes) {
		t.Errorf("version 7 = %+v, %v", got, err)
	}
	if got, err := g.PolicyVersion(e.ctx, 1); err != nil || got.Changes != nil || got.Kind != store.PolicySeed || got.YAML != "a" {
		t.Errorf("version 1 = %+v, %v", got, err)
	}
	if _, err := g.PolicyVersion(e.ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version 99: %v, want ErrNotFound", err)
	}
	var seen []int64
	f := store.PolicyVersionFilter{PageSize: 3}
	for range 10 {
		page, err := g.ListPolicyVersions(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			seen = append(seen, v.Version)
		}
		if f.PageToken = page.NextPageToken; f.PageToken == "" {
			break
		}
	}
	if want := []int64{7, 6, 5, 4, 3, 2, 1}; !slices.Equal(seen, want) {
		t.Errorf("listed %v, want %v", seen, want)
	}
	if _, err := g.ListPolicyVersions(e.ctx, store.PolicyVersionFilter{PageToken: "%%"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad page token: %v, want ErrInvalid", err)
	}
}

// testPolicyVersionRace has 20 editors save version 2 at once: exactly one wins, the others
// are told their base is stale.
func testPolicyVersionRace(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	if err := g.AddPolicyVersion(e.ctx, policyVersion(1, store.PolicySeed, "seed")); err != nil {
		t.Fatal(err)
	}
	var won, stale atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := g.AddPolicyVersion(e.ctx, policyVersion(2, store.PolicyUpdate, fmt.Sprint("editor ", i)))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrStaleVersion):
				stale.Add(1)
			default:
				t.Errorf("AddPolicyVersion: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || stale.Load() != 19 {
		t.Errorf("won %d, stale %d; want 1 and 19", won.Load(), stale.Load())
	}
	if n, err := g.LatestPolicyVersion(e.ctx); n != 2 || err != nil {
		t.Errorf("latest %d, %v; want 2", n, err)
	}
}

// testAlertMarks marks each (counter, threshold) once however many instances try, and lists
// only the marks of windows that have not ended.
func testAlertMarks(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	limit := UserTokens(day, 1000)
	key, resets := store.CounterKey("alice", limit, t0)
	mark := store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: "alice", Department: "Research", Limit: limit,
		Used: 850, Reserved: 10, ResetsAt: resets, Time: t0}
	var first atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := g.MarkAlert(e.ctx, mark)
			if err != nil {
				t.Errorf("MarkAlert: %v", err)
			}
			if ok {
				first.Add(1)
			}
		})
	}
	wg.Wait()
	if first.Load() != 1 {
		t.Errorf("%d calls were first, want 1", first.Load())
	}
	full := mark
	full.Threshold, full.Used, full.Time = store.ThresholdFull, 1000, t0.Add(time.Minute)
	if ok, err := g.MarkAlert(e.ctx, full); !ok || err != nil {
		t.Errorf("100 %% mark: %v, %v; want first", ok, err)
	}
	group := GroupCost("MLUsers", month, 5_000)
	gkey, gresets := store.CounterKey("alice", group, t0)
	gmark := store.AlertMark{Key: gkey, Threshold: store.ThresholdNear, User: "alice", Limit: group, Used: 4_000,
		ResetsAt: gresets, Time: t0.Add(2 * time.Minute)}
	if ok, err := g.MarkAlert(e.ctx, gmark); !ok || err != nil {
		t.Errorf("group mark: %v, %v", ok, err)
	}
	for _, bad := range []store.AlertMark{
		{Key: "k", Threshold: 80, Limit: store.Limit{}, ResetsAt: resets, Time: t0},              // malformed limit
		{Threshold: 80, Limit: limit, ResetsAt: resets, Time: t0},                                // no key
		{Key: key, Threshold: 90, Limit: limit, ResetsAt: resets, Time: t0},                      // not a threshold
		{Key: key, Threshold: 80, Limit: limit, ResetsAt: resets.Add(time.Hour), Time: t0},       // not a window end
		{Key: key, Threshold: 80, Limit: limit, ResetsAt: resets, Time: time.Time{}},             // time out of range
		{Key: key, Threshold: 80, Limit: limit, ResetsAt: resets, Time: time.Unix(0, 0).Add(-1)}, // before 1970
	} {
		if ok, err := g.MarkAlert(e.ctx, bad); ok || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("MarkAlert(%+v) = %v, %v; want ErrInvalid", bad, ok, err)
		}
	}
	list := listAlerts(t, g, t0, 0)
	want := []store.AlertMark{full, gmark} // the 80 % mark of alice's day is superseded by its 100 %
	if len(list) != len(want) {
		t.Fatalf("listed %d marks, want %d: %+v", len(list), len(want), list)
	}
	for i := range want {
		g, w := list[i], want[i]
		if g.Key != w.Key || g.Threshold != w.Threshold || g.User != w.User || g.Department != w.Department ||
			g.Limit != w.Limit || g.Used != w.Used || g.Reserved != w.Reserved || !g.ResetsAt.Equal(w.ResetsAt) || !g.Time.Equal(w.Time) {
			t.Errorf("mark %d = %+v, want %+v", i, g, w)
		}
	}
	// The next day: the day's marks are over, the month's stays; the new day's counter may
	// alert again.
	next := t0.AddDate(0, 0, 1)
	if list = listAlerts(t, g, next, 0); len(list) != 1 || list[0].Key != gkey {
		t.Errorf("next day: %+v; want the group mark only", list)
	}
	nkey, nresets := store.CounterKey("alice", limit, next)
	if ok, err := g.MarkAlert(e.ctx, store.AlertMark{Key: nkey, Threshold: 80, User: "alice", Limit: limit, ResetsAt: nresets, Time: next}); !ok || err != nil {
		t.Errorf("new window: %v, %v; want first", ok, err)
	}
}

// listAlerts walks every page of the marks current at now, size at a time, and returns them.
func listAlerts(t *testing.T, g store.Governance, now time.Time, size int) []store.AlertMark {
	t.Helper()
	var out []store.AlertMark
	f := store.AlertFilter{Now: now, PageSize: size}
	for pages := 0; ; pages++ {
		page, err := g.ListAlerts(t.Context(), f)
		if err != nil {
			t.Fatalf("ListAlerts(%+v): %v", f, err)
		}
		if limit := cmp.Or(size, store.DefaultPageSize); len(page.Marks) > limit {
			t.Fatalf("page of %d marks for page size %d", len(page.Marks), size)
		}
		if page.NextPageToken != "" && len(page.Marks) == 0 {
			t.Fatalf("empty page with a next page token")
		}
		out = append(out, page.Marks...)
		if f.PageToken = page.NextPageToken; f.PageToken == "" {
			return out
		}
		if pages > 1000 {
			t.Fatal("more than 1000 pages")
		}
	}
}

// listingOrder is the documented order of ListAlerts, written out: highest threshold first,
// then newest first, then by counter key.
func listingOrder(a, b store.AlertMark) int {
	switch {
	case a.Threshold != b.Threshold:
		return b.Threshold - a.Threshold
	case !a.Time.Equal(b.Time):
		return b.Time.Compare(a.Time)
	}
	return strings.Compare(a.Key, b.Key)
}

// testAlertPages marks many counters of the current minute, day and month (some at 80 %, some
// at 100 %, some at both in either order, many at the same instant) and of windows that have
// ended, then walks every page with several page sizes: each current counter comes exactly
// once, at its highest threshold, in the listing order, and nothing of an ended window.
func testAlertPages(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	limits := []store.Limit{UserTokens(minute, 100), UserTokens(day, 1000), UserCost(month, 5000), GroupTokens("", month, 9000)}
	var marks []store.AlertMark
	want := map[string]store.AlertMark{} // counter key -> its highest mark
	for i := range 45 {
		user := fmt.Sprintf("user-%02d", i)
		l := limits[i%len(limits)]
		if l.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_GROUP {
			l.Group = fmt.Sprintf("group-%02d", i) // a group's counter is the same for every member
		}
		at := t0
		if i%3 != 0 {
			at = t0.Add(-time.Duration(i) * time.Second) // the others cross at the same instant
		}
		when := at
		if i%9 == 4 { // a counter of the day before: its window has ended
			when = at.AddDate(0, 0, -1)
		}
		if l.Window == month && i%9 == 4 {
			when = at.AddDate(0, -1, 0)
		}
		key, resets := store.CounterKey(user, l, when)
		near := store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: user, Limit: l, Used: 80, ResetsAt: resets, Time: when}
		full := near
		full.Threshold, full.Used, full.Time = store.ThresholdFull, 100, when.Add(-time.Duration(i%5)*time.Millisecond)
		var mine []store.AlertMark
		switch i % 4 {
		case 0:
			mine = []store.AlertMark{near}
		case 1:
			mine = []store.AlertMark{full}
		case 2:
			mine = []store.AlertMark{near, full} // 80 % first, then 100 %
		case 3:
			mine = []store.AlertMark{full, near} // as the watcher marks a jump past 100 %
		}
		marks = append(marks, mine...)
		if resets.After(t0) {
			want[key] = mine[0]
			if len(mine) == 2 {
				want[key] = full
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var mu sync.Mutex
	byKey := map[string][]store.AlertMark{}
	for _, m := range marks {
		mu.Lock()
		byKey[m.Key] = append(byKey[m.Key], m)
		mu.Unlock()
	}
	for _, ms := range byKey { // a counter's marks in their order; counters at once
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, m := range ms {
				if ok, err := g.MarkAlert(e.ctx, m); !ok || err != nil {
					t.Errorf("MarkAlert(%s, %d) = %v, %v; want first", m.Key, m.Threshold, ok, err)
				}
			}
		})
	}
	wg.Wait()
	expected := slices.Collect(maps.Values(want))
	slices.SortFunc(expected, listingOrder)
	if len(expected) < 30 {
		t.Fatalf("only %d current counters: the case is too small", len(expected))
	}
	for _, size := range []int{1, 2, 7, 0, store.MaxPageSize} {
		got := listAlerts(t, g, t0, size)
		if len(got) != len(expected) {
			t.Errorf("page size %d: %d marks, want %d", size, len(got), len(expected))
		}
		for i := range min(len(got), len(expected)) {
			if got[i].Key != expected[i].Key || got[i].Threshold != expected[i].Threshold || !got[i].Time.Equal(expected[i].Time) || got[i].User != expected[i].User {
				t.Errorf("page size %d: mark %d = %s at %d %% (%v), want %s at %d %% (%v)", size, i,
					got[i].Key, got[i].Threshold, got[i].Time, expected[i].Key, expected[i].Threshold, expected[i].Time)
				break
			}
		}
	}
}

// testAlertBadPages refuses page sizes out of range and page tokens ListAlerts did not make
// (garbage, another listing's token, an altered one) with ErrInvalid.
func testAlertBadPages(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	l := UserTokens(day, 1000)
	for i := range 3 {
		key, resets := store.CounterKey(fmt.Sprint("u", i), l, t0)
		if _, err := g.MarkAlert(e.ctx, store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: "u", Limit: l, ResetsAt: resets, Time: t0}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := g.ListAlerts(e.ctx, store.AlertFilter{Now: t0, PageSize: 1})
	if err != nil || len(page.Marks) != 1 || page.NextPageToken == "" {
		t.Fatalf("first page = %+v, %v; want one mark and a token", page, err)
	}
	for _, f := range []store.AlertFilter{
		{PageSize: -1}, {PageSize: store.MaxPageSize + 1},
		{PageToken: "not a token!"},
		{PageToken: "e30"}, // {}
		{PageToken: store.EncodePageToken(map[string]any{"t": 1, "id": "req-1"})},          // ListAudit's shape
		{PageToken: store.EncodePageToken(map[string]any{"v": 3})},                         // ListPolicyVersions' shape
		{PageToken: store.EncodePageToken(map[string]any{"alertAfter": "919#12#user/u0"})}, // altered
		{PageToken: store.EncodePageToken(map[string]any{"alertAfter": 7})},                // wrong type
		{PageToken: page.NextPageToken + "x"},
	} {
		f.Now = t0
		if p, err := g.ListAlerts(e.ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListAlerts(size %d, token %q) = %+v, %v; want ErrInvalid", f.PageSize, f.PageToken, p, err)
		}
	}
}

// testCounters reads the same figures as Usage.
func testCounters(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	g := governance(t, e.st)
	limits := []store.Limit{UserTokens(day, 1000), UserCost(month, 100_000), GroupTokens("MLUsers", month, 5000)}
	r := res("k-1", "alice", []string{"MLUsers"}, 300, limits...)
	r.Cost = 2_000
	e.settle(e.reserve(r), ok(100, 50))
	r.RequestID, r.Tokens = "k-2", 200
	e.reserve(r)
	got, err := g.Counters(e.ctx, "alice", limits)
	if err != nil {
		t.Fatal(err)
	}
	u := e.usage("alice", limits...)
	if !slices.Equal(got, u.Quotas) {
		t.Errorf("Counters = %+v\nUsage    = %+v", got, u.Quotas)
	}
	if got[0].Used != 150 || got[0].Reserved != 200 || got[1].Used != ok(100, 50).CostNanos || got[1].Reserved != 2_000 {
		t.Errorf("figures = %+v", got)
	}
	if _, err := g.Counters(e.ctx, "alice", []store.Limit{{}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("malformed limit: %v, want ErrInvalid", err)
	}
}
