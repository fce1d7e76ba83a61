package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/platform/server/servertest"
)

const countPause = 100 * time.Millisecond

var (
	binary string // the echoserver command, built once by TestMain

	functionsMu sync.Mutex
	functions   = map[string]*function{} // one running process per event shape
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdahttp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "echoserver")
	build := exec.Command("go", "build", "-o", binary, "./internal/echoserver")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build echoserver:", err)
		os.Exit(1)
	}
	code := m.Run()
	for _, f := range functions {
		f.stop()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// function is a running echoserver process polling its own Runtime API.
type function struct {
	api    *runtimeapitest.Server
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan error
}

func startFunction(event string, extraEnv ...string) (*function, error) {
	api := runtimeapitest.New()
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		lambdahttp.RuntimeAPIEnv+"="+api.Addr(),
		lambdahttp.EventEnv+"="+event,
		"ECHO_COUNT_PAUSE="+countPause.String(),
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	f := &function{api: api, cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = f.stderr
	if err := cmd.Start(); err != nil {
		api.Close()
		return nil, err
	}
	go func() { f.exited <- cmd.Wait() }()
	return f, nil
}

func (f *function) stop() {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-f.exited:
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
		err = <-f.exited
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "echoserver exit: %v\n", err)
	}
	f.api.Close()
}

// shared returns the package's process for an event shape, starting it on first use.
func shared(t *testing.T, event string) *function {
	t.Helper()
	functionsMu.Lock()
	defer functionsMu.Unlock()
	if f := functions[event]; f != nil {
		return f
	}
	f, err := startFunction(event)
	if err != nil {
		t.Fatal(err)
	}
	functions[event] = f
	return f
}

// client returns an HTTP client whose requests reach the function as events.
func (f *function) client(event string, timeout time.Duration, onInvoke func(*runtimeapitest.Invocation)) *http.Client {
	return &http.Client{Transport: &runtimeapitest.Transport{Server: f.api, Event: event, Timeout: timeout, OnInvoke: onInvoke}}
}

var events = []string{runtimeapitest.FunctionURL, runtimeapitest.APIGateway}

var rpcProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect-proto", nil}, // binary body: base64 in the event
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}}, // text body
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

const baseURL = "https://function.example"

func TestUnaryThroughLambda(t *testing.T) {
	t.Parallel()
	for _, event := range events {
		for _, p := range rpcProtocols {
			t.Run(event+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				f := shared(t, event)
				var inv *runtimeapitest.Invocation
				client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](
					f.client(event, 0, func(i *runtimeapitest.Invocation) { inv = i }), baseURL+servertest.EchoProcedure, p.opts...)
				resp, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("hi")))
				if err != nil {
					t.Fatalf("%v\nfunction log:\n%s", err, f.stderr)
				}
				if resp.Msg.GetValue() != "echo: hi" {
					t.Errorf("got %q", resp.Msg.GetValue())
				}
				if resp.Header().Get("Echo-Header") != "yes" || resp.Trailer().Get("Echo-Trailer") != "yes" {
					t.Errorf("header %v, trailer %v", resp.Header(), resp.Trailer())
				}
				if got := resp.Header().Get("X-Request-Id"); got != inv.ID {
					t.Errorf("X-Request-Id %q, want the Lambda request id %q", got, inv.ID)
				}
				res, err := inv.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !res.Streaming || res.ContentType != "application/vnd.awslambda.http-integration-response" {
					t.Errorf("streaming %v, content type %q", res.Streaming, res.ContentType)
				}
			})
		}
	}
}

func TestServerStreamThroughLambda(t *testing.T) {
	t.Parallel()
	const n = 5
	for _, event := range events {
		for _, p := range rpcProtocols {
			t.Run(event+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				f := shared(t, event)
				var inv *runtimeapitest.Invocation
				client := connect.NewClient[wrapperspb.UInt32Value, wrapperspb.StringValue](
					f.client(event, 0, func(i *runtimeapitest.Invocation) { inv = i }), baseURL+servertest.CountProcedure, p.opts...)
				stream, err := client.CallServerStream(context.Background(), connect.NewRequest(wrapperspb.UInt32(n)))
				if err != nil {
					t.Fatalf("%v\nfunction log:\n%s", err, f.stderr)
				}
				var got []string
				var arrivals []time.Time
				for stream.Receive() {
					got = append(got, stream.Msg().GetValue())
					arrivals = append(arrivals, time.Now())
				}
				if err := stream.Err(); err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, ",") != "1,2,3,4,5" {
					t.Fatalf("got %v", got)
				}
				res, err := inv.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// Streamed as produced: the body reached the Runtime API in several chunks, and
				// the first message arrived (at the Runtime API and at the client) at least one
				// producer pause before the last. A buffered response would arrive all at once.
				if len(res.Chunks) < 2 {
					t.Fatalf("%d chunk(s), want more than one", len(res.Chunks))
				}
				if gap := res.Chunks[len(res.Chunks)-1].At.Sub(res.Chunks[0].At); gap < countPause {
					t.Errorf("chunks arrived within %v, want them spread over at least %v", gap, countPause)
				}
				if gap := arrivals[n-1].Sub(arrivals[0]); gap < countPause {
					t.Errorf("client received messages within %v, want them spread over at least %v", gap, countPause)
				}
			})
		}
	}
}

func TestRawHTTPThroughLambda(t *testing.T) {
	t.Parallel()
	for _, event := range events {
		t.Run(event, func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			payload := []byte{0, 1, 2, 0xff, 'x'}
			req, _ := http.NewRequest(http.MethodPost, baseURL+"/raw/headers?q=1&q=two", bytes.NewReader(payload))
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Add("X-Multi-In", "a")
			req.Header.Add("X-Multi-In", "b")
			req.Header.Set("Cookie", "s=1; t=2")
			req.Header.Set("X-Request-Id", "client-id-1")
			resp, err := f.client(event, 0, nil).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var got struct {
				Method, Path, Cookie, RemoteAddr, RequestID string
				Host, HostHeader                            string
				Query, Multi                                []string
				Body                                        []byte
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Method != http.MethodPost || got.Path != "/raw/headers" || got.Cookie != "s=1; t=2" ||
				got.RemoteAddr != "198.51.100.7:0" || got.RequestID != "client-id-1" || !bytes.Equal(got.Body, payload) ||
				!slices.Equal(got.Query, []string{"1", "two"}) {
				t.Errorf("request as seen by the handler: %+v", got)
			}
			if !strings.HasPrefix(got.Host, "abcdefghij.") || got.HostHeader != "" {
				t.Errorf("host %q, Host header %q; want the event's domain in r.Host only", got.Host, got.HostHeader)
			}
			if strings.Join(got.Multi, ",") != "a,b" {
				t.Errorf("multi-value request header: %q", got.Multi)
			}
			if strings.Join(resp.Header.Values("X-Multi-Out"), ",") != "a,b" {
				t.Errorf("multi-value response header: %q", resp.Header.Values("X-Multi-Out"))
			}
			if cookies := resp.Cookies(); len(cookies) != 2 || cookies[0].Name != "one" || cookies[1].Name != "two" {
				t.Errorf("cookies: %v", cookies)
			}
			if resp.Header.Get("X-Done") != "yes" {
				t.Errorf("trailer of a buffered response should arrive as a header: %v", resp.Header)
			}
		})
	}
}

func TestFailuresThroughLambda(t *testing.T) {
	t.Parallel()
	for _, event := range events {
		t.Run(event+"/panic before response is a 500", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			resp, err := f.client(event, 0, nil).Get(baseURL + "/raw/panic")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("X-Discarded") != "" {
				t.Errorf("status %d, header %v, body %q", resp.StatusCode, resp.Header, body)
			}
			// The process survived and serves the next invocation.
			resp, err = f.client(event, 0, nil).Get(baseURL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("healthz after panic: %d", resp.StatusCode)
			}
		})
		t.Run(event+"/panic mid-stream reports an error", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			var inv *runtimeapitest.Invocation
			resp, err := f.client(event, 0, func(i *runtimeapitest.Invocation) { inv = i }).Get(baseURL + "/raw/panic-after-flush")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if string(body) != "partial" || err == nil {
				t.Errorf("body %q, err %v; want the partial body, then an error", body, err)
			}
			res, _ := inv.Wait(context.Background())
			if res.ErrorType != "Runtime.HandlerPanic" {
				t.Errorf("error type %q", res.ErrorType)
			}
		})
		t.Run(event+"/connect panic is internal", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](f.client(event, 0, nil), baseURL+servertest.PanicProcedure)
			_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("")))
			if connect.CodeOf(err) != connect.CodeInternal {
				t.Errorf("err = %v", err)
			}
		})
		t.Run(event+"/invocation deadline cancels the request", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](f.client(event, 300*time.Millisecond, nil), baseURL+servertest.SleepProcedure)
			_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("")))
			if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Errorf("err = %v", err)
			}
		})
		t.Run(event+"/gRPC gets a trailers-only unimplemented", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](f.client(event, 0, nil), baseURL+servertest.EchoProcedure, connect.WithGRPC())
			_, err := client.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String("")))
			if connect.CodeOf(err) != connect.CodeUnimplemented || !strings.Contains(err.Error(), "gRPC-Web") {
				t.Errorf("err = %v", err)
			}
		})
		t.Run(event+"/malformed event is an invocation error", func(t *testing.T) {
			t.Parallel()
			f := shared(t, event)
			inv := f.api.Enqueue([]byte(`{"unexpected": true}`), 5*time.Second)
			res, err := inv.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.ErrorType != "Runtime.InvalidEvent" {
				t.Errorf("error type %q", res.ErrorType)
			}
		})
	}
}

func TestInitError(t *testing.T) {
	t.Parallel()
	f, err := startFunction("no-such-event")
	if err != nil {
		t.Fatal(err)
	}
	defer f.api.Close()
	select {
	case report := <-f.api.InitErrors():
		if report.Type != "Runtime.InitError" || !strings.Contains(runtimeapitest.ErrorMessage(report.Body), "no-such-event") {
			t.Errorf("init error %q %s", report.Type, report.Body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no init error reported")
	}
	if err := <-f.exited; err == nil {
		t.Error("process exited 0 after an init error")
	}
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    lambdahttp.Event
		wantErr bool
	}{
		{"", lambdahttp.EventFunctionURL, false},
		{"function-url", lambdahttp.EventFunctionURL, false},
		{"api-gateway", lambdahttp.EventAPIGateway, false},
		{"alb", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := lambdahttp.ParseEvent(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseEvent(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
