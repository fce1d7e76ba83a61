package inference_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/platform/awsrt"
	"github.com/portico-dev/portico/services/store"
)

// TestBedrockUsageSource runs Converse against a Bedrock that reports the usage given, and
// checks what the audit record says: a count the request could not have used is replaced by
// the estimate and the record says clamped; counters never go down.
func TestBedrockUsageSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in, out int64
		source  store.UsageSource
	}{
		{"in range", 9, 3, store.UsageReported},
		{"negative input", -100000, 3, store.UsageClamped},
		{"negative output", 9, -2147483648, store.UsageClamped},
		{"above the context window", 200001, 3, store.UsageClamped},
		{"above max tokens", 9, 101, store.UsageClamped},
		{"largest int32 pair", 2147483647, 2147483647, store.UsageClamped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"output":{"message":{"role":"assistant","content":[{"text":"twelve bytes"}]}},"stopReason":"end_turn",`+
					`"usage":{"inputTokens":%d,"outputTokens":%d,"totalTokens":0},"metrics":{"latencyMs":1}}`, tt.in, tt.out)
			}))
			t.Cleanup(fake.Close)
			h := newHarness(t, options{wrapBedrock: func(inference.BedrockProvider) inference.BedrockProvider {
				return bedrock.New(aws.Config{
					Region: "us-east-1", BaseEndpoint: aws.String(fake.URL),
					Credentials: credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", ""),
				}, awsrt.WithMaxAttempts(1))
			}})
			req := withConfig(ask(haiku, "hello there"), &inferencev1.InferenceConfig{MaxTokens: ptr[int32](100)})
			res, err := h.client("alice").Converse(context.Background(), req)
			if err != nil {
				t.Fatalf("Converse: %v", err)
			}
			rec := h.record("alice", res.GetRequestId())
			if rec.UsageSource != tt.source || rec.UsageEstimated != (tt.source != store.UsageReported) {
				t.Errorf("record source %q estimated %v, want %q", rec.UsageSource, rec.UsageEstimated, tt.source)
			}
			if tt.source == store.UsageReported && (rec.InputTokens != tt.in || rec.OutputTokens != tt.out) {
				t.Errorf("record %d in %d out, want the report", rec.InputTokens, rec.OutputTokens)
			}
			if tt.source == store.UsageClamped && (rec.InputTokens != bedrock.EstimateInputTokens(req) || rec.OutputTokens != 3) {
				t.Errorf("record %d in %d out, want the estimate", rec.InputTokens, rec.OutputTokens)
			}
			if m := res.GetMetrics(); m.GetUsageEstimated() != (tt.source != store.UsageReported) || m.GetInputTokens() != rec.InputTokens {
				t.Errorf("metrics = %v", m)
			}
			h.checkLedger("alice", h.limitsOf("MLUsers"))
		})
	}
}
