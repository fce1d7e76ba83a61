package inference_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/store"
)

func TestConverse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	ctx := context.Background()
	req := ask(haiku, "Explain Go channels please")
	req.SystemPrompt = "Be brief."
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr[int32](500), Temperature: ptr[float32](0.2)}
	res, err := h.client("alice").Converse(ctx, req)
	if err != nil {
		t.Fatalf("Converse: %v", err)
	}
	want := localaws.AnswerFor("Be brief.\nExplain Go channels please")
	got := res.GetOutput().GetContent()[0].GetText()
	if res.GetOutput().GetRole() != inferencev1.Role_ROLE_ASSISTANT || got == "" {
		t.Fatalf("output = %v", res.GetOutput())
	}
	if !strings.HasPrefix(want, got[:20]) && !strings.Contains(got, "Explain Go channels please") {
		t.Errorf("answer %q does not look like the generator's", got)
	}
	if res.GetStopReason() != inferencev1.StopReason_STOP_REASON_END_TURN {
		t.Errorf("stop reason = %v", res.GetStopReason())
	}
	m := res.GetMetrics()
	if m.GetInputTokens() != 6 || m.GetOutputTokens() == 0 || m.GetTotalTokens() != m.GetInputTokens()+m.GetOutputTokens() || m.GetUsageEstimated() {
		t.Errorf("metrics = %v", m)
	}
	if m.GetPriceTableVersion() != h.catalog.PriceTable().Version || m.GetEstimatedCost().GetCurrencyCode() != "USD" {
		t.Errorf("price = %v %v", m.GetPriceTableVersion(), m.GetEstimatedCost())
	}
	wantCost, _ := h.catalog.CostNanos(haiku, m.GetInputTokens(), m.GetOutputTokens())
	if gotCost := m.GetEstimatedCost().GetUnits()*1e9 + int64(m.GetEstimatedCost().GetNanos()); gotCost != wantCost || wantCost == 0 {
		t.Errorf("cost = %d nanos, want %d", gotCost, wantCost)
	}
	r := h.record("alice", res.GetRequestId())
	if r.Outcome != store.OutcomeOK || r.InputTokens != m.GetInputTokens() || r.OutputTokens != m.GetOutputTokens() ||
		r.CostNanos != wantCost || r.ModelID != haiku || r.StopReason != "end_turn" || r.UpstreamRequestID == "" ||
		r.Procedure != "/portico.inference.v1.InferenceService/Converse" || !slices.Contains(r.Groups, "MLUsers") ||
		r.ClientID != "portico-web" || r.Latency <= 0 || r.PriceTableVersion != m.GetPriceTableVersion() {
		t.Errorf("record = %+v", r)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}

// TestConverseStream checks the event order: start (with the request id), deltas, stop,
// then metadata, and that the metadata matches the ledger.
func TestConverseStream(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	h := newHarness(t, options{aws: localaws.Config{OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }}})
	s, err := h.client("alice").ConverseStream(context.Background(), streamOf(ask(novaL, "Stream me a story about ducks")))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(s)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(evs) < 5 {
		t.Fatalf("only %d events", len(evs))
	}
	start := evs[0].GetStart()
	if start == nil || start.GetRequestId() == "" || start.GetModelId() != novaL || start.GetRole() != inferencev1.Role_ROLE_ASSISTANT {
		t.Fatalf("first event = %v", evs[0])
	}
	var text strings.Builder
	for i, ev := range evs[1 : len(evs)-2] {
		if ev.GetDelta() == nil {
			t.Fatalf("event %d = %v, want a delta", i+1, ev)
		}
		text.WriteString(ev.GetDelta().GetText())
	}
	if stop := evs[len(evs)-2].GetStop(); stop == nil || stop.GetStopReason() != inferencev1.StopReason_STOP_REASON_END_TURN {
		t.Fatalf("second to last event = %v", evs[len(evs)-2])
	}
	md := evs[len(evs)-1].GetMetadata().GetMetrics()
	if md == nil || md.GetOutputTokens() == 0 || md.GetTimeToFirstToken() == nil || md.GetLatency().AsDuration() < md.GetTimeToFirstToken().AsDuration() {
		t.Fatalf("metadata = %v", evs[len(evs)-1])
	}
	// One delta forwarded per token generated upstream: no batching, nothing dropped.
	if e := <-ends; e.ClientGone || e.Tokens != len(evs)-3 {
		t.Errorf("upstream generated %d tokens (client gone: %v); %d deltas forwarded", e.Tokens, e.ClientGone, len(evs)-3)
	}
	if got, want := text.String(), strings.TrimSpace(localaws.AnswerFor("Stream me a story about ducks")); strings.TrimSpace(got) != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	r := h.record("alice", start.GetRequestId())
	if r.Outcome != "ok" || r.OutputTokens != md.GetOutputTokens() || r.InputTokens != md.GetInputTokens() || r.TimeToFirstToken <= 0 {
		t.Errorf("record = %+v, metadata %v", r, md)
	}
	h.checkLedger("alice", h.limitsOf("MLUsers"))
}

func TestListModels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	tests := []struct {
		who      string
		provider inferencev1.Provider
		want     int
		has, not string
	}{
		{who: "alice", want: 8, has: demo, not: sonnet},
		{who: "dana", want: 9, has: sonnet},
		{who: "bob", want: 0},
		{who: "machine", want: 2, has: novaL, not: demo},
		{who: "alice", provider: inferencev1.Provider_PROVIDER_SAGEMAKER, want: 1, has: demo, not: haiku},
		{who: "alice", provider: inferencev1.Provider_PROVIDER_BEDROCK, want: 7, has: haiku, not: demo},
	}
	for _, tt := range tests {
		t.Run(tt.who+"/"+tt.provider.String(), func(t *testing.T) {
			t.Parallel()
			res, err := h.client(tt.who).ListModels(context.Background(), &inferencev1.ListModelsRequest{Provider: tt.provider})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetModels()) != tt.want {
				t.Fatalf("%d models, want %d", len(res.GetModels()), tt.want)
			}
			if res.GetPriceTableVersion() == "" || res.GetPricesAsOf() == "" {
				t.Errorf("price table = %q as of %q", res.GetPriceTableVersion(), res.GetPricesAsOf())
			}
			ids := []string{}
			for i, m := range res.GetModels() {
				ids = append(ids, m.GetId())
				if i > 0 {
					prev := res.GetModels()[i-1]
					if prev.GetProvider() > m.GetProvider() || (prev.GetProvider() == m.GetProvider() && prev.GetDisplayName() > m.GetDisplayName()) {
						t.Errorf("not sorted: %s before %s", prev.GetDisplayName(), m.GetDisplayName())
					}
				}
				if m.GetPricing().GetInputPer_1KTokens() == nil {
					t.Errorf("%s has no pricing", m.GetId())
				}
			}
			if tt.has != "" && !slices.Contains(ids, tt.has) {
				t.Errorf("models %v lack %s", ids, tt.has)
			}
			if tt.not != "" && slices.Contains(ids, tt.not) {
				t.Errorf("models %v hold %s", ids, tt.not)
			}
		})
	}
	t.Run("identity-only machine client", func(t *testing.T) {
		t.Parallel()
		_, err := h.client("machine-identity").ListModels(context.Background(), &inferencev1.ListModelsRequest{})
		if connect.CodeOf(err) != connect.CodePermissionDenied {
			t.Errorf("err = %v, want permission_denied", err)
		}
	})
}

func TestGetUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	ctx := context.Background()
	c := h.client("alice")
	res, err := c.Converse(ctx, ask(haiku, "count my tokens"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := res.GetMetrics().GetTotalTokens()
	u, err := c.GetUsage(ctx, &inferencev1.GetUsageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// MLUsers: requests per minute, tokens per day and month, and the group's pool.
	if len(u.GetQuotas()) != 4 {
		t.Fatalf("quotas = %v", u.GetQuotas())
	}
	for _, q := range u.GetQuotas() {
		want := tokens
		if q.GetLimit().GetUnit().String() == "QUOTA_UNIT_REQUESTS" {
			want = 1
		}
		if q.GetUsed() != want || q.GetReserved() != 0 || q.GetRemaining() != q.GetLimit().GetLimit()-want || q.GetResetsAt() == nil {
			t.Errorf("quota %v: used %d (want %d), reserved %d, remaining %d", q.GetLimit(), q.GetUsed(), want, q.GetReserved(), q.GetRemaining())
		}
	}
	if u.GetToday().GetRequests() != 1 || u.GetToday().GetTotalTokens() != tokens || u.GetThisMonth().GetTotalTokens() != tokens ||
		u.GetPriceTableVersion() == "" || u.GetAsOf() == nil {
		t.Errorf("usage = %v", u)
	}
	bob, err := h.client("bob").GetUsage(ctx, &inferencev1.GetUsageRequest{})
	if err != nil || len(bob.GetQuotas()) != 0 || bob.GetToday().GetRequests() != 0 {
		t.Errorf("bob's usage = %v, %v", bob, err)
	}
}

// TestClientAddress checks that the Portico-Client-* headers are believed only for a token
// issued to a configured BFF client (PORTICO_BFF_CLIENT_IDS): a token of any other client,
// or any client when none is configured, gets the peer's address and its own User-Agent.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	hdr := http.Header{"Portico-Client-Ip": {"203.0.113.7"}, "Portico-Client-User-Agent": {"Browser/1.0"}, "User-Agent": {"bff/1"}}
	const (
		believedIP, believedUA = "203.0.113.7", "Browser/1.0"
		peerIP, ownUA          = "127.0.0.1", "bff/1"
	)
	tests := []struct {
		name    string
		trusted []string
		who     string // alice: a portico-web token; machine: a portico-machine token
		user    string
		ip, ua  string
	}{
		{"BFF client configured: its token is believed", []string{"portico-web"}, "alice", "alice", believedIP, believedUA},
		{"BFF client configured: another client is not", []string{"portico-web"}, "machine", "client:portico-machine", peerIP, ownUA},
		{"other BFF configured: portico-web is not believed", []string{"generated-cognito-client"}, "alice", "alice", peerIP, ownUA},
		{"nobody configured: portico-web is not believed", []string{}, "alice", "alice", peerIP, ownUA},
		{"nobody configured: machine is not believed", []string{}, "machine", "client:portico-machine", peerIP, ownUA},
		{"machine client configured: it is believed", []string{"portico-machine"}, "machine", "client:portico-machine", believedIP, believedUA},
		{"machine client configured: portico-web is not", []string{"portico-machine"}, "alice", "alice", peerIP, ownUA},
		{"id compared exactly, not by prefix", []string{"portico"}, "alice", "alice", peerIP, ownUA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, options{trusted: tt.trusted})
			res, err := h.clientWithHeader(tt.who, hdr).Converse(context.Background(), ask(novaL, "where am I"))
			if err != nil {
				t.Fatal(err)
			}
			r := h.record(tt.user, res.GetRequestId())
			if r.SourceIP != tt.ip || r.UserAgent != tt.ua {
				t.Errorf("recorded %q %q, want %q %q", r.SourceIP, r.UserAgent, tt.ip, tt.ua)
			}
		})
	}
}
