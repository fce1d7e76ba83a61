package inference_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/inference"
)

// BenchmarkConverseOverhead measures, in the same run, a Converse through the whole service
// (HTTP, token check, policy, validation, reserve, SDK call, settle, audit on SQLite) and a
// direct SDK Converse to the same local AWS endpoint, which answers at once. It reports the
// p50 and p99 of each, the service's own cost (the difference of the p99s and of the means)
// and the ratio of the means.
func BenchmarkConverseOverhead(b *testing.B) {
	h := newHarness(b, options{policyYAML: quotaPolicy(
		"userRequestsPerMinute: 1000000000, userTokensPerDay: 1000000000000, userTokensPerMonth: 10000000000000, groupTokensPerMonth: 10000000000000")})
	ctx := context.Background()
	c := h.client("alice")
	sdk := bedrockruntime.NewFromConfig(h.awsCfg)
	req := ask(haiku, "hello")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](64)}
	in := &bedrockruntime.ConverseInput{
		ModelId:         aws.String(haiku),
		Messages:        []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "hello"}}}},
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(64)},
	}
	// Warm up connections, the token cache and SQLite.
	for range 20 {
		if _, err := c.Converse(ctx, req); err != nil {
			b.Fatal(err)
		}
		if _, err := sdk.Converse(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	var svc, direct []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := sdk.Converse(ctx, in); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := c.Converse(ctx, req); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		direct = append(direct, t1.Sub(t0))
		svc = append(svc, t2.Sub(t1))
	}
	ps, pd := percentiles(svc), percentiles(direct)
	b.ReportMetric(float64(ps.p50.Microseconds()), "service-p50-µs")
	b.ReportMetric(float64(ps.p99.Microseconds()), "service-p99-µs")
	b.ReportMetric(float64(pd.p50.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pd.p99.Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64((ps.p50 - pd.p50).Microseconds()), "overhead-p50-µs")
	b.ReportMetric(float64((ps.p99 - pd.p99).Microseconds()), "overhead-p99-µs")
	b.ReportMetric(float64((ps.mean - pd.mean).Microseconds()), "overhead-mean-µs")
	b.ReportMetric(float64(ps.mean)/float64(pd.mean), "ratio")
}

// BenchmarkConverseAt500rps sends Converse requests through the service at 500 a second,
// open loop (each at its slot, whether or not the earlier ones have answered), and direct
// SDK Converse calls to the same local AWS endpoint at 500 a second in between (1 ms after
// each service request): the load. It reports the p50 and p99 latency of each, and
// the service's own cost at the p50 and p99 (service less direct).
func BenchmarkConverseAt500rps(b *testing.B) {
	const interval = time.Second / 500
	h := newHarness(b, options{policyYAML: quotaPolicy(
		"userRequestsPerMinute: 1000000000, userTokensPerDay: 1000000000000, userTokensPerMonth: 10000000000000, groupTokensPerMonth: 10000000000000")})
	ctx := context.Background()
	c := h.client("alice")
	sdk := bedrockruntime.NewFromConfig(h.awsCfg)
	req := ask(haiku, "hello")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](64)}
	in := &bedrockruntime.ConverseInput{
		ModelId:         aws.String(haiku),
		Messages:        []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "hello"}}}},
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(64)},
	}
	for range 50 { // warm up connections, the token cache and SQLite
		if _, err := c.Converse(ctx, req); err != nil {
			b.Fatal(err)
		}
		if _, err := sdk.Converse(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		svc, direct  []time.Duration
		failed       error
		start        = time.Now()
		slot         = 0
		timeRequests = func(into *[]time.Duration, call func() error) {
			defer wg.Done()
			t0 := time.Now()
			err := call()
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && failed == nil {
				failed = err
			}
			*into = append(*into, d)
		}
	)
	for b.Loop() {
		time.Sleep(time.Until(start.Add(time.Duration(slot) * interval)))
		wg.Add(1)
		go timeRequests(&svc, func() error { _, err := c.Converse(ctx, req); return err })
		time.Sleep(time.Until(start.Add(time.Duration(slot)*interval + interval/2)))
		wg.Add(1)
		go timeRequests(&direct, func() error { _, err := sdk.Converse(ctx, in); return err })
		slot++
	}
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	ps, pd := percentiles(svc), percentiles(direct)
	b.ReportMetric(float64(ps.p50.Microseconds()), "service-p50-µs")
	b.ReportMetric(float64(ps.p99.Microseconds()), "service-p99-µs")
	b.ReportMetric(float64(pd.p50.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pd.p99.Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64((ps.p50 - pd.p50).Microseconds()), "overhead-p50-µs")
	b.ReportMetric(float64((ps.p99 - pd.p99).Microseconds()), "overhead-p99-µs")
}

type stats struct{ p50, p99, mean time.Duration }

func percentiles(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return stats{p50: s[len(s)/2], p99: s[min(len(s)-1, len(s)*99/100)], mean: sum / time.Duration(len(s))}
}

// timedBedrock notes when each delta arrives from the provider, before the service
// forwards it.
type timedBedrock struct {
	inference.BedrockProvider
	mu       sync.Mutex
	arrivals []time.Time
}

func (t *timedBedrock) ConverseStreamChecked(ctx context.Context, conv *bedrock.Conversation, send bedrock.SendFunc) (*bedrock.Result, error) {
	return t.BedrockProvider.ConverseStreamChecked(ctx, conv, func(ev *inferencev1.ConverseStreamResponse) error {
		if ev.GetDelta() != nil {
			t.mu.Lock()
			t.arrivals = append(t.arrivals, time.Now())
			t.mu.Unlock()
		}
		return send(ev)
	})
}

// BenchmarkStreamForwarding measures how long a streamed delta takes from its arrival from
// the provider (decoded by the SDK) to the client that called ConverseStream, with the
// local AWS endpoint generating 1,000 tokens a second. It reports the p50 and p99 per delta.
func BenchmarkStreamForwarding(b *testing.B) {
	tb := &timedBedrock{}
	h := newHarness(b, options{
		policyYAML:  quotaPolicy("userRequestsPerMinute: 1000000000, userTokensPerDay: 1000000000000, userTokensPerMonth: 10000000000000"),
		aws:         localaws.Config{TokensPerSecond: 1000},
		wrapBedrock: func(p inference.BedrockProvider) inference.BedrockProvider { tb.BedrockProvider = p; return tb },
	})
	c := h.client("alice")
	req := streamOf(ask(haiku, "forward me"))
	var lat []time.Duration
	for b.Loop() {
		tb.mu.Lock()
		tb.arrivals = tb.arrivals[:0]
		tb.mu.Unlock()
		s, err := c.ConverseStream(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		var received []time.Time
		for s.Receive() {
			if s.Msg().GetDelta() != nil {
				received = append(received, time.Now())
			}
		}
		if err := s.Err(); err != nil {
			b.Fatal(err)
		}
		tb.mu.Lock()
		if len(tb.arrivals) != len(received) {
			b.Fatalf("%d deltas arrived, %d received", len(tb.arrivals), len(received))
		}
		for i := range received {
			lat = append(lat, received[i].Sub(tb.arrivals[i]))
		}
		tb.mu.Unlock()
	}
	p := percentiles(lat)
	b.ReportMetric(float64(p.p50.Microseconds()), "delta-p50-µs")
	b.ReportMetric(float64(p.p99.Microseconds()), "delta-p99-µs")
	b.ReportMetric(float64(len(lat))/float64(b.N), "deltas/op")
}

// BenchmarkConversationTurn measures what a kept conversation adds to the time to first
// token: in the same run, alternately, a stateless ConverseStream carrying a 20-turn history
// and the new turn, and the same turn sent with a conversation reference to a stored
// conversation of 20 messages (the service loads the history and stores the user turn before
// calling). Each kept turn answers from the 20th message, replacing the previous turn, so the
// history stays at 20. It reports the p50 time to first token of each and their difference.
func BenchmarkConversationTurn(b *testing.B) {
	h := newHarness(b, options{
		policyYAML:    quotaPolicy("userRequestsPerMinute: 1000000000, userTokensPerDay: 1000000000000, userTokensPerMonth: 10000000000000"),
		aws:           localaws.Config{TokensPerSecond: 1000},
		conversations: true,
	})
	c := h.client("alice")
	ctx := context.Background()
	// A stored conversation of 20 messages, and the same history in stateless form.
	var history []*inferencev1.Message
	first := ask(haiku, "turn 0: tell me about conversations")
	first.Conversation = ref("", "")
	res, err := c.Converse(ctx, first)
	if err != nil {
		b.Fatal(err)
	}
	conv, parent := res.GetConversation().GetConversationId(), res.GetConversation().GetAssistantMessageId()
	history = append(history, first.GetMessages()[0], res.GetOutput())
	for i := 1; i < 10; i++ {
		next := ask(haiku, fmt.Sprintf("turn %d: and then?", i))
		next.Conversation = ref(conv, parent)
		r, err := c.Converse(ctx, next)
		if err != nil {
			b.Fatal(err)
		}
		parent = r.GetConversation().GetAssistantMessageId()
		history = append(history, next.GetMessages()[0], r.GetOutput())
	}
	h.messagesOf("alice", conv, 20)
	ttft := func(req *inferencev1.ConverseStreamRequest) time.Duration {
		start := time.Now()
		s, err := c.ConverseStream(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		var first time.Duration
		for s.Receive() {
			if first == 0 && s.Msg().GetDelta() != nil {
				first = time.Since(start)
			}
		}
		if err := s.Err(); err != nil {
			b.Fatal(err)
		}
		return first
	}
	turn := user(text("the new turn: summarise"))
	stateless := &inferencev1.ConverseStreamRequest{ModelId: haiku, Messages: append(slices.Clone(history), turn)}
	kept := &inferencev1.ConverseStreamRequest{ModelId: haiku, Messages: []*inferencev1.Message{turn}, Conversation: ref(conv, parent)}
	var plain, withConv []time.Duration
	for b.Loop() {
		plain = append(plain, ttft(stateless))
		withConv = append(withConv, ttft(kept))
	}
	p, k := percentiles(plain), percentiles(withConv)
	b.ReportMetric(float64(p.p50.Microseconds()), "stateless-ttft-p50-µs")
	b.ReportMetric(float64(k.p50.Microseconds()), "kept-ttft-p50-µs")
	b.ReportMetric(float64((k.p50 - p.p50).Microseconds()), "added-p50-µs")
}
