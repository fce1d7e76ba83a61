package inference_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-dev/portico/services/store"
)

// TestNoPromptsRecorded sends distinctive prompts (answered, refused and failed) and checks
// that neither the audit trail nor the logs hold any prompt or completion.
func TestNoPromptsRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	c := h.client("alice")
	ctx := context.Background()
	const secret = "zebra-mango-42"
	res, err := c.Converse(ctx, ask(haiku, "tell me about "+secret))
	if err != nil {
		t.Fatal(err)
	}
	completion := res.GetOutput().GetContent()[0].GetText()
	_, _ = c.Converse(ctx, ask(haiku, secret+" [[fault:internal]]"))
	_, _ = c.Converse(ctx, ask(titan, strings.Repeat(secret+" ", 10000)))
	s, err := c.ConverseStream(ctx, streamOf(ask(haiku, secret+" [[fault:cut:4]]")))
	if err == nil {
		_, _ = drain(s)
	}
	recs := h.records("alice")
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	dump := fmt.Sprintf("%+v\n%s", recs, h.logs.String())
	if strings.Contains(dump, secret) || strings.Contains(dump, "About tell me") || strings.Contains(dump, completion[:40]) {
		t.Errorf("a prompt or completion was recorded:\n%s", dump)
	}
}

// flakyStore fails the first failures Settle calls with ErrUnavailable.
type flakyStore struct {
	store.Store
	failures atomic.Int64
	settles  atomic.Int64
}

func (f *flakyStore) Settle(ctx context.Context, t store.Ticket, o store.Outcome) error {
	f.settles.Add(1)
	if f.failures.Add(-1) >= 0 {
		return store.Unavailable("settle", fmt.Errorf("injected failure"))
	}
	return f.Store.Settle(ctx, t, o)
}

// TestSettleRetries makes the store fail Settle: two failures are retried and the request is
// recorded; when it keeps failing, the caller still gets the answer, the failure is logged,
// and the hold stays (on the side of the quota) until the reservation expires.
func TestSettleRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failures   int64
		recorded   bool
		stillHeld  bool
		wantLogged bool
	}{
		{failures: 2, recorded: true},
		{failures: 100, stillHeld: true, wantLogged: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.failures), func(t *testing.T) {
			t.Parallel()
			var fs *flakyStore
			h := newHarness(t, options{openStore: func(t testing.TB, o store.Options) store.Store {
				fs = &flakyStore{Store: openSQLite(t, o)}
				return fs
			}})
			fs.failures.Store(tt.failures)
			res, err := h.client("alice").Converse(context.Background(), ask(haiku, "settle me"))
			if err != nil {
				t.Fatalf("the caller must get the answer: %v", err)
			}
			found := false
			for _, r := range h.records("alice") {
				found = found || r.RequestID == res.GetRequestId()
			}
			if found != tt.recorded {
				t.Errorf("recorded = %v, want %v", found, tt.recorded)
			}
			u, err := h.store.Usage(context.Background(), "alice", h.limitsOf("MLUsers"))
			if err != nil {
				t.Fatal(err)
			}
			if held := u.Quotas[1].Reserved > 0; held != tt.stillHeld {
				t.Errorf("still held = %v, want %v (%+v)", held, tt.stillHeld, u.Quotas[1])
			}
			if logged := strings.Contains(h.logs.String(), "settle failed"); logged != tt.wantLogged {
				t.Errorf("logged = %v, want %v", logged, tt.wantLogged)
			}
			if n := fs.settles.Load(); n != min(tt.failures+1, 3) {
				t.Errorf("%d settle attempts", n)
			}
		})
	}
}
