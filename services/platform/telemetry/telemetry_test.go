package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"", false},
		{"abc-123_X.y:z", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"has space", false},
		{"new\nline", false},
		{`quote"`, false},
		{"ünïcode", false},
		{"1-67891233-abcdef012345678912345678", true}, // an X-Amzn-Trace-Id root
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			if got := telemetry.ValidRequestID(tt.id); got != tt.want {
				t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestLoggerAddsRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, logs.JSON, slog.LevelInfo).With("component", "test")
	log.InfoContext(telemetry.WithRequestID(context.Background(), "rid-1"), "hello")
	log.DebugContext(context.Background(), "dropped")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("one JSON record expected, got %q: %v", buf.String(), err)
	}
	if rec["request_id"] != "rid-1" || rec["component"] != "test" || rec["msg"] != "hello" {
		t.Errorf("record = %v", rec)
	}
}

func TestProviders(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		paths []string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(collector.Close)
	tests := []struct {
		name      string
		endpoint  string
		exporting bool
	}{
		{"silent without endpoint", "", false},
		{"exports to endpoint", collector.URL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p, err := telemetry.NewProviders(ctx, "telemetry-test", telemetry.Export{Endpoint: tt.endpoint})
			if err != nil {
				t.Fatal(err)
			}
			if p.Exporting != tt.exporting {
				t.Fatalf("Exporting = %v, want %v", p.Exporting, tt.exporting)
			}
			_, span := p.TracerProvider.Tracer("t").Start(ctx, "op")
			span.End()
			counter, err := p.MeterProvider.Meter("t").Int64Counter("c")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(ctx, 1)
			if err := p.ForceFlush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if !tt.exporting {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			got := strings.Join(paths, ",")
			if !strings.Contains(got, "/v1/traces") || !strings.Contains(got, "/v1/metrics") {
				t.Errorf("collector saw %q, want /v1/traces and /v1/metrics", got)
			}
		})
	}
}
