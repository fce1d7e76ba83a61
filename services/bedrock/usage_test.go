package bedrock_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// TestReportedUsageClamped answers Converse with usage figures a request could not have
// used: they are not believed, and the usage is Portico's estimate, marked clamped.
func TestReportedUsageClamped(t *testing.T) {
	t.Parallel()
	lim := bedrock.Limits{MaxOutputTokens: 100, MaxInputTokens: 1000}
	tests := []struct {
		name          string
		in, out       int64
		clamped       bool
		wantIn, wantO int64 // when not clamped
	}{
		{"in range", 12, 30, false, 12, 30},
		{"exactly the bounds", 1000, 100, false, 1000, 100},
		{"zero", 0, 0, false, 0, 0},
		{"negative input", -5, 30, true, 0, 0},
		{"negative output", 12, -1, true, 0, 0},
		{"smallest int32", -2147483648, -2147483648, true, 0, 0},
		{"input above the context window", 1001, 30, true, 0, 0},
		{"output above max tokens", 12, 101, true, 0, 0},
		{"largest int32", 2147483647, 2147483647, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"output":{"message":{"role":"assistant","content":[{"text":"twelve bytes"}]}},"stopReason":"end_turn",`+
					`"usage":{"inputTokens":%d,"outputTokens":%d,"totalTokens":%d},"metrics":{"latencyMs":1}}`, tt.in, tt.out, tt.in)
			}))
			t.Cleanup(ts.Close)
			c := bedrock.New(sdkConfig(ts.URL, "portico-dev-secret"), awsrt.WithMaxAttempts(1))
			req := ask("amazon.nova-lite-v1:0", "hello there")
			res, err := c.Converse(context.Background(), req, bedrock.Call{Limits: lim})
			if err != nil {
				t.Fatalf("Converse: %v", err)
			}
			u := res.Usage
			if tt.clamped {
				wantIn := bedrock.EstimateInputTokens(req)
				if !u.Clamped || !u.Estimated || u.InputTokens != wantIn || u.OutputTokens != 3 || u.TotalTokens != wantIn+3 {
					t.Errorf("usage = %+v, want the estimate (%d in, 3 out), clamped", u, wantIn)
				}
				return
			}
			if u.Clamped || u.Estimated || u.InputTokens != tt.wantIn || u.OutputTokens != tt.wantO || u.TotalTokens != tt.wantIn+tt.wantO {
				t.Errorf("usage = %+v, want %d in %d out reported", u, tt.wantIn, tt.wantO)
			}
		})
	}
}
