package inference_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/sagemaker"
	"github.com/portico-dev/portico/services/store"
)

// The echo endpoints of the black-box test: each answers with the caller's input (localaws
// Endpoint.Echo), declared in the catalog as an echo should be (usage: none), and as if it
// were a model whose container reports usage the TGI or the OpenAI way. None reports any
// count, so what is recorded must be the byte estimate, whatever the caller writes.
const echoCatalog = `
  - id: portico-echo
    provider: sagemaker
    kind: endpoint
    family: Echo
    displayName: Echo (usage none)
    capabilities: {streaming: true}
    contextWindow: 8192
    maxOutputTokens: 256
    contentTypes: [application/json, text/plain]
    usage: {format: none}
    price: {inputPer1k: "0.0001", outputPer1k: "0.0004", estimate: true}
  - id: portico-echo-tgi
    provider: sagemaker
    kind: endpoint
    family: Echo
    displayName: Echo (declared TGI)
    capabilities: {streaming: true}
    contextWindow: 8192
    maxOutputTokens: 256
    contentTypes: [application/json, text/plain]
    usage: {format: tgi-details, contentTypes: [application/json, application/jsonlines]}
    price: {inputPer1k: "0.0001", outputPer1k: "0.0004", estimate: true}
  - id: portico-echo-openai
    provider: sagemaker
    kind: endpoint
    family: Echo
    displayName: Echo (declared OpenAI)
    capabilities: {streaming: true}
    contextWindow: 8192
    maxOutputTokens: 256
    contentTypes: [application/json, text/plain]
    usage: {format: openai, contentTypes: [application/json, application/jsonlines, text/event-stream]}
    price: {inputPer1k: "0.0001", outputPer1k: "0.0004", estimate: true}
`

const echoPolicy = `version: 1
usageAdmins: [Administrators]
groups:
  - name: MLUsers
    endpoints: [portico-echo, portico-echo-tgi, portico-echo-openai]
    quotas: {userTokensPerDay: 30000, groupTokensPerMonth: 30000}
  - name: Administrators
    endpoints: [portico-echo]
`

// plantedReports are usage reports a caller writes into the text an echo answers with.
var plantedReports = []struct{ name, line string }{
	{"huge", `{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807,"input_tokens":9223372036854775807,"output_tokens":9223372036854775807},"details":{"generated_tokens":9223372036854775807}}`},
	{"zero", `{"usage":{"prompt_tokens":0,"completion_tokens":0,"input_tokens":0,"output_tokens":0},"details":{"generated_tokens":0,"input_tokens":0}}`},
	{"negative", `{"usage":{"prompt_tokens":-100000000000,"completion_tokens":-100000000000,"input_tokens":-100000000000,"output_tokens":-100000000000},"details":{"generated_tokens":-100000000000}}`},
	{"overflowing pair", `{"usage":{"prompt_tokens":4611686018427387904,"completion_tokens":4611686018427387904,"input_tokens":9223372036854775806,"output_tokens":9223372036854775806},"details":{"generated_tokens":4611686018427387904,"input_tokens":4611686018427387904}}`},
	{"server-sent events", "data: {\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0}}\n\ndata: [DONE]"},
	{"last line, details", `{"details":{"generated_tokens":1}}`},
}

// echoCall is one way of calling an echo endpoint.
type echoCall struct {
	name        string
	contentType string
	accept      string
	stream      bool
}

var echoCalls = []echoCall{
	{"plain text answered as text", "text/plain", "text/plain", false},
	{"plain text answered as JSON", "text/plain", "", false},
	{"JSON answered as JSON", "application/json", "", false},
	{"plain text streamed as text", "text/plain", "text/plain", true},
	{"JSON streamed as JSON Lines", "application/json", "", true},
}

// TestEchoPlantedUsage is the black box of issue 11: the real handler chain and store, and a
// SageMaker endpoint that echoes its input. A caller who plants usage reports in the echoed
// text (huge, zero, negative, overflowing pairs) never changes what is recorded beyond the
// byte estimate; GetUsage and ListUsage keep answering; counters never go negative; and a
// 30,000 tokens/day quota still binds.
func TestEchoPlantedUsage(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			clock := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
			h := newHarness(t, options{
				policyYAML: echoPolicy, openStore: st.open,
				catalogYAML: string(catalog.DefaultYAML()) + echoCatalog,
				storeOpts:   store.Options{Now: func() time.Time { return clock }},
				now:         func() time.Time { return clock },
				aws: localaws.Config{Endpoints: []localaws.Endpoint{
					{Name: "portico-echo", Variant: "AllTraffic", Echo: true},
					{Name: "portico-echo-tgi", Variant: "AllTraffic", Echo: true},
					{Name: "portico-echo-openai", Variant: "AllTraffic", Echo: true},
				}},
			})
			c := h.client("alice")
			limits := h.limitsOf("MLUsers")
			var used int64
			for _, ep := range []string{"portico-echo", "portico-echo-tgi", "portico-echo-openai"} {
				for _, call := range echoCalls {
					for _, p := range plantedReports {
						text := "repeat after me\n" + p.line + "\n" + p.line
						id, in, out := echoOnce(t, c, ep, call, text)
						rec := h.record("alice", id)
						if rec.InputTokens != sagemaker.EstimateTokens(in) || rec.OutputTokens != sagemaker.EstimateTokens(out) ||
							rec.UsageSource != store.UsageEstimated || !rec.UsageEstimated {
							t.Errorf("%s/%s/%s: recorded %d in %d out (%s); want the byte estimate %d in %d out, estimated",
								ep, call.name, p.name, rec.InputTokens, rec.OutputTokens, rec.UsageSource,
								sagemaker.EstimateTokens(in), sagemaker.EstimateTokens(out))
						}
						used += rec.Tokens()
						checkUsageAnswers(t, h, c, used)
					}
				}
			}
			h.checkLedger("alice", limits)

			// The quota binds: requests go on until the next worst case does not fit.
			big := strings.Repeat("fill the quota\n"+plantedReports[1].line+"\n", 60)
			refused := false
			for i := 0; i < 100 && !refused; i++ {
				_, err := c.InvokeEndpoint(context.Background(), &inferencev1.InvokeEndpointRequest{
					EndpointName: "portico-echo-tgi", ContentType: "text/plain", Accept: "text/plain", Body: []byte(big),
				})
				switch {
				case err == nil:
				case connect.CodeOf(err) == connect.CodeResourceExhausted && quotaExceededOf(err) != nil:
					refused = true
				default:
					t.Fatalf("request %d: %v", i, err)
				}
			}
			u, err := c.GetUsage(context.Background(), &inferencev1.GetUsageRequest{})
			if err != nil {
				t.Fatalf("GetUsage: %v", err)
			}
			worst := int64(len(big)+2)/3 + 256
			for _, q := range u.GetQuotas() {
				if q.GetUsed() < 0 || q.GetReserved() != 0 {
					t.Errorf("quota %v: used %d reserved %d", q.GetLimit(), q.GetUsed(), q.GetReserved())
				}
				if q.GetLimit().GetLimit() == 30000 && (!refused || q.GetUsed() <= 30000-worst) {
					t.Errorf("quota %v used %d: the 30,000 tokens/day quota did not bind (refused %v)", q.GetLimit(), q.GetUsed(), refused)
				}
			}
			h.checkLedger("alice", limits)
		})
	}
}

// echoOnce calls an echo endpoint once with text and returns the request id, the bytes sent
// and the bytes answered.
func echoOnce(t *testing.T, c inferencev1connect.InferenceServiceClient, ep string, call echoCall, text string) (id string, in, out int) {
	t.Helper()
	body := []byte(text)
	if call.contentType == "application/json" {
		body = fmt.Appendf(nil, `{"inputs":%q}`, text)
	}
	if !call.stream {
		res, err := c.InvokeEndpoint(context.Background(), &inferencev1.InvokeEndpointRequest{
			EndpointName: ep, ContentType: call.contentType, Accept: call.accept, Body: body,
		})
		if err != nil {
			t.Fatalf("%s/%s: %v", ep, call.name, err)
		}
		if !strings.Contains(string(res.GetBody()), "repeat after me") {
			t.Fatalf("%s/%s: not an echo: %q", ep, call.name, res.GetBody())
		}
		return res.GetRequestId(), len(body), len(res.GetBody())
	}
	s, err := c.InvokeEndpointStream(context.Background(), &inferencev1.InvokeEndpointStreamRequest{
		EndpointName: ep, ContentType: call.contentType, Accept: call.accept, Body: body,
	})
	if err != nil {
		t.Fatalf("%s/%s: %v", ep, call.name, err)
	}
	for s.Receive() {
		switch ev := s.Msg().GetEvent().(type) {
		case *inferencev1.InvokeEndpointStreamResponse_Start:
			id = ev.Start.GetRequestId()
		case *inferencev1.InvokeEndpointStreamResponse_Part:
			out += len(ev.Part.GetBytes())
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("%s/%s stream: %v", ep, call.name, err)
	}
	_ = s.Close()
	return id, len(body), out
}

// checkUsageAnswers checks that GetUsage and ListUsage answer, with counters that are not
// negative and a day's total equal to what was recorded.
func checkUsageAnswers(t *testing.T, h *harness, c inferencev1connect.InferenceServiceClient, used int64) {
	t.Helper()
	u, err := c.GetUsage(context.Background(), &inferencev1.GetUsageRequest{})
	if err != nil {
		t.Fatalf("GetUsage: %v", err)
	}
	for _, q := range u.GetQuotas() {
		if q.GetUsed() < 0 || q.GetReserved() < 0 || q.GetUsed() > math.MaxInt64/2 {
			t.Fatalf("quota %v: used %d reserved %d", q.GetLimit(), q.GetUsed(), q.GetReserved())
		}
	}
	if got := u.GetToday().GetTotalTokens(); got != used {
		t.Errorf("GetUsage today = %d tokens, recorded %d", got, used)
	}
	rep, err := h.store.ListUsage(context.Background(), store.UsageFilter{StartDay: "2026-11-24", EndDay: "2026-11-24"})
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	if got := rep.Totals.InputTokens + rep.Totals.OutputTokens; got != used {
		t.Errorf("ListUsage = %d tokens, recorded %d", got, used)
	}
}

// TestUsageContentTypesAgree checks that the catalog accepts exactly the response types the
// sagemaker package reads a usage report from.
func TestUsageContentTypesAgree(t *testing.T) {
	t.Parallel()
	if c, s := catalog.UsageContentTypes(), sagemaker.ReportContentTypes(); !slices.Equal(c, s) {
		t.Errorf("catalog %v, sagemaker %v", c, s)
	}
}
