package faults_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/portico-dev/portico/bff/proxy"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// passGuard lets every request through: FuzzProxyRoute fuzzes routing, not the CSRF guard
// (bff's bad-input tables cover that).
type passGuard struct{}

func (passGuard) Check(*http.Request) error { return nil }

// recordingTransport answers every forwarded request with an empty 200 and keeps it.
type recordingTransport struct{ got *http.Request }

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.got = r
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// FuzzProxyRoute sends arbitrary request targets and header values through the BFF's API
// proxy. A request reaches the services only for an allowlisted procedure, at exactly that
// procedure's path under the upstream's base path, carrying the session's token and none of
// the browser's cookies, credentials or forwarding headers; anything else is NOT_FOUND (or
// refused) without an upstream call.
func FuzzProxyRoute(f *testing.F) {
	for _, s := range []string{
		"/api/portico.inference.v1.InferenceService/Converse",
		"/api/portico.identity.v1.IdentityService/GetMe",
		"/api/portico.admin.v1.AdminService/ListUsage",
		"/api/portico.inference.v1.InferenceService/Converse/../../admin",
		"/api/portico.inference.v1.InferenceService/Converse%2F..%2F..%2Fx",
		"/api//portico.identity.v1.IdentityService/GetMe",
		"/api/portico.identity.v1.IdentityService/GetMe?x=1",
		"/api/../portico.identity.v1.IdentityService/GetMe",
		"/api/portico.identity.v1.IdentityService%2FGetMe",
		"/api/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/api/grpc.health.v1.Health/Check",
		"/api/portico.identity.v1.IdentityService/getme",
		"/apiportico.identity.v1.IdentityService/GetMe",
		"/api/portico.identity.v1.IdentityService/GetMe\x00",
	} {
		f.Add(s, "session=abc", "1.2.3.4")
	}
	allow, err := proxy.DefaultAllowlist()
	if err != nil {
		f.Fatal(err)
	}
	upstream, _ := url.Parse("http://services.internal:8081/base")
	f.Fuzz(func(t *testing.T, target, cookieValue, forwarded string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.Path, proxy.Prefix+"/") {
			return
		}
		rt := &recordingTransport{}
		p, err := proxy.New(proxy.Config{
			Upstream: upstream, Transport: rt, Allowlist: allow, Guard: passGuard{},
			Authorize: func(http.ResponseWriter, *http.Request) (string, error) { return "session-token", nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		req := &http.Request{Method: http.MethodPost, URL: u, RequestURI: target, Host: "portico.example",
			Header: http.Header{}, Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "192.0.2.1:1234"}
		req.Header.Set("Cookie", "__Host-portico-session="+cookieValue)
		req.Header.Set("Authorization", "Bearer browser-supplied")
		req.Header.Set("X-Forwarded-For", forwarded)
		req.Header.Set("Portico-Client-Ip", forwarded)
		req.Header.Set("X-CSRF", "1")
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)

		procedure := strings.TrimPrefix(u.Path, proxy.Prefix)
		if rt.got == nil {
			if allow[procedure] {
				t.Fatalf("allowlisted %q was not forwarded: %d %s", procedure, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK {
				t.Fatalf("%q answered 200 without reaching the services", target)
			}
			return
		}
		out := rt.got
		if !allow[procedure] {
			t.Fatalf("%q (procedure %q) reached the services at %q", target, procedure, out.URL.Path)
		}
		if want := "/base" + procedure; out.URL.Path != want || (out.URL.RawPath != "" && out.URL.RawPath != want) {
			t.Fatalf("%q forwarded to path %q (raw %q), want %q", target, out.URL.Path, out.URL.RawPath, want)
		}
		if out.URL.Host != upstream.Host {
			t.Fatalf("forwarded to host %q", out.URL.Host)
		}
		if got := out.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer session-token" {
			t.Fatalf("forwarded Authorization %q", got)
		}
		if out.Header.Get("Cookie") != "" || out.Header.Get("X-Csrf") != "" || out.Header.Get("X-Forwarded-For") != "" {
			t.Fatalf("browser headers leaked upstream: %v", out.Header)
		}
		if ip := out.Header.Get(proxy.HeaderClientIP); ip != "192.0.2.1" {
			t.Fatalf("%s = %q, want the peer address", proxy.HeaderClientIP, ip)
		}
	})
}

// bedrockStreamSeeds are well-formed and broken Bedrock ConverseStream bodies.
func bedrockStreamSeeds(f *testing.F) [][]byte {
	f.Helper()
	event := func(typ, payload string) []byte {
		var buf bytes.Buffer
		msg := eventstream.Message{Payload: []byte(payload)}
		msg.Headers.Set(":message-type", eventstream.StringValue("event"))
		msg.Headers.Set(":event-type", eventstream.StringValue(typ))
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		if err := eventstream.NewEncoder().Encode(&buf, msg); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	exception := func(typ, payload string) []byte {
		var buf bytes.Buffer
		msg := eventstream.Message{Payload: []byte(payload)}
		msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
		msg.Headers.Set(":exception-type", eventstream.StringValue(typ))
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		if err := eventstream.NewEncoder().Encode(&buf, msg); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	start := event("messageStart", `{"role":"assistant"}`)
	delta := event("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"}}`)
	stop := event("messageStop", `{"stopReason":"end_turn"}`)
	meta := event("metadata", `{"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4},"metrics":{"latencyMs":5}}`)
	full := bytes.Join([][]byte{start, delta, stop, meta}, nil)
	return [][]byte{
		full,
		bytes.Join([][]byte{start, delta}, nil), // cut mid-way
		full[:len(full)-3],                      // truncated frame
		bytes.Join([][]byte{start, exception("modelStreamErrorException", `{"message":"boom"}`)}, nil),
		bytes.Join([][]byte{start, event("contentBlockDelta", `{"delta":`), stop, meta}, nil), // bad JSON
		bytes.Join([][]byte{start, event("unknownEvent", `{}`), stop, meta}, nil),
		{},
	}
}

// FuzzBedrockStream feeds arbitrary bytes as the body of a Bedrock ConverseStream answer to
// the services' Bedrock provider (the AWS SDK's event-stream decoder and Portico's event
// handling). It must never panic or hang, must return a Result, and must fail only with a
// connect error carrying a code other than UNKNOWN; every event it passes on is well formed.
func FuzzBedrockStream(f *testing.F) {
	for _, s := range bedrockStreamSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		client := bedrock.New(aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
			HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Request: r,
					Header: http.Header{"Content-Type": {"application/vnd.amazon.eventstream"}, "X-Amzn-Requestid": {"req-1"}},
					Body:   io.NopCloser(bytes.NewReader(body))}, nil
			})},
			BaseEndpoint: aws.String("http://bedrock.invalid"),
		}, awsrt.WithMaxAttempts(1))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var events []*inferencev1.ConverseStreamResponse
		res, err := client.ConverseStream(ctx, askStream("hello", 16), bedrock.Call{Limits: bedrock.Limits{MaxOutputTokens: 8192, SystemPrompt: true}},
			func(ev *inferencev1.ConverseStreamResponse) error {
				events = append(events, ev)
				return nil
			})
		if ctx.Err() != nil {
			t.Fatal("ConverseStream hung on the input")
		}
		if res == nil {
			t.Fatal("nil Result")
		}
		if err != nil {
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() == connect.CodeUnknown {
				t.Fatalf("error without a clear code: %v", err)
			}
		}
		for _, ev := range events {
			if ev.GetEvent() == nil {
				t.Fatalf("an empty event was passed on")
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
