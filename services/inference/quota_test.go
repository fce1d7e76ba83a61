package inference_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/store"
)

// quotaPolicy gives MLUsers haiku with the quotas given.
func quotaPolicy(quotas string) string {
	return `version: 1
usageAdmins: [Administrators]
groups:
  - name: MLUsers
    models: [anthropic.claude-3-5-haiku-20241022-v1:0]
    quotas: {` + quotas + `}
  - name: Administrators
    models: [anthropic.claude-3-5-haiku-20241022-v1:0]
`
}

func quotaExceededOf(err error) *typev1.QuotaExceeded {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if m, derr := d.Value(); derr == nil {
			if q, ok := m.(*typev1.QuotaExceeded); ok {
				return q
			}
		}
	}
	return nil
}

var stores = []struct {
	name string
	open func(testing.TB, store.Options) store.Store
}{
	{"sqlite", nil},
	{"dynamodb", openDynamo},
}

// TestConcurrentQuota sends 100 concurrent requests against quotas sized for 10 and checks
// that no counter ever ends above its limit, that every refusal is RESOURCE_EXHAUSTED with
// QuotaExceeded and RetryAfter details, and that the ledger holds all 100 requests and
// equals the counters — on SQLite, and on DynamoDB (dynalite) when available.
func TestConcurrentQuota(t *testing.T) {
	t.Parallel()
	// A request "hello there" with max_tokens 100 reserves 4 + ceil(11/3) + 100 = 108 tokens.
	const worst = 108
	clock := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name, quotas string
		exactOK      int // exact number of successes, or 0 for "at least 10"
		limit        int64
		unit         typev1.QuotaUnit
	}{
		{name: "tokens per day", quotas: "userTokensPerDay: 1080", limit: 10 * worst, unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS},
		{name: "group pool", quotas: "groupTokensPerMonth: 1080", limit: 10 * worst, unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS},
		{name: "requests per minute", quotas: "userRequestsPerMinute: 10", exactOK: 10, limit: 10, unit: typev1.QuotaUnit_QUOTA_UNIT_REQUESTS},
	}
	for _, st := range stores {
		for _, tt := range tests {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, options{
					policyYAML: quotaPolicy(tt.quotas), openStore: st.open,
					storeOpts: store.Options{Now: func() time.Time { return clock }},
				})
				c := h.client("alice")
				req := ask(haiku, "hello there")
				req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](100)}
				const n = 100
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						if i%2 == 0 {
							_, errs[i] = c.Converse(context.Background(), req)
							return
						}
						s, err := c.ConverseStream(context.Background(), streamOf(req))
						if err == nil {
							_, err = drain(s)
						}
						errs[i] = err
					})
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
						continue
					}
					qe := quotaExceededOf(err)
					if connect.CodeOf(err) != connect.CodeResourceExhausted || qe == nil || retryAfterOf(err) == nil {
						t.Fatalf("err = %v, want resource_exhausted with QuotaExceeded and RetryAfter", err)
					}
					if qe.GetStatus().GetLimit().GetLimit() != tt.limit || qe.GetRequested() == 0 {
						t.Errorf("QuotaExceeded = %v", qe)
					}
				}
				if ok < 10 || (tt.exactOK > 0 && ok != tt.exactOK) {
					t.Errorf("%d requests succeeded; want %d", ok, max(10, tt.exactOK))
				}
				limits := h.limitsOf("MLUsers")
				u, err := h.store.Usage(context.Background(), "alice", limits)
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range u.Quotas {
					if q.Used > q.Limit.Max {
						t.Errorf("overspent: %s used %d", q.Limit, q.Used)
					}
					if q.Limit.Unit == tt.unit && q.Used == 0 {
						t.Errorf("%s counted nothing", q.Limit)
					}
				}
				if recs := h.records("alice"); len(recs) != n {
					t.Errorf("the ledger holds %d requests, want %d", len(recs), n)
				}
				h.checkLedger("alice", limits)
			})
		}
	}
}

// TestQuotaDetails checks the refusal of a request larger than the remaining quota: the
// limit, its state, the amount requested and the reset time.
func TestQuotaDetails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{policyYAML: quotaPolicy("userTokensPerDay: 100")})
	req := ask(haiku, "hello there")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](200)}
	_, err := h.client("alice").Converse(context.Background(), req)
	qe := quotaExceededOf(err)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || qe == nil {
		t.Fatalf("err = %v", err)
	}
	if qe.GetRequested() != 208 || qe.GetStatus().GetLimit().GetLimit() != 100 || qe.GetStatus().GetRemaining() != 100 ||
		qe.GetStatus().GetLimit().GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_DAY {
		t.Errorf("QuotaExceeded = %v", qe)
	}
	ra := retryAfterOf(err)
	_, end := store.Window(typev1.QuotaWindow_QUOTA_WINDOW_DAY, time.Now())
	if ra == nil || !ra.GetRetryAt().AsTime().Equal(end) || ra.GetDelayMs() <= 0 {
		t.Errorf("RetryAfter = %v, want %v", ra, end)
	}
	r := h.record("alice", requestID(err))
	if r.Outcome != "resource_exhausted" || r.Tokens() != 0 {
		t.Errorf("record = %+v", r)
	}
	// A smaller request still fits.
	req.InferenceConfig.MaxTokens = ptr[int32](50)
	if _, err := h.client("alice").Converse(context.Background(), req); err != nil {
		t.Errorf("a request within the quota: %v", err)
	}
}

// TestStoreUnavailable closes the store: inference and usage calls are UNAVAILABLE, and
// nothing is sent upstream.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	c := h.client("alice")
	_, err := c.Converse(context.Background(), ask(haiku, "anyone there?"))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("Converse: err = %v, want unavailable", err)
	}
	s, err := c.ConverseStream(context.Background(), streamOf(ask(haiku, "anyone there?")))
	if err == nil {
		var evs []*inferencev1.ConverseStreamResponse
		evs, err = drain(s)
		if len(evs) != 0 {
			t.Errorf("stream sent %v", evs)
		}
	}
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("ConverseStream: err = %v, want unavailable", err)
	}
	if _, err := c.GetUsage(context.Background(), &inferencev1.GetUsageRequest{}); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("GetUsage: err = %v, want unavailable", err)
	}
	if n := h.aws.Stats().Requests.Load(); n != 0 {
		t.Errorf("%d requests went upstream without a reservation", n)
	}
}

// gatedBedrock holds each stream at its first delta until release is closed.
type gatedBedrock struct {
	inference.BedrockProvider
	release chan struct{}
}

func (g *gatedBedrock) ConverseStreamChecked(ctx context.Context, conv *bedrock.Conversation, send bedrock.SendFunc) (*bedrock.Result, error) {
	first := true
	return g.BedrockProvider.ConverseStreamChecked(ctx, conv, func(ev *inferencev1.ConverseStreamResponse) error {
		if ev.GetDelta() != nil && first {
			first = false
			<-g.release
		}
		return send(ev)
	})
}

// panickingBedrock panics after the first delta reached the caller, after the model has
// done (and billed) work Portico cannot count.
type panickingBedrock struct{ inference.BedrockProvider }

func (p *panickingBedrock) ConverseStreamChecked(ctx context.Context, conv *bedrock.Conversation, send bedrock.SendFunc) (*bedrock.Result, error) {
	return p.BedrockProvider.ConverseStreamChecked(ctx, conv, func(ev *inferencev1.ConverseStreamResponse) error {
		if err := send(ev); err != nil {
			return err
		}
		if ev.GetDelta() != nil {
			panic("provider adapter bug")
		}
		return nil
	})
}

// TestPanicChargesTheReservation: a provider that panics mid-stream is settled at what the
// call reserved (its worst case), marked estimated, never at zero reported tokens.
func TestPanicChargesTheReservation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{policyYAML: quotaPolicy("userTokensPerDay: 1000"),
		wrapBedrock: func(p inference.BedrockProvider) inference.BedrockProvider { return &panickingBedrock{p} }})
	req := ask(haiku, "hello there")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](100)} // holds 108
	s, err := h.client("alice").ConverseStream(context.Background(), streamOf(req))
	if err == nil {
		for s.Receive() {
		}
		err = s.Err()
	}
	if err == nil {
		t.Fatal("a panicking provider answered without an error")
	}
	var recs []store.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(recs) == 0 && time.Now().Before(deadline) {
		recs = h.records("alice")
		time.Sleep(5 * time.Millisecond)
	}
	if len(recs) != 1 {
		t.Fatalf("%d audit records, want 1", len(recs))
	}
	if r := recs[0]; r.InputTokens+r.OutputTokens != 108 || r.UsageSource != store.UsageEstimated {
		t.Errorf("record = %d+%d tokens, source %q; want the 108 reserved, estimated", r.InputTokens, r.OutputTokens, r.UsageSource)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}

// TestStreamWithinReservedQuota fills a quota exactly with one stream's worst case: while
// the stream is in flight another request is refused, and the stream runs to its end (a
// quota cannot run out mid-stream: the worst case was held before the first token).
func TestStreamWithinReservedQuota(t *testing.T) {
	t.Parallel()
	gate := &gatedBedrock{release: make(chan struct{})}
	// "hello there" with max_tokens 100 holds exactly 108 tokens.
	h := newHarness(t, options{policyYAML: quotaPolicy("userTokensPerDay: 108"),
		wrapBedrock: func(p inference.BedrockProvider) inference.BedrockProvider { gate.BedrockProvider = p; return gate }})
	req := ask(haiku, "hello there")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](100)}
	s, err := h.client("alice").ConverseStream(context.Background(), streamOf(req))
	if err != nil {
		close(gate.release)
		t.Fatal(err)
	}
	if !s.Receive() || s.Msg().GetStart() == nil {
		close(gate.release)
		t.Fatalf("no start: %v", s.Err())
	}
	// The stream is held at its first delta, holding the whole quota.
	_, err = h.client("alice").Converse(context.Background(), req)
	close(gate.release)
	if qe := quotaExceededOf(err); qe == nil || qe.GetStatus().GetReserved() != 108 {
		t.Errorf("second request: err = %v, detail %v", err, qe)
	}
	var last *inferencev1.ConverseStreamResponse
	for s.Receive() {
		last = s.Msg()
	}
	if err := s.Err(); err != nil || last.GetMetadata() == nil {
		t.Fatalf("the stream did not complete: %v, last event %v", err, last)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}
