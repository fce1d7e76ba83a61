package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portico-dev/portico/services/store"
)

// testBurstMixedOutcomes releases a burst of reservations at once — granted, refused by a
// user's limit, too large for any limit, and pairs racing on one request id — then a burst of
// settlements with mixed outcomes (ok, error, canceled, some settled twice at once). A store
// that batches concurrent writes (SQLite's group commit) must still give each request its
// own outcome: the limits hold exactly per user and for the shared group, and every counter
// equals the ledger.
func testBurstMixedOutcomes(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	group := GroupTokens("Burst", month, 1_000_000)
	users := []struct {
		name          string
		limit, amount int64
		n             int // requests
		granted       int // exactly this many fit
		duplicates    bool
	}{
		{"b1", 1000, 100, 30, 10, false},
		{"b2", 450, 100, 30, 4, false},
		{"b3", 250, 60, 30, 4, false},
		{"b4", 100, 150, 10, 0, false}, // larger than the limit: every one refused
		{"b5", 1_000_000, 10, 20, 10, true},
	}
	type attempt struct {
		user  int
		id    string
		limit store.Limit
	}
	var attempts []attempt
	for ui, u := range users {
		for i := range u.n {
			id := fmt.Sprintf("burst-%s-%02d", u.name, i)
			if u.duplicates {
				id = fmt.Sprintf("burst-%s-%02d", u.name, i/2) // two reservations race per id
			}
			attempts = append(attempts, attempt{ui, id, UserTokens(day, u.limit)})
		}
	}
	var (
		mu      sync.Mutex
		tickets []store.Ticket
		granted = make([]atomic.Int64, len(users))
		refused = make([]atomic.Int64, len(users))
		invalid = make([]atomic.Int64, len(users))
		gate    = make(chan struct{})
		wg      sync.WaitGroup
		started sync.WaitGroup
	)
	started.Add(len(attempts))
	for _, a := range attempts {
		wg.Go(func() {
			started.Done()
			<-gate
			u := users[a.user]
			tk, err := e.st.Reserve(e.ctx, res(a.id, u.name, []string{"Burst"}, u.amount, a.limit, group))
			switch {
			case err == nil:
				granted[a.user].Add(1)
				mu.Lock()
				tickets = append(tickets, tk)
				mu.Unlock()
			case errors.Is(err, store.ErrQuotaExceeded):
				refused[a.user].Add(1)
			case errors.Is(err, store.ErrInvalid):
				invalid[a.user].Add(1)
			default:
				t.Errorf("Reserve(%s): %v", a.id, err)
			}
		})
	}
	started.Wait()
	close(gate)
	wg.Wait()
	for ui, u := range users {
		g, r, inv := granted[ui].Load(), refused[ui].Load(), invalid[ui].Load()
		wantInvalid := int64(0)
		if u.duplicates {
			wantInvalid = int64(u.n / 2)
		}
		if g != int64(u.granted) || inv != wantInvalid || g+r+inv != int64(u.n) {
			t.Errorf("%s: granted %d, refused %d, duplicate %d; want granted %d, duplicate %d of %d",
				u.name, g, r, inv, u.granted, wantInvalid, u.n)
		}
		q := e.usage(u.name, UserTokens(day, u.limit)).Quotas[0]
		if q.Used != 0 || q.Reserved != int64(u.granted)*u.amount {
			t.Errorf("%s after the reservations: used %d reserved %d, want 0 and %d", u.name, q.Used, q.Reserved, int64(u.granted)*u.amount)
		}
	}

	// Settle every ticket at once, with mixed outcomes; every fourth one twice at once.
	gate = make(chan struct{})
	for i, tk := range tickets {
		var o store.Outcome
		switch i % 3 {
		case 0:
			o = ok(tk.Reservation.Tokens/2, tk.Reservation.Tokens/4)
		case 1:
			o = store.Outcome{Code: "unavailable", ErrorMessage: "model not ready"}
		default:
			o = store.Outcome{Code: "canceled", InputTokens: 7}
		}
		times := 1
		if i%4 == 0 {
			times = 2
		}
		for range times {
			wg.Go(func() {
				<-gate
				if err := e.st.Settle(e.ctx, tk, o); err != nil {
					t.Errorf("Settle(%s): %v", tk.Reservation.RequestID, err)
				}
			})
		}
	}
	close(gate)
	wg.Wait()

	var total int64
	records := 0
	for _, u := range users {
		var sum int64
		recs := e.audit(store.AuditFilter{User: u.name, PageSize: 50})
		for _, r := range recs {
			sum += r.Tokens()
		}
		total += sum
		records += len(recs)
		if len(recs) != u.granted {
			t.Errorf("%s: %d records, want %d", u.name, len(recs), u.granted)
		}
		q := e.usage(u.name, UserTokens(day, u.limit)).Quotas[0]
		if q.Used != sum || q.Reserved != 0 {
			t.Errorf("%s: counter used %d reserved %d, ledger %d tokens: want equal and nothing reserved", u.name, q.Used, q.Reserved, sum)
		}
	}
	g := e.usage("b1", group).Quotas[0]
	if g.Used != total || g.Reserved != 0 || records != len(tickets) {
		t.Errorf("group counter used %d reserved %d, ledger %d tokens in %d records for %d tickets", g.Used, g.Reserved, total, records, len(tickets))
	}
}
