package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
)

// testSummariesMatchLedger is a randomised run across a month's end — requests of several
// users, models, group sets and departments, granted or refused, settled once or twice at
// once, settled late after their reservation expired, or never settled — after which the
// usage reads (Usage's totals, ListUsage broken down by every dimension), which may come
// from summaries kept beside the ledger, must equal the ledger itself summed record by
// record.
func testSummariesMatchLedger(t *testing.T, open Factory) {
	const ttl = 5 * time.Minute
	start := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	e := newEnv(t, open, start, ttl)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7)) //nolint:gosec // a test's random run, seed logged
	users := []string{"s1", "s2", "s3", "s4"}
	models := []string{"m1", "m2", "m3"}
	groupSets := [][]string{{"G1"}, {"G1", "G2"}, nil}
	departments := []string{"", "Research", "Sales"}
	limit := UserTokens(day, 3000)

	var late []store.Ticket // reserved, to settle after their reservation expired
	n := 0
	for round := range 12 {
		type planned struct {
			r     store.Reservation
			o     store.Outcome
			twice bool
			fate  int // 0 settle now, 1 settle late, 2 never settle
		}
		var batch []planned
		for range 8 {
			n++
			u := users[rng.IntN(len(users))]
			r := res(fmt.Sprintf("sum-%d-%03d", round, n), u, groupSets[rng.IntN(len(groupSets))], int64(50+rng.IntN(400)), limit)
			r.ModelID = models[rng.IntN(len(models))]
			r.Department = departments[rng.IntN(len(departments))]
			var o store.Outcome
			switch rng.IntN(4) {
			case 0:
				o = store.Outcome{Code: "unavailable", ErrorMessage: "model not ready"}
			case 1:
				o = store.Outcome{Code: "canceled", InputTokens: int64(rng.IntN(30))}
			default:
				o = ok(int64(rng.IntN(int(r.Tokens))), int64(rng.IntN(40)))
			}
			fate := 0
			if f := rng.IntN(10); f == 0 {
				fate = 1
			} else if f == 1 {
				fate = 2
			}
			batch = append(batch, planned{r: r, o: o, twice: rng.IntN(4) == 0, fate: fate})
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			tickets = make([]*store.Ticket, len(batch))
		)
		for i, p := range batch {
			wg.Go(func() {
				tk, err := e.st.Reserve(e.ctx, p.r)
				switch {
				case err == nil:
					mu.Lock()
					tickets[i] = &tk
					mu.Unlock()
				case errors.Is(err, store.ErrQuotaExceeded):
				default:
					t.Errorf("Reserve(%s): %v", p.r.RequestID, err)
				}
			})
		}
		wg.Wait()
		for i, p := range batch {
			tk := tickets[i]
			if tk == nil {
				continue
			}
			switch p.fate {
			case 1:
				late = append(late, *tk)
				continue
			case 2:
				continue
			}
			times := 1
			if p.twice {
				times = 2
			}
			for range times {
				wg.Go(func() {
					if err := e.st.Settle(e.ctx, *tk, p.o); err != nil {
						t.Errorf("Settle(%s): %v", tk.Reservation.RequestID, err)
					}
				})
			}
		}
		wg.Wait()
		// Time passes (past midnight, into December): reservations left behind expire and
		// are released by the next read; the late ones settle afterwards all the same.
		e.clock.Advance(time.Duration(5+rng.IntN(20)) * time.Minute)
		e.usage(users[0])
		for _, tk := range late {
			e.settle(tk, ok(11, 3))
		}
		late = late[:0]
	}

	records := e.audit(store.AuditFilter{PageSize: 100})
	if len(records) == 0 {
		t.Fatal("no records")
	}
	dims := []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER,
		adminv1.UsageDimension_USAGE_DIMENSION_MODEL, adminv1.UsageDimension_USAGE_DIMENSION_GROUP,
		adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT}
	filters := []store.UsageFilter{
		{StartDay: "2026-11-01", EndDay: "2026-12-31", GroupBy: dims},
		{StartDay: "2026-11-30", EndDay: "2026-11-30", GroupBy: dims[1:]},
		{StartDay: "2026-12-01", EndDay: "2026-12-01", GroupBy: []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_GROUP}},
		{StartDay: "2026-11-01", EndDay: "2026-12-31", User: "s2", GroupBy: dims},
		{StartDay: "2026-11-01", EndDay: "2026-12-31", ModelID: "m2", GroupBy: dims[:2]},
		{StartDay: "2026-11-01", EndDay: "2026-12-31", Department: "Research"},
		{StartDay: "2026-11-01", EndDay: "2026-12-31", Group: "G2", GroupBy: dims},
	}
	for _, f := range filters {
		want := store.NewAggregator(f)
		for _, r := range records {
			want.Add(store.Fact{Day: r.Day(), User: r.User, Groups: r.Groups, ModelID: r.ModelID, Department: r.Department, Totals: r.Totals()})
		}
		got, err := e.st.ListUsage(e.ctx, f)
		if err != nil {
			t.Fatalf("ListUsage(%+v): %v", f, err)
		}
		if w := want.Report(); !reflect.DeepEqual(got, w) {
			t.Errorf("ListUsage(%+v) =\n%+v\nthe ledger sums to\n%+v", f, got, w)
		}
	}
	now := e.clock.Now()
	dayStart, _ := store.Window(day, now)
	monthStart, _ := store.Window(month, now)
	for _, u := range users {
		var today, thisMonth store.Totals
		for _, r := range records {
			if r.User != u || r.Time.Before(monthStart) {
				continue
			}
			thisMonth.Add(r.Totals())
			if !r.Time.Before(dayStart) {
				today.Add(r.Totals())
			}
		}
		got := e.usage(u)
		if got.Today != today || got.ThisMonth != thisMonth {
			t.Errorf("Usage(%s): today %+v, this month %+v; the ledger sums to %+v and %+v", u, got.Today, got.ThisMonth, today, thisMonth)
		}
	}
}
