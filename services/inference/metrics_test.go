package inference_test

import (
	"context"
	"sync"
	"testing"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"

	"github.com/portico-dev/portico/services/metering"
)

type recorder struct {
	mu  sync.Mutex
	obs []metering.Observation
}

func (r *recorder) Record(_ context.Context, o metering.Observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.obs = append(r.obs, o)
}

// TestMetricsMatchLedger checks that every request is observed once, with the outcome and
// tokens the ledger records, and that only the provider's throttling counts as an upstream
// throttle.
func TestMetricsMatchLedger(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newHarness(t, options{recorder: rec, policyYAML: quotaPolicy("userTokensPerDay: 5000")})
	c := h.client("alice")
	ctx := context.Background()
	small := &inferencev1.InferenceConfig{MaxTokens: ptr[int32](300)}
	_, _ = c.Converse(ctx, withConfig(ask(haiku, "fine"), small))
	_, _ = c.Converse(ctx, withConfig(ask(haiku, "throttled [[fault:throttle]]"), small))
	_, _ = c.Converse(ctx, ask(haiku, " "))       // invalid
	_, _ = c.Converse(ctx, ask(sonnet, "denied")) // not entitled
	_, _ = c.Converse(ctx, withConfig(ask(haiku, "over quota"), &inferencev1.InferenceConfig{MaxTokens: ptr[int32](8000)}))
	s, err := c.ConverseStream(ctx, streamOf(withConfig(ask(haiku, "streamed"), small)))
	if err == nil {
		_, _ = drain(s)
	}

	recs := h.records("alice")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.obs) != len(recs) || len(recs) != 6 {
		t.Fatalf("%d observations, %d records, want 6 each", len(rec.obs), len(recs))
	}
	byOutcome := map[string]int{}
	var tokens int64
	throttles := 0
	for _, o := range rec.obs {
		byOutcome[o.Outcome]++
		tokens += o.InputTokens + o.OutputTokens
		if o.UpstreamThrottled {
			throttles++
			if o.Outcome != "resource_exhausted" {
				t.Errorf("throttle with outcome %s", o.Outcome)
			}
		}
		if o.ModelID == "" || o.Provider == "" || o.Latency < 0 {
			t.Errorf("observation = %+v", o)
		}
	}
	var ledgerTokens int64
	for _, r := range recs {
		byOutcome[r.Outcome]--
		ledgerTokens += r.Tokens()
	}
	for k, v := range byOutcome {
		if v != 0 {
			t.Errorf("outcome %s: observations and records differ by %d", k, v)
		}
	}
	if byOutcome["ok"] != 0 || tokens != ledgerTokens || throttles != 1 || tokens == 0 {
		t.Errorf("tokens %d (ledger %d), throttles %d (want 1)", tokens, ledgerTokens, throttles)
	}
}
