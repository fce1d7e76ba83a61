package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/server/servertest"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// TestOpenTelemetryExport checks that RPC spans and metrics reach an OTLP/HTTP collector
// when OTEL_EXPORTER_OTLP_ENDPOINT is set, and that nothing is sent when it is not.
func TestOpenTelemetryExport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		export bool
	}{
		{"exported", true},
		{"silent", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu       sync.Mutex
				received = map[string][]byte{}
			)
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				received[r.URL.Path] = append(received[r.URL.Path], body...)
				mu.Unlock()
			}))
			t.Cleanup(collector.Close)
			var export telemetry.Export
			if tt.export {
				export.Endpoint = collector.URL
			}
			providers, err := telemetry.NewProviders(context.Background(), "server-test", export)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(server.WithAuth(requireToken), server.WithTelemetry(providers))
			if err != nil {
				t.Fatal(err)
			}
			srv.Mount(servertest.NewHandler(servertest.Options{}, srv.HandlerOptions()...))
			base := serve(t, srv)

			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](http.DefaultClient, base+servertest.EchoProcedure)
			req := connect.NewRequest(wrapperspb.String("x"))
			req.Header().Set("Authorization", goodToken)
			if _, err := client.CallUnary(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if err := providers.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			traces, metrics := received["/v1/traces"], received["/v1/metrics"]
			if !tt.export {
				if len(received) != 0 {
					t.Errorf("silent providers sent %v", received)
				}
				return
			}
			if !bytes.Contains(traces, []byte(servertest.ServiceName+"/Echo")) {
				t.Errorf("no span for Echo in %d bytes of traces", len(traces))
			}
			if !bytes.Contains(metrics, []byte("rpc.server")) {
				t.Errorf("no rpc.server metrics in %d bytes of metrics", len(metrics))
			}
		})
	}
}
