package faults_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// drain reads a stream to its end and returns how many deltas it carried.
func drain(s *connect.ServerStreamForClient[inferencev1.ConverseStreamResponse]) (int, error) {
	deltas := 0
	for s.Receive() {
		if s.Msg().GetDelta() != nil {
			deltas++
		}
	}
	return deltas, s.Err()
}

// TestUpstreamFaultsThroughBFF breaks Bedrock (the local AWS endpoint) under a browser's
// calls: each fault reaches the browser as one clear connect code through services and BFF,
// a stream cut mid-way keeps the deltas already sent, and every request — failed or not —
// is settled with the quota counters equal to the ledger.
func TestUpstreamFaultsThroughBFF(t *testing.T) {
	t.Parallel()
	c := newChain(t, chainOptions{})
	br := c.browser("alice")
	api := c.viaBFF(br)
	tests := []struct {
		name      string
		marker    string
		stream    bool
		code      connect.Code
		minDeltas int
	}{
		{name: "throttled", marker: "[[fault:throttle]]", code: connect.CodeResourceExhausted},
		{name: "throttled stream", marker: "[[fault:throttle]]", stream: true, code: connect.CodeResourceExhausted},
		{name: "internal error", marker: "[[fault:internal]]", code: connect.CodeInternal},
		{name: "model error stream", marker: "[[fault:modelerror]]", stream: true, code: connect.CodeInternal},
		{name: "unavailable", marker: "[[fault:unavailable]]", code: connect.CodeUnavailable},
		{name: "stream cut mid-way", marker: "[[fault:cut:6]]", stream: true, code: connect.CodeUnavailable, minDeltas: 1},
		{name: "stream error mid-way", marker: "[[fault:streamerror:6]]", stream: true, code: connect.CodeUnavailable, minDeltas: 1},
		{name: "connection cut on unary", marker: "[[fault:cut]]", code: connect.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prompt := "tell me a long story " + tt.marker
			ctx := context.Background()
			if !tt.stream {
				_, err := api.Converse(ctx, ask(prompt, 200))
				if connect.CodeOf(err) != tt.code {
					t.Fatalf("err = %v, want %v", err, tt.code)
				}
				return
			}
			s, err := api.ConverseStream(ctx, askStream(prompt, 200))
			if err != nil {
				t.Fatal(err)
			}
			deltas, err := drain(s)
			if connect.CodeOf(err) != tt.code {
				t.Fatalf("stream err = %v after %d deltas, want %v", err, deltas, tt.code)
			}
			if deltas < tt.minDeltas {
				t.Errorf("%d deltas before the fault, want at least %d", deltas, tt.minDeltas)
			}
		})
	}
	t.Cleanup(func() { c.books(int64(len(tests))) })
}

// TestClientDisconnectMidStream has a browser leave in the middle of a paced stream: the
// cancellation travels BFF → services → AWS SDK → local AWS endpoint, which stops generating
// (observed on its side, with no more than about 100 ms of tokens at 50 tokens/s, plus two in
// transit, generated after the browser left), and the partial usage is settled.
func TestClientDisconnectMidStream(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	c := newChain(t, chainOptions{aws: localaws.Config{TokensPerSecond: 50, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }}})
	api := c.viaBFF(c.browser("alice"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const prompt = "a very long answer please"
	s, err := api.ConverseStream(ctx, askStream(prompt, 2000))
	if err != nil {
		t.Fatal(err)
	}
	received := 0
	for received < 3 && s.Receive() {
		if s.Msg().GetDelta() != nil {
			received++
		}
	}
	if received < 3 {
		t.Fatalf("stream ended after %d deltas: %v", received, s.Err())
	}
	left := time.Now()
	cancel()
	select {
	case e := <-ends:
		t.Logf("the local AWS endpoint saw the client go %s after the browser left, %d tokens generated, %d received", time.Since(left), e.Tokens, received)
		if !e.ClientGone {
			t.Fatalf("stream end = %+v, want the client gone", e)
		}
		const allowance = 5 + 2 // 100 ms at 50 tokens/s, plus tokens in transit
		if e.Tokens > received+allowance {
			t.Errorf("the endpoint generated %d tokens, %d after the browser left at %d: cancellation did not reach it promptly", e.Tokens, e.Tokens-received, received)
		}
		if total := len(strings.Fields(localaws.AnswerFor(prompt))); e.Tokens >= total {
			t.Errorf("generated %d tokens, the whole answer", e.Tokens)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the local AWS endpoint never saw the stream end")
	}
	_ = s.Close()
	c.books(1)
}

// TestSlowUpstreamPastDeadline has the model take longer than the call may: the browser
// gets DEADLINE_EXCEEDED whether the deadline is its own (Connect-Timeout-Ms through the
// BFF) or the services' maximum, the upstream call is abandoned, and the request is settled.
func TestSlowUpstreamPastDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		clientDeadline time.Duration
		serverMax      time.Duration
	}{
		{name: "client deadline", clientDeadline: 300 * time.Millisecond},
		{name: "services' maximum RPC timeout", serverMax: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ends := make(chan localaws.StreamEnd, 2)
			c := newChain(t, chainOptions{rpcTimeout: tt.serverMax, aws: localaws.Config{OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }}})
			api := c.viaBFF(c.browser("alice"))
			ctx := context.Background()
			if tt.clientDeadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.clientDeadline)
				defer cancel()
			}
			_, err := api.Converse(ctx, ask("hello [[fault:slow:5000]]", 16))
			if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Fatalf("unary: err = %v, want deadline_exceeded", err)
			}
			sctx := context.Background()
			if tt.clientDeadline > 0 {
				var cancel context.CancelFunc
				sctx, cancel = context.WithTimeout(sctx, tt.clientDeadline)
				defer cancel()
			}
			s, err := api.ConverseStream(sctx, askStream("hello [[fault:slow:5000]]", 16))
			if err == nil {
				_, err = drain(s)
			}
			if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Fatalf("stream: err = %v, want deadline_exceeded", err)
			}
			select {
			case e := <-ends:
				if !e.ClientGone || e.Tokens != 0 {
					t.Errorf("upstream stream end = %+v, want abandoned before any token", e)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream stream was never abandoned")
			}
			c.books(2)
		})
	}
}

// TestStoreUnavailable closes the SQLite store under a running system: new calls through
// the BFF are refused UNAVAILABLE before anything reaches the model, and the file holds
// nothing half-written (no reservation in flight, counters equal to the ledger).
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	c := newChain(t, chainOptions{})
	api := c.viaBFF(c.browser("alice"))
	ctx := context.Background()
	if _, err := api.Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatal(err)
	}
	sent := c.aws.Stats().Requests.Load()
	if err := c.store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := api.Converse(ctx, ask("hello", 8))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("unary with the store closed: %v, want unavailable", err)
	}
	s, err := api.ConverseStream(ctx, askStream("hello", 8))
	if err == nil {
		_, err = drain(s)
	}
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("stream with the store closed: %v, want unavailable", err)
	}
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Message() == "" {
		t.Error("the refusal carries no message")
	}
	if n := c.aws.Stats().Requests.Load(); n != sent {
		t.Errorf("%d requests reached the model with the store closed", n-sent)
	}
	c.books(1)
}
