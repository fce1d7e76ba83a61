package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/portico-dev/portico/services/platform/telemetry"
)

// collector is an OTLP/HTTP receiver that decodes what it gets.
type collector struct {
	mu      sync.Mutex
	traces  []*tracepb.TracesData
	metrics []*metricpb.MetricsData
	headers []http.Header
	status  int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers = append(c.headers, r.Header.Clone())
	if c.status != 0 {
		w.WriteHeader(c.status)
		return
	}
	switch r.URL.Path {
	case "/v1/traces":
		var d tracepb.TracesData
		if proto.Unmarshal(body, &d) == nil {
			c.traces = append(c.traces, &d)
		}
	case "/v1/metrics":
		var d metricpb.MetricsData
		if proto.Unmarshal(body, &d) == nil {
			c.metrics = append(c.metrics, &d)
		}
	}
}

func TestOTLPExportContent(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	export, err := telemetry.ParseExport(telemetry.ExportValues{
		Endpoint: srv.URL + "/",
		Headers:  "x-api-key=s%20ecret, x-tenant = portico",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := telemetry.NewProviders(ctx, "otlp-test", export)
	if err != nil {
		t.Fatal(err)
	}
	tracer := p.TracerProvider.Tracer("portico/test", trace.WithInstrumentationVersion("v9"))
	ctx, parent := tracer.Start(ctx, "parent")
	_, child := tracer.Start(ctx, "child", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("rpc.method", "Echo"), attribute.Int64("n", 7),
			attribute.Bool("ok", true), attribute.StringSlice("tags", []string{"a", "b"})))
	child.AddEvent("sent", trace.WithAttributes(attribute.Float64("size", 1.5)))
	child.SetStatus(codes.Error, "boom")
	child.End()
	parent.End()
	meter := p.MeterProvider.Meter("portico/test")
	counter, _ := meter.Int64Counter("requests")
	counter.Add(ctx, 3, metric.WithAttributes(attribute.String("code", "ok")))
	hist, _ := meter.Float64Histogram("latency", metric.WithUnit("ms"))
	hist.Record(ctx, 12)
	hist.Record(ctx, 30)
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	spans := map[string]*tracepb.Span{}
	var serviceName string
	for _, d := range col.traces {
		for _, rs := range d.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					serviceName = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				if ss.GetScope().GetName() != "portico/test" || ss.GetScope().GetVersion() != "v9" {
					t.Errorf("scope %v", ss.GetScope())
				}
				for _, s := range ss.GetSpans() {
					spans[s.GetName()] = s
				}
			}
		}
	}
	if serviceName != "otlp-test" {
		t.Errorf("service.name %q", serviceName)
	}
	c, par := spans["child"], spans["parent"]
	if c == nil || par == nil {
		t.Fatalf("spans %v", spans)
	}
	if !proto.Equal(&tracepb.Span{SpanId: c.GetParentSpanId()}, &tracepb.Span{SpanId: par.GetSpanId()}) ||
		string(c.GetTraceId()) != string(par.GetTraceId()) || len(c.GetTraceId()) != 16 {
		t.Errorf("child is not linked to its parent: %x/%x vs %x/%x", c.GetTraceId(), c.GetParentSpanId(), par.GetTraceId(), par.GetSpanId())
	}
	if c.GetKind() != tracepb.Span_SPAN_KIND_SERVER || c.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR ||
		c.GetStatus().GetMessage() != "boom" || c.GetEndTimeUnixNano() < c.GetStartTimeUnixNano() {
		t.Errorf("child span %v", c)
	}
	attrs := map[string]string{}
	for _, kv := range c.GetAttributes() {
		attrs[kv.GetKey()] = kv.GetValue().String()
	}
	if len(attrs) != 4 || len(c.GetEvents()) != 1 || c.GetEvents()[0].GetName() != "sent" {
		t.Errorf("attributes %v, events %v", attrs, c.GetEvents())
	}

	var sum int64
	var histCount uint64
	for _, d := range col.metrics {
		for _, rm := range d.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					switch m.GetName() {
					case "requests":
						for _, dp := range m.GetSum().GetDataPoints() {
							sum += dp.GetAsInt()
						}
						if !m.GetSum().GetIsMonotonic() {
							t.Error("counter not monotonic")
						}
					case "latency":
						for _, dp := range m.GetHistogram().GetDataPoints() {
							histCount += dp.GetCount()
							if dp.GetMin() != 12 || dp.GetMax() != 30 || dp.GetSum() != 42 {
								t.Errorf("histogram point %v", dp)
							}
						}
						if m.GetUnit() != "ms" {
							t.Errorf("unit %q", m.GetUnit())
						}
					}
				}
			}
		}
	}
	if sum != 3 || histCount != 2 {
		t.Errorf("counter sum %d, histogram count %d", sum, histCount)
	}
	for _, h := range col.headers {
		if h.Get("X-Api-Key") != "s ecret" || h.Get("X-Tenant") != "portico" || h.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("headers %v", h)
		}
	}
}

func TestOTLPCollectorErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint func(*httptest.Server) string
		newErr   bool
	}{
		{"collector refuses", func(s *httptest.Server) string { return s.URL }, false},
		{"not a URL", func(*httptest.Server) string { return "localhost:4318" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(&collector{status: http.StatusServiceUnavailable})
			t.Cleanup(srv.Close)
			p, err := telemetry.NewProviders(context.Background(), "x", telemetry.Export{Endpoint: tt.endpoint(srv)})
			if (err != nil) != tt.newErr {
				t.Fatalf("NewProviders: %v", err)
			}
			if err != nil {
				return
			}
			_, span := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
			span.End()
			if err := p.ForceFlush(context.Background()); err == nil || !strings.Contains(err.Error(), "status 503") {
				t.Errorf("ForceFlush against a failing collector: %v", err)
			}
		})
	}
}
