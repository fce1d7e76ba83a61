package telemetry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/telemetry"
)

func TestParseExport(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-api-key"
	tests := []struct {
		name    string
		in      telemetry.ExportValues
		check   func(telemetry.Export) bool
		wantErr []string // substrings of the error; nil: no error
	}{
		{"nothing set: no export", telemetry.ExportValues{},
			func(e telemetry.Export) bool { return e.Endpoint == "" && e.Timeout == 0 && e.Headers == nil }, nil},
		{"endpoint, headers, timeout", telemetry.ExportValues{Endpoint: "https://otel.example/", Headers: "x-key=a%20b, ,x-tenant = t", Timeout: "2500"},
			func(e telemetry.Export) bool {
				return e.Endpoint == "https://otel.example" && e.Headers.Get("X-Key") == "a b" && e.Headers.Get("X-Tenant") == "t" && e.Timeout == 2500*time.Millisecond
			}, nil},
		{"service name and resource attributes", telemetry.ExportValues{ServiceName: " svc ", ResourceAttributes: "deployment.environment=prod,team=ml"},
			func(e telemetry.Export) bool {
				return e.ServiceName == "svc" && e.ResourceAttributes["deployment.environment"] == "prod" && e.ResourceAttributes["team"] == "ml"
			}, nil},
		{"endpoint without scheme", telemetry.ExportValues{Endpoint: "localhost:4318"}, nil, []string{telemetry.OTLPEndpointEnv}},
		{"timeout not a number", telemetry.ExportValues{Timeout: "10s"}, nil, []string{telemetry.OTLPTimeoutEnv}},
		{"timeout zero", telemetry.ExportValues{Timeout: "0"}, nil, []string{telemetry.OTLPTimeoutEnv}},
		{"header without =, value never echoed", telemetry.ExportValues{Headers: "authorization=Bearer " + secret + "," + secret}, nil, []string{telemetry.OTLPHeadersEnv, "item 2"}},
		{"attribute without key", telemetry.ExportValues{ResourceAttributes: "=x"}, nil, []string{telemetry.ResourceAttributesEnv}},
		{"every problem at once", telemetry.ExportValues{Endpoint: "ftp://x", Timeout: "-1", Headers: "nokey"}, nil,
			[]string{telemetry.OTLPEndpointEnv, telemetry.OTLPTimeoutEnv, telemetry.OTLPHeadersEnv}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := telemetry.ParseExport(tt.in)
			if tt.wantErr == nil {
				if err != nil || !tt.check(e) {
					t.Errorf("ParseExport = %+v, %v", e, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseExport = %+v, want an error", e)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats a header value", err)
			}
		})
	}
}
