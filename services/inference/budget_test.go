package inference_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
)

// TestCostBudget: a budget holds a request's worst-case cost (its estimated input and its
// max_tokens at the model's prices) and refuses, naming the budget, a request whose worst case
// does not fit; a request that fits is charged its estimated cost, so the budget's counter
// equals the ledger's cost. On both stores.
func TestCostBudget(t *testing.T) {
	t.Parallel()
	price, ok := catalog.Default().PriceOf(haiku)
	if !ok {
		t.Fatal("haiku has no price")
	}
	// "hello there" with max_tokens 100: 8 input tokens estimated, 100 output at most.
	worst, err := price.CostNanos(8, 100)
	if err != nil || worst == 0 {
		t.Fatalf("worst cost %d, %v", worst, err)
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			// A budget of 0.000001 is below one worst case: refused before any call.
			h := newHarness(t, options{policyYAML: quotaPolicy(`userCostPerDay: "0.000001", groupCostPerMonth: "100"`), openStore: st.open})
			req := ask(haiku, "hello there")
			req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](100)}
			_, err := h.client("alice").Converse(context.Background(), req)
			qe := quotaExceededOf(err)
			if connect.CodeOf(err) != connect.CodeResourceExhausted || qe == nil {
				t.Fatalf("err = %v, want resource_exhausted with QuotaExceeded", err)
			}
			l := qe.GetStatus().GetLimit()
			if l.GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_COST || l.GetLimit() != 1_000 || l.GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_DAY ||
				qe.GetRequested() != worst || !strings.Contains(err.Error(), "budget exceeded: user cost per day (0.000001)") {
				t.Errorf("QuotaExceeded = %v (%v), want the day budget and %d requested", qe, err, worst)
			}
			if n := h.aws.Stats().Requests.Load(); n != 0 {
				t.Errorf("%d requests went upstream", n)
			}

			// The group budget alone fits: the request is charged its estimated cost.
			h2 := newHarness(t, options{policyYAML: quotaPolicy(`groupCostPerMonth: "100"`), openStore: st.open})
			if _, err := h2.client("alice").Converse(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			var cost int64
			for _, r := range h2.records("alice") {
				cost += r.CostNanos
			}
			u, err := h2.store.Usage(context.Background(), "alice", h2.limitsOf("MLUsers"))
			if err != nil {
				t.Fatal(err)
			}
			if len(u.Quotas) != 1 || u.Quotas[0].Used != cost || u.Quotas[0].Reserved != 0 || cost == 0 || cost > worst {
				t.Errorf("budget counter %+v, ledger cost %d (worst %d)", u.Quotas, cost, worst)
			}
		})
	}
}
