package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/client"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

func TestDefaultProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want client.Protocol
	}{
		{"http://localhost:8081", client.ProtocolGRPC},
		{"http://LOCALHOST:8081/", client.ProtocolGRPC},
		{"http://127.0.0.1:8081", client.ProtocolGRPC},
		{"http://127.0.0.2:8081", client.ProtocolGRPC},
		{"http://[::1]:8081", client.ProtocolGRPC},
		{"http://services.localhost:8081", client.ProtocolGRPC},
		// Anything that may be a Lambda deployment, or is not known to be standalone.
		{"https://abcdefghij.execute-api.us-west-2.amazonaws.com/prod", client.ProtocolConnect},
		{"https://abcdefghij.lambda-url.us-west-2.on.aws", client.ProtocolConnect},
		{"https://api.portico.example.com", client.ProtocolConnect},
		{"https://localhost:8443", client.ProtocolConnect}, // TLS: may be a proxy in front of Lambda
		{"http://portico-services.internal:8081", client.ProtocolConnect},
		{"http://10.0.0.5:8081", client.ProtocolConnect},
		{"http://localhost.evil.example", client.ProtocolConnect},
		{"", client.ProtocolConnect},
		{"::not a url", client.ProtocolConnect},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			if got := client.DefaultProtocol(tt.url); got != tt.want {
				t.Errorf("DefaultProtocol(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestParseProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    client.Protocol
		wantErr bool
	}{
		{"", "", false},
		{"grpc", client.ProtocolGRPC, false},
		{"Connect", client.ProtocolConnect, false},
		{"grpcweb", client.ProtocolGRPCWeb, false},
		{"grpc-web", client.ProtocolGRPCWeb, false},
		{"http2", "", true},
		{"grpc+web", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := client.ParseProtocol(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseProtocol(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNewRefusesUnknownProtocol(t *testing.T) {
	t.Parallel()
	e := start(t)
	cfg := e.config()
	cfg.Protocol = "smoke-signals"
	if _, err := client.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "unknown protocol") {
		t.Fatalf("New = %v, want an unknown protocol error", err)
	}
}

// TestProtocolsAgainstStandalone calls the h2c server in each protocol, with the default
// HTTP client of each.
func TestProtocolsAgainstStandalone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		protocol client.Protocol
		want     string // the request's protocol and content type as the server saw them
	}{
		{"", "HTTP/2.0 application/grpc"}, // http://127.0.0.1: gRPC by default
		{client.ProtocolGRPC, "HTTP/2.0 application/grpc"},
		{client.ProtocolConnect, "HTTP/1.1 application/proto"},
		{client.ProtocolGRPCWeb, "HTTP/1.1 application/grpc-web+proto"},
	}
	for _, tt := range tests {
		t.Run(name(tt.protocol), func(t *testing.T) {
			t.Parallel()
			e := start(t)
			cfg := e.config()
			cfg.Protocol = tt.protocol
			c, err := client.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{}); err != nil {
				t.Fatalf("GetMe: %v", err)
			}
			if got := e.sawProtocol.Load(); got != tt.want {
				t.Errorf("server saw %v, want %v", got, tt.want)
			}
			if got := streamText(t, c); got != "hello world" {
				t.Errorf("stream = %q", got)
			}
		})
	}
}

// lambdaURL is what a deployment behind API Gateway looks like; the Transport delivers
// requests to the function whatever the host.
const lambdaURL = "https://abcdefghij.execute-api.us-east-1.amazonaws.com"

// startLambda serves e.handler as a Lambda function through lambdahttp, polling a local
// Runtime API, and returns an HTTP client whose requests reach it as events of the given
// shape (Function URL or API Gateway), as AWS would deliver them.
func startLambda(t *testing.T, e *env, event lambdahttp.Event) *http.Client {
	t.Helper()
	api := runtimeapitest.New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- lambdahttp.Serve(ctx, lambdahttp.Config{RuntimeAPI: api.Addr(), Event: event}, e.handler)
	}()
	t.Cleanup(func() {
		cancel()
		api.Close()
		if err := <-done; err != nil {
			t.Errorf("lambdahttp.Serve: %v", err)
		}
	})
	return &http.Client{Transport: &runtimeapitest.Transport{Server: api, Event: string(event)}}
}

// TestProtocolsThroughLambda calls a function served by the Lambda adapter behind the local
// Runtime API, as behind a Function URL and behind API Gateway: Connect (the default for an
// https URL) and gRPC-Web work, unary with retries on Unavailable and server streaming; gRPC
// is refused with the adapter's Unimplemented, which is why it is not the default there.
func TestProtocolsThroughLambda(t *testing.T) {
	t.Parallel()
	tests := []struct {
		protocol    client.Protocol
		contentType string
	}{
		{"", "application/proto"}, // https: Connect by default
		{client.ProtocolConnect, "application/proto"},
		{client.ProtocolGRPCWeb, "application/grpc-web+proto"},
	}
	for _, event := range []lambdahttp.Event{lambdahttp.EventFunctionURL, lambdahttp.EventAPIGateway} {
		for _, tt := range tests {
			t.Run(string(event)+"/"+name(tt.protocol), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				cfg := e.config()
				cfg.BaseURL, cfg.Protocol, cfg.HTTPClient = lambdaURL, tt.protocol, startLambda(t, e, event)
				c, err := client.New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				me, err := c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{})
				if err != nil {
					t.Fatalf("GetMe: %v", err)
				}
				if me.GetPrincipal().GetUsername() == "" || e.identity.calls.Load() != 3 {
					t.Errorf("GetMe = %v after %d calls, want an answer after 3 (two Unavailable retried)", me, e.identity.calls.Load())
				}
				if got, _ := e.sawProtocol.Load().(string); !strings.HasSuffix(got, " "+tt.contentType) {
					t.Errorf("function saw %q, want content type %s", got, tt.contentType)
				}
				if got := streamText(t, c); got != "hello world" {
					t.Errorf("stream = %q", got)
				}
			})
		}
		t.Run(string(event)+"/grpc refused", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := e.config()
			cfg.BaseURL, cfg.Protocol, cfg.HTTPClient = lambdaURL, client.ProtocolGRPC, startLambda(t, e, event)
			c, err := client.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{})
			if connect.CodeOf(err) != connect.CodeUnimplemented || !strings.Contains(err.Error(), "not served on Lambda") {
				t.Fatalf("GetMe over gRPC through Lambda = %v, want Unimplemented from the adapter", err)
			}
		})
	}
}

// streamText runs ConverseStream and returns the streamed text.
func streamText(t *testing.T, c *client.Client) string {
	t.Helper()
	stream, err := c.Inference.ConverseStream(context.Background(), &inferencev1.ConverseStreamRequest{ModelId: "m"})
	if err != nil {
		t.Fatalf("ConverseStream: %v", err)
	}
	defer func() { _ = stream.Close() }()
	var b strings.Builder
	for stream.Receive() {
		b.WriteString(stream.Msg().GetDelta().GetText())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("ConverseStream: %v", err)
	}
	return b.String()
}

// name names a subtest after its protocol; the empty protocol is the default.
func name(p client.Protocol) string {
	if p == "" {
		return "default"
	}
	return string(p)
}
