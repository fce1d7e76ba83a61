package inference_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/store"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
)

func retryAfterOf(err error) *typev1.RetryAfter {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if m, derr := d.Value(); derr == nil {
			if ra, ok := m.(*typev1.RetryAfter); ok {
				return ra
			}
		}
	}
	return nil
}

// TestUpstreamFaults injects every fault of the local AWS endpoint through a prompt marker
// and expects an exact code, a settled audit record with that outcome, and counters equal to
// the ledger.
func TestUpstreamFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	t.Cleanup(func() { h.checkLedger("alice", h.limitsOf("MLUsers")) })
	tests := []struct {
		name      string
		marker    string
		code      connect.Code // 0: success
		retry     bool
		partial   bool // a stream delivers some deltas before failing
		minTTFT   time.Duration
		estimated bool
	}{
		{name: "throttle", marker: "[[fault:throttle]]", code: connect.CodeResourceExhausted, retry: true},
		{name: "validation", marker: "[[fault:validation]]", code: connect.CodeInvalidArgument},
		{name: "model not ready", marker: "[[fault:notready]]", code: connect.CodeUnavailable, retry: true},
		{name: "internal", marker: "[[fault:internal]]", code: connect.CodeInternal},
		{name: "model error", marker: "[[fault:modelerror]]", code: connect.CodeInternal},
		{name: "model timeout", marker: "[[fault:timeout]]", code: connect.CodeDeadlineExceeded},
		{name: "service unavailable", marker: "[[fault:unavailable]]", code: connect.CodeUnavailable, retry: true},
		{name: "service quota", marker: "[[fault:quota]]", code: connect.CodeResourceExhausted, retry: true},
		{name: "access denied", marker: "[[fault:accessdenied]]", code: connect.CodePermissionDenied},
		{name: "slow first token", marker: "[[fault:slow:150]]", minTTFT: 150 * time.Millisecond},
	}
	for _, tt := range tests {
		for _, streamed := range []bool{false, true} {
			name := tt.name + "/unary"
			if streamed {
				name = tt.name + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				req := ask(haiku, "tell me about faults "+tt.marker)
				c := h.client("alice")
				var id string
				var err error
				var evs []*inferencev1.ConverseStreamResponse
				if streamed {
					s, serr := c.ConverseStream(context.Background(), streamOf(req))
					if serr != nil {
						t.Fatal(serr)
					}
					evs, err = drain(s)
					if len(evs) > 0 {
						id = evs[0].GetStart().GetRequestId()
					}
				} else {
					var res *inferencev1.ConverseResponse
					res, err = c.Converse(context.Background(), req)
					id = res.GetRequestId()
				}
				if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
					t.Fatalf("err = %v, want %v", err, tt.code)
				}
				if err != nil {
					id = requestID(err)
					if (retryAfterOf(err) != nil) != tt.retry {
						t.Errorf("RetryAfter detail = %v, want one: %v", retryAfterOf(err), tt.retry)
					}
					if strings.Contains(err.Error(), "Exception") {
						t.Errorf("the message leaks the AWS error: %v", err)
					}
				}
				r := h.record("alice", id)
				wantOutcome := "ok"
				if tt.code != 0 {
					wantOutcome = tt.code.String()
				}
				if r.Outcome != wantOutcome {
					t.Errorf("outcome %q, want %q", r.Outcome, wantOutcome)
				}
				if tt.minTTFT > 0 && streamed && r.TimeToFirstToken < tt.minTTFT {
					t.Errorf("time to first token %v, want at least %v", r.TimeToFirstToken, tt.minTTFT)
				}
				if tt.code != 0 && r.UpstreamRequestID == "" && tt.code != connect.CodeResourceExhausted {
					// Every AWS error answer carries a request id.
					t.Errorf("no upstream request id: %+v", r)
				}
			})
		}
	}
}

// TestStreamCut cuts the answer stream after a few events: the caller gets the deltas sent
// so far, then UNAVAILABLE, and the partial output is settled (estimated).
func TestStreamCut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	for _, marker := range []string{"[[fault:cut:6]]", "[[fault:streamerror:6]]"} {
		t.Run(marker, func(t *testing.T) {
			t.Parallel()
			s, err := h.client("alice").ConverseStream(context.Background(), streamOf(ask(haiku, "a long answer please "+marker)))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := drain(s)
			if connect.CodeOf(err) != connect.CodeUnavailable {
				t.Fatalf("err = %v, want unavailable", err)
			}
			if len(evs) < 2 || evs[0].GetStart() == nil || evs[1].GetDelta() == nil {
				t.Fatalf("events = %v", evs)
			}
			for _, ev := range evs {
				if ev.GetMetadata() != nil || ev.GetStop() != nil {
					t.Errorf("a cut stream sent %v", ev)
				}
			}
			r := h.record("alice", evs[0].GetStart().GetRequestId())
			if r.Outcome != "unavailable" || r.OutputTokens == 0 || r.InputTokens == 0 || !r.UsageEstimated || r.CostNanos == 0 {
				t.Errorf("record = %+v", r)
			}
		})
	}
	t.Cleanup(func() { h.checkLedger("alice", h.limitsOf("MLUsers")) })
}

// TestClientCancelMidStream cancels a slowly streamed answer after its first delta: the local
// AWS endpoint sees its client go away (generation stops), and the usage so far is settled
// with outcome "canceled".
func TestClientCancelMidStream(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	h := newHarness(t, options{aws: localaws.Config{TokensPerSecond: 100, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := h.client("alice").ConverseStream(ctx, streamOf(ask(haiku, "a very long answer please")))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for s.Receive() {
		if st := s.Msg().GetStart(); st != nil {
			id = st.GetRequestId()
		}
		if s.Msg().GetDelta() != nil {
			break
		}
	}
	if id == "" {
		t.Fatalf("no start before the first delta: %v", s.Err())
	}
	cancel()
	_ = s.Close()
	select {
	case e := <-ends:
		if !e.ClientGone || e.Target != haiku {
			t.Errorf("stream end = %+v, want the client gone", e)
		}
		if total := len(strings.Fields(localaws.AnswerFor("a very long answer please"))); e.Tokens >= total {
			t.Errorf("the endpoint generated %d of %d tokens: generation did not stop", e.Tokens, total)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the local AWS endpoint never saw the stream end")
	}
	r := h.record("alice", id)
	if r.Outcome != "canceled" || r.OutputTokens == 0 || !r.UsageEstimated || r.TimeToFirstToken <= 0 {
		t.Errorf("record = %+v", r)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}

func TestInvokeEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	c := h.client("alice")
	ctx := context.Background()
	body := []byte(`{"inputs": "Summarise SageMaker", "parameters": {"max_new_tokens": 200}}`)
	res, err := c.InvokeEndpoint(ctx, &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.GetBody()), "generated_text") || res.GetInvokedProductionVariant() == "" || res.GetRequestId() == "" {
		t.Errorf("response = %v", res)
	}
	r := h.record("alice", res.GetRequestId())
	if r.Outcome != "ok" || r.Tokens() != res.GetMetrics().GetTotalTokens() || r.Tokens() == 0 || r.ModelID != demo {
		t.Errorf("record = %+v, metrics %v", r, res.GetMetrics())
	}

	s, err := c.InvokeEndpointStream(ctx, &inferencev1.InvokeEndpointStreamRequest{EndpointName: demo, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*inferencev1.InvokeEndpointStreamResponse
	for s.Receive() {
		evs = append(evs, s.Msg())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(evs) < 3 || evs[0].GetStart().GetRequestId() == "" || evs[1].GetPart() == nil || evs[len(evs)-1].GetMetadata() == nil {
		t.Fatalf("events = %v", evs)
	}
	md := evs[len(evs)-1].GetMetadata().GetMetrics()
	r = h.record("alice", evs[0].GetStart().GetRequestId())
	if r.Outcome != "ok" || r.Tokens() != md.GetTotalTokens() || r.TimeToFirstToken <= 0 {
		t.Errorf("record = %+v, metrics %v", r, md)
	}

	_, err = c.InvokeEndpoint(ctx, &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs": "[[fault:notready]]"}`)})
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("not ready: err = %v", err)
	}
	if r := h.record("alice", requestID(err)); r.Outcome != "unavailable" {
		t.Errorf("record = %+v", r)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}

// TestClientCancelUnaryIsSettledExactly cancels a unary Converse while the model generates: the
// call runs to its end (Bedrock bills the whole answer either way) and is settled with the
// usage Bedrock reported, not an estimate of the prompt alone.
func TestClientCancelUnaryIsSettledExactly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{aws: localaws.Config{TokensPerSecond: 200}})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	prompt := "a very long answer please"
	if _, err := h.client("alice").Converse(ctx, ask(haiku, prompt)); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("err = %v, want canceled", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var recs []store.Record
	for len(recs) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		recs = h.records("alice")
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Outcome != "ok" || r.UsageEstimated || r.OutputTokens < int64(len(strings.Fields(localaws.AnswerFor(prompt)))) {
		t.Errorf("record = %+v, want the whole answer as Bedrock reported it", r)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}
