package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/server/servertest"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// BenchmarkUnary compares a unary Connect call through the full server (request id, access
// log, authentication stand-in, otelconnect with no-op providers, deadline, limits) with the
// same handler mounted bare, both over loopback HTTP/1.1.
func BenchmarkUnary(b *testing.B) {
	bare := http.NewServeMux()
	bare.Handle(servertest.NewHandler(servertest.Options{}))
	srv, err := server.New(server.WithAuth(requireToken),
		server.WithLogger(telemetry.NewLogger(discard{}, logs.JSON, slog.LevelInfo)))
	if err != nil {
		b.Fatal(err)
	}
	srv.Mount(servertest.NewHandler(servertest.Options{}, srv.HandlerOptions()...))
	for _, bc := range []struct {
		name    string
		handler http.Handler
	}{
		{"bare", bare},
		{"server", srv.Handler()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts := httptest.NewUnstartedServer(bc.handler)
			_ = ts.Listener.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ts.Listener = ln
			ts.Start()
			defer ts.Close()
			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](ts.Client(), ts.URL+servertest.EchoProcedure)
			req := connect.NewRequest(wrapperspb.String("hello"))
			req.Header().Set("Authorization", goodToken)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.CallUnary(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
