package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	plog "github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/server/servertest"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// Tokens the stand-in authentication accepts: a machine client's, and one issued to the
// BFF's client (bffClientID).
const (
	goodToken   = "Bearer good"
	bffToken    = "Bearer bff"
	bffClientID = "portico-web"
)

// callerKey carries the stand-in authentication's verified client id in the context.
type callerKey struct{}

// requireToken is a stand-in for the real authentication middleware: it puts the verified
// caller (here only its client id) in the context, as authn puts the principal.
func requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var clientID string
		switch r.Header.Get("Authorization") {
		case goodToken:
			clientID = "portico-machine"
		case bffToken:
			clientID = bffClientID
		default:
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, clientID)))
	})
}

// trustBFF is the stand-in of principal.ClientIn(bffClientID): it trusts the BFF's token.
func trustBFF(ctx context.Context) bool {
	id, _ := ctx.Value(callerKey{}).(string)
	return id == bffClientID
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type running struct {
	url  string
	logs *syncBuffer
}

// start serves a server with the echo service and an unimplemented IdentityService on a
// loopback port until the test ends.
func start(t *testing.T, opts ...server.Option) *running {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]server.Option{
		server.WithAuth(requireToken),
		server.WithLogger(telemetry.NewLogger(logs, plog.JSON, slog.LevelDebug)),
	}, opts...)
	srv, err := server.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(servertest.NewHandler(servertest.Options{CountPause: time.Millisecond}, srv.HandlerOptions()...))
	srv.Mount(identityv1connect.NewIdentityServiceHandler(identityv1connect.UnimplementedIdentityServiceHandler{}, srv.HandlerOptions()...))
	return &running{url: serve(t, srv), logs: logs}
}

// serve serves srv on a loopback port until the test ends (then checks Serve returned no
// error) and returns its base URL.
func serve(t *testing.T, srv *server.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// h2cClient speaks HTTP/2 without TLS (prior knowledge), as gRPC clients do.
func h2cClient() *http.Client {
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}

var protocols = []struct {
	name   string
	client *http.Client
	opts   []connect.ClientOption
}{
	{"connect", http.DefaultClient, nil},
	{"connect-h2c-gzip", h2cClient(), []connect.ClientOption{connect.WithSendGzip()}},
	{"grpc", h2cClient(), []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
}

func withToken(req connect.AnyRequest, token string) {
	if token != "" {
		req.Header().Set("Authorization", token)
	}
}

func TestUnaryByProtocol(t *testing.T) {
	t.Parallel()
	r := start(t)
	tests := []struct {
		name      string
		procedure string
		token     string
		input     string
		want      string
		code      connect.Code
	}{
		{"echo", servertest.EchoProcedure, goodToken, "hi", "echo: hi", 0},
		{"no token", servertest.EchoProcedure, "", "hi", "", connect.CodeUnauthenticated},
		{"bad token", servertest.EchoProcedure, "Bearer bad", "hi", "", connect.CodeUnauthenticated},
		{"panic becomes internal", servertest.PanicProcedure, goodToken, "", "", connect.CodeInternal},
		{"unknown procedure", "/" + servertest.ServiceName + "/Nope", goodToken, "", "", connect.CodeUnimplemented},
		{"big message", servertest.EchoProcedure, goodToken, strings.Repeat("x", 5<<20), "", connect.CodeResourceExhausted},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](p.client, r.url+tt.procedure, p.opts...)
				req := connect.NewRequest(wrapperspb.String(tt.input))
				withToken(req, tt.token)
				resp, err := client.CallUnary(context.Background(), req)
				if tt.code != 0 {
					if connect.CodeOf(err) != tt.code {
						t.Fatalf("err = %v, want code %v", err, tt.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if resp.Msg.GetValue() != tt.want {
					t.Errorf("got %q, want %q", resp.Msg.GetValue(), tt.want)
				}
				if resp.Header().Get("Echo-Header") != "yes" || resp.Trailer().Get("Echo-Trailer") != "yes" {
					t.Errorf("header %v trailer %v, want Echo-Header and Echo-Trailer", resp.Header(), resp.Trailer())
				}
				if !telemetry.ValidRequestID(resp.Header().Get("X-Request-Id")) {
					t.Errorf("no request id in %v", resp.Header())
				}
			})
		}
	}
}

func TestServerStreamByProtocol(t *testing.T) {
	t.Parallel()
	r := start(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			client := connect.NewClient[wrapperspb.UInt32Value, wrapperspb.StringValue](p.client, r.url+servertest.CountProcedure, p.opts...)
			req := connect.NewRequest(wrapperspb.UInt32(5))
			withToken(req, goodToken)
			stream, err := client.CallServerStream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for stream.Receive() {
				got = append(got, stream.Msg().GetValue())
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != "1,2,3,4,5" {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestUnauthenticatedRoutes(t *testing.T) {
	t.Parallel()
	r := start(t)
	t.Run("healthz", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(r.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("health", func(t *testing.T) {
		t.Parallel()
		for _, svc := range []string{"", identityv1connect.IdentityServiceName} {
			resp, err := grpchealth.NewClient(h2cClient(), r.url, connect.WithGRPC()).Check(context.Background(), &grpchealth.CheckRequest{Service: svc})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != grpchealth.StatusServing {
				t.Errorf("%q: status %v", svc, resp.Status)
			}
		}
	})
	t.Run("reflection", func(t *testing.T) {
		t.Parallel()
		stream := grpcreflect.NewClient(h2cClient(), r.url, connect.WithGRPC()).NewStream(context.Background())
		defer func() { _, _ = stream.Close() }()
		names, err := stream.ListServices()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			got = append(got, string(n))
		}
		joined := strings.Join(got, ",")
		for _, want := range []string{identityv1connect.IdentityServiceName, grpchealth.HealthV1ServiceName, grpcreflect.ReflectV1ServiceName} {
			if !strings.Contains(joined, want) {
				t.Errorf("reflection lists %v, missing %s", got, want)
			}
		}
		files, err := stream.FileContainingSymbol(identityv1connect.IdentityServiceName)
		if err != nil || len(files) == 0 {
			t.Errorf("FileContainingSymbol: %v, %d files", err, len(files))
		}
	})
	t.Run("identity behind auth", func(t *testing.T) {
		t.Parallel()
		client := identityv1connect.NewIdentityServiceClient(h2cClient(), r.url, connect.WithGRPC())
		_, err := client.GetMe(context.Background(), &identityv1.GetMeRequest{})
		if connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("GetMe without token: %v", err)
		}
	})
}

// TestRequestIDAndAccessLog: every request gets an id of the server's own, returned once as
// X-Request-Id and carried by every log line of the request; a caller's X-Request-Id is
// adopted only when its token was issued to a trusted client (the BFF), and only when well
// formed.
func TestRequestIDAndAccessLog(t *testing.T) {
	t.Parallel()
	r := start(t, server.WithTrustedCaller(trustBFF))
	tests := []struct {
		name, token, procedure, inbound string
		adopt                           bool
	}{
		{"BFF's id adopted", bffToken, servertest.EchoProcedure, "0af7651916cd43dd8448eb211c80319c", true},
		{"BFF's id adopted on a panic", bffToken, servertest.PanicProcedure, "bff-req-2", true},
		{"machine client's id ignored", goodToken, servertest.EchoProcedure, "client-req-1", false},
		{"unauthenticated caller's id ignored", "Bearer bad", servertest.EchoProcedure, "anon-req-1", false},
		{"no id from the BFF", bffToken, servertest.EchoProcedure, "", false},
		{"BFF's id with spaces", bffToken, servertest.EchoProcedure, "bad id with spaces", false},
		{"BFF's id forging a log field", bffToken, servertest.EchoProcedure, "x\" level=ERROR msg=forged", false},
		{"BFF's id too long", bffToken, servertest.EchoProcedure, strings.Repeat("z", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Raw Connect unary JSON, so the answer's headers are seen as sent whatever the outcome.
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url+tt.procedure, strings.NewReader(`"secret prompt"`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tt.token)
			if tt.inbound != "" {
				req.Header.Set("X-Request-Id", tt.inbound)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			ids := resp.Header.Values("X-Request-Id")
			if len(ids) != 1 {
				t.Fatalf("X-Request-Id %q, want one", ids)
			}
			id := ids[0]
			if (id == tt.inbound) != tt.adopt || !telemetry.ValidRequestID(id) {
				t.Fatalf("request id %q (inbound %q, adopt %v)", id, tt.inbound, tt.adopt)
			}
			// The access log line is written after the response; wait for it.
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(r.logs.String(), `"request_id":"`+id+`"`) {
				if time.Now().After(deadline) {
					t.Fatalf("no log line with request id %s in %s", id, r.logs.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			lines := linesWith(r.logs.String(), id)
			if tt.procedure == servertest.PanicProcedure && !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "panic in RPC handler") }) {
				t.Errorf("the panic's log line lacks the request id: %q", lines)
			}
			if tt.inbound != "" && !tt.adopt && strings.Contains(r.logs.String(), `"request_id":"`+tt.inbound) {
				t.Errorf("a log line carries the caller's id %q", tt.inbound)
			}
			logs := r.logs.String()
			for _, leaked := range []string{"secret prompt", "Bearer good", "Bearer bff"} {
				if strings.Contains(logs, leaked) {
					t.Errorf("logs contain %q", leaked)
				}
			}
			if tt.token != "Bearer bad" && !strings.Contains(logs, `"procedure":"`+tt.procedure+`","code":"`) {
				t.Errorf("access log lacks procedure and code: %s", logs)
			}
		})
	}
}

// TestHandlerSeesTheRequestID: the handler reads the request's id (adopted or made) from
// X-Request-Id, never the untrusted caller's.
func TestHandlerSeesTheRequestID(t *testing.T) {
	t.Parallel()
	r := start(t, server.WithTrustedCaller(trustBFF))
	for _, tt := range []struct {
		token string
		adopt bool
	}{{bffToken, true}, {goodToken, false}} {
		client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](http.DefaultClient, r.url+servertest.HeadersProcedure)
		req := connect.NewRequest(wrapperspb.String("X-Request-Id"))
		withToken(req, tt.token)
		req.Header().Set("X-Request-Id", "caller-1")
		resp, err := client.CallUnary(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		seen, returned := resp.Msg.GetValue(), resp.Header().Get("X-Request-Id")
		if seen != returned || (seen == "caller-1") != tt.adopt {
			t.Fatalf("%s: handler saw %q, answer carries %q", tt.token, seen, returned)
		}
	}
}

// linesWith returns the log lines that carry request id id.
func linesWith(logs, id string) []string {
	var out []string
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, `"request_id":"`+id+`"`) {
			out = append(out, line)
		}
	}
	return out
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	r := start(t, server.WithRPCTimeout(50*time.Millisecond, 100*time.Millisecond))
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"default applies without client deadline", 0},
		{"client deadline capped at maximum", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](http.DefaultClient, r.url+servertest.SleepProcedure)
			req := connect.NewRequest(wrapperspb.String(""))
			withToken(req, goodToken)
			_, err := client.CallUnary(ctx, req)
			if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Errorf("err = %v, want deadline_exceeded", err)
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		count    uint32
		drain    time.Duration
		complete bool
	}{
		{"in-flight stream finishes within drain", 20, 10 * time.Second, true},
		{"stream cut after drain timeout", 1000, 100 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := server.New(server.WithAuth(requireToken), server.WithDrainTimeout(tt.drain))
			if err != nil {
				t.Fatal(err)
			}
			srv.Mount(servertest.NewHandler(servertest.Options{CountPause: 10 * time.Millisecond}, srv.HandlerOptions()...))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			url := "http://" + ln.Addr().String()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()

			client := connect.NewClient[wrapperspb.UInt32Value, wrapperspb.StringValue](h2cClient(), url+servertest.CountProcedure, connect.WithGRPC())
			req := connect.NewRequest(wrapperspb.UInt32(tt.count))
			withToken(req, goodToken)
			stream, err := client.CallServerStream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !stream.Receive() {
				t.Fatalf("first message: %v", stream.Err())
			}
			cancel() // as SIGTERM would
			n := 1
			for stream.Receive() {
				n++
			}
			if complete := stream.Err() == nil && n == int(tt.count); complete != tt.complete {
				t.Errorf("received %d of %d, err %v; complete = %v, want %v", n, tt.count, stream.Err(), complete, tt.complete)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return after shutdown")
			}
			if resp, err := http.Get(url + "/healthz"); err == nil {
				_ = resp.Body.Close()
				t.Error("server still accepts connections after shutdown")
			}
		})
	}
}

func TestNewRequiresAuth(t *testing.T) {
	t.Parallel()
	if _, err := server.New(); err == nil || !strings.Contains(err.Error(), "WithAuth") {
		t.Errorf("New() = %v, want an error naming WithAuth", err)
	}
}

// TestOneConnectionCarriesABurst checks that 500 streams at once, as the BFF forwards a
// burst of browsers' calls, share one h2c connection instead of the transport dialling more
// past Go's default limit of 250 streams per connection.
func TestOneConnectionCarriesABurst(t *testing.T) {
	t.Parallel()
	const streams = 500
	var arrived sync.WaitGroup
	arrived.Add(streams)
	release := make(chan struct{})
	srv, err := server.New(server.WithAuth(requireToken))
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleHTTP("/burst", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release // every stream is open at once
	}))
	base := serve(t, srv)

	var dials atomic.Int32
	tr := &http.Transport{Protocols: new(http.Protocols), DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := base + "/burst"
	// One call first, so the connection has the server's settings before the burst (a new
	// connection allows 100 streams until they arrive).
	go func() { arrived.Wait(); close(release) }()
	first, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = first.Body.Close()
	var calls sync.WaitGroup
	for range streams {
		calls.Go(func() {
			resp, err := client.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			_ = resp.Body.Close()
		})
	}
	calls.Wait()
	if n := dials.Load(); n != 1 {
		t.Errorf("%d streams at once took %d connections, want 1", streams, n)
	}
}
