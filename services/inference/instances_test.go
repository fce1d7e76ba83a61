package inference_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/store"
)

// TestLimitsHoldAcrossInstances runs two service instances, each with its own SQLite
// connection pool on one shared file (as two processes would), and sends 50 concurrent
// requests to each against a limit of 10 requests per minute: exactly 10 pass in all.
func TestLimitsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	clock := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	open := func(t testing.TB, o store.Options) store.Store {
		return openSQLiteAt(t, path, o)
	}
	o := options{policyYAML: quotaPolicy("userRequestsPerMinute: 10"), openStore: open, storeOpts: store.Options{Now: func() time.Time { return clock }}}
	instances := []*harness{newHarness(t, o), newHarness(t, o)}
	req := ask(haiku, "hello there")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](50)}
	var mu sync.Mutex
	codes := map[connect.Code]int{}
	var wg sync.WaitGroup
	for i := range 100 {
		c := instances[i%2].client("alice")
		wg.Go(func() {
			_, err := c.Converse(context.Background(), req)
			mu.Lock()
			codes[connect.CodeOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if ok := 100 - codes[connect.CodeResourceExhausted]; ok != 10 || len(codes) > 2 {
		t.Errorf("outcomes = %v, want exactly 10 successes and 90 resource_exhausted", codes)
	}
	if recs := instances[0].records("alice"); len(recs) != 100 {
		t.Errorf("the shared ledger holds %d requests", len(recs))
	}
	instances[1].checkLedger("alice", instances[1].limitsOf("MLUsers"))
}

// TestGuardrail checks that the policy's guardrail for a model is applied and reported,
// and that an intervention is reported as such.
func TestGuardrail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{policyYAML: `version: 1
guardrails:
  - model: anthropic.claude-3-5-haiku-20241022-v1:0
    id: gr-portico-test
    version: "1"
groups:
  - name: MLUsers
    models: [anthropic.claude-3-5-haiku-20241022-v1:0, amazon.nova-lite-v1:0]
`})
	c := h.client("alice")
	ctx := context.Background()
	res, err := c.Converse(ctx, ask(haiku, "hello"))
	if err != nil || res.GetGuardrailId() != "gr-portico-test" {
		t.Fatalf("guardrail id = %q, err %v", res.GetGuardrailId(), err)
	}
	res, err = c.Converse(ctx, ask(haiku, "block this [[guardrail]]"))
	if err != nil || res.GetStopReason() != inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED {
		t.Fatalf("stop reason = %v, err %v", res.GetStopReason(), err)
	}
	if r := h.record("alice", res.GetRequestId()); r.StopReason != "guardrail_intervened" {
		t.Errorf("record stop reason = %q", r.StopReason)
	}
	s, err := c.ConverseStream(ctx, streamOf(ask(haiku, "block this [[guardrail]]")))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(s)
	if err != nil || len(evs) < 3 || evs[len(evs)-2].GetStop().GetStopReason() != inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED ||
		evs[len(evs)-2].GetStop().GetGuardrailId() != "gr-portico-test" {
		t.Errorf("stream = %v, %v", evs, err)
	}
	if res, err := c.Converse(ctx, ask(novaL, "hello")); err != nil || res.GetGuardrailId() != "" {
		t.Errorf("nova lite has no guardrail: %q, %v", res.GetGuardrailId(), err)
	}
}
