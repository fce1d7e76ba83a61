package metering_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/portico-dev/portico/services/metering"
)

func TestEMFRecorder(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := metering.NewEMFRecorder(&buf, "portico-inference")
	r.Record(context.Background(), metering.Observation{
		ModelID: "m1", Provider: "bedrock", Outcome: "resource_exhausted", InputTokens: 0, OutputTokens: 0,
		Latency: 1500 * time.Microsecond, UpstreamThrottled: true,
	})
	r.Record(context.Background(), metering.Observation{
		ModelID: "m1", Provider: "bedrock", Outcome: "ok", InputTokens: 10, OutputTokens: 20,
		Latency: 2 * time.Second, TimeToFirstToken: 300 * time.Millisecond,
	})
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	type doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Model, Outcome                                                 string
		Requests, Errors, UpstreamThrottles, InputTokens, OutputTokens int64
		Latency, TimeToFirstToken                                      float64
	}
	var a, b doc
	if err := json.Unmarshal(lines[0], &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &b); err != nil {
		t.Fatal(err)
	}
	cw := a.AWS.CloudWatchMetrics
	if len(cw) != 1 || cw[0].Namespace != "Portico" || a.AWS.Timestamp == 0 || len(cw[0].Dimensions) == 0 || cw[0].Dimensions[0][0] != "Model" {
		t.Fatalf("directive = %+v", a.AWS)
	}
	names := map[string]bool{}
	for _, m := range cw[0].Metrics {
		names[m.Name] = true
	}
	for _, n := range []string{"Requests", "Errors", "UpstreamThrottles", "InputTokens", "OutputTokens", "Latency"} {
		if !names[n] {
			t.Errorf("metric %s missing from %v", n, names)
		}
	}
	if names["TimeToFirstToken"] {
		t.Error("TimeToFirstToken declared without a value")
	}
	if a.Model != "m1" || a.Requests != 1 || a.Errors != 1 || a.UpstreamThrottles != 1 || a.Latency != 1.5 {
		t.Errorf("throttled line = %+v", a)
	}
	if b.Errors != 0 || b.UpstreamThrottles != 0 || b.InputTokens != 10 || b.OutputTokens != 20 || b.Latency != 2000 || b.TimeToFirstToken != 300 {
		t.Errorf("ok line = %+v", b)
	}
}

func TestNewRecorder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		function string
		lines    int
	}{
		{"local", "", 0},
		{"lambda", "fn", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			var out bytes.Buffer
			r, err := metering.NewRecorder(mp, tt.function, &out)
			if err != nil {
				t.Fatal(err)
			}
			r.Record(context.Background(), metering.Observation{ModelID: "m", Provider: "bedrock", Outcome: "ok", InputTokens: 3, OutputTokens: 4, Latency: time.Second, TimeToFirstToken: time.Millisecond})
			r.Record(context.Background(), metering.Observation{ModelID: "m", Provider: "bedrock", Outcome: "resource_exhausted", UpstreamThrottled: true})
			if got := bytes.Count(out.Bytes(), []byte("\n")); got != 2*tt.lines {
				t.Errorf("%d EMF lines, want %d", got, 2*tt.lines)
			}
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			sums := map[string]int64{}
			hists := map[string]uint64{}
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					switch d := m.Data.(type) {
					case metricdata.Sum[int64]:
						for _, p := range d.DataPoints {
							sums[m.Name] += p.Value
						}
					case metricdata.Histogram[float64]:
						for _, p := range d.DataPoints {
							hists[m.Name] += p.Count
						}
					}
				}
			}
			want := map[string]int64{
				"portico.inference.requests": 2, "portico.inference.errors": 1,
				"portico.inference.upstream_throttles": 1, "portico.inference.tokens": 7,
			}
			for k, v := range want {
				if sums[k] != v {
					t.Errorf("%s = %d, want %d", k, sums[k], v)
				}
			}
			if hists["portico.inference.latency"] != 2 || hists["portico.inference.time_to_first_token"] != 1 {
				t.Errorf("histograms = %v", hists)
			}
		})
	}
}
