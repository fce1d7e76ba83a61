package sagemaker_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/awsrt"
	"github.com/portico-dev/portico/services/sagemaker"
)

const demo = "portico-demo-llm"

// demoLimits are the demo endpoint's, as the default catalog describes it.
var demoLimits = sagemaker.Limits{
	ContentTypes:   []string{"application/json", "text/plain"},
	Usage:          sagemaker.UsageReport{Format: sagemaker.ReportTGIDetails, ContentTypes: []string{"application/json", "application/jsonlines"}},
	MaxInputTokens: 8192, MaxOutputTokens: 2048,
}

type fixture struct {
	srv    *localaws.Server
	url    string
	client *sagemaker.Client
}

func newFixture(t testing.TB, cfg localaws.Config) *fixture {
	t.Helper()
	srv := localaws.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &fixture{srv: srv, url: ts.URL, client: sagemaker.New(sdkConfig(ts.URL, "portico-dev-secret"), awsrt.WithMaxBackoff(time.Millisecond))}
}

func sdkConfig(url, secret string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("portico-dev", secret, ""),
		BaseEndpoint: aws.String(url),
	}
}

func jsonReq(inputs string) *inferencev1.InvokeEndpointRequest {
	return &inferencev1.InvokeEndpointRequest{
		EndpointName: demo,
		ContentType:  "application/json",
		Body:         []byte(`{"inputs":"` + inputs + `","parameters":{"max_new_tokens":12}}`),
	}
}

func streamOf(r *inferencev1.InvokeEndpointRequest) *inferencev1.InvokeEndpointStreamRequest {
	return &inferencev1.InvokeEndpointStreamRequest{EndpointName: r.EndpointName, ContentType: r.ContentType, Accept: r.Accept, Body: r.Body, CustomAttributes: r.CustomAttributes}
}

func hasRetryAfter(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if ra, ok := v.(*typev1.RetryAfter); ok && ra.GetDelayMs() > 0 {
				return true
			}
		}
	}
	return false
}

func TestInvoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	req := jsonReq("what is sagemaker")
	req.CustomAttributes = "trace=on"
	res, err := f.client.Invoke(context.Background(), req, demoLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Body), `"generated_text":"## About what is sagemaker`) || res.ContentType != "application/json" {
		t.Errorf("body (%s) = %s", res.ContentType, res.Body)
	}
	if res.InvokedProductionVariant != "AllTraffic" || res.CustomAttributes != "trace=on" || len(res.UpstreamRequestID) != 36 {
		t.Errorf("result = %+v", res)
	}
	// The container reports generated_tokens; the input is estimated from the request size.
	wantIn := sagemaker.EstimateTokens(len(req.Body))
	if res.Usage.OutputTokens != 12 || res.Usage.InputTokens != wantIn || res.Usage.TotalTokens != 12+wantIn || !res.Usage.Estimated {
		t.Errorf("usage = %+v", res.Usage)
	}
	plain, err := f.client.Invoke(context.Background(), &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "text/plain", Accept: "text/plain", Body: []byte("plain words")}, demoLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(plain.Body), "## About plain words") || plain.Usage.OutputTokens != sagemaker.EstimateTokens(len(plain.Body)) || !plain.Usage.Estimated {
		t.Errorf("plain: %q, usage %+v", plain.Body, plain.Usage)
	}
}

func TestInvokeFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		req       *inferencev1.InvokeEndpointRequest
		code      connect.Code
		retryHint bool
		attempts  int64
		msg       string
		cause     func(error) bool
	}{
		{"throttle", jsonReq("[[fault:throttle]] hi"), connect.CodeResourceExhausted, true, 3, "throttling", nil},
		{"validation", jsonReq("[[fault:validation]] hi"), connect.CodeInvalidArgument, false, 1, "invalid", isA[*types.ValidationError]()},
		{"model not ready", jsonReq("[[fault:notready]] hi"), connect.CodeUnavailable, true, 1, "not ready", isA[*types.ModelNotReadyException]()},
		{"internal failure", jsonReq("[[fault:internal]] hi"), connect.CodeInternal, false, 3, "internal", isA[*types.InternalFailure]()},
		{"model error 500", jsonReq("[[fault:modelerror]] hi"), connect.CodeInternal, false, 1, "status 500", isA[*types.ModelError]()},
		{"service unavailable", jsonReq("[[fault:unavailable]] hi"), connect.CodeUnavailable, true, 3, "unavailable", isA[*types.ServiceUnavailable]()},
		{"connection cut", jsonReq("[[fault:cut]] hi"), connect.CodeUnavailable, true, 3, "reached", nil},
		{"slow first token", jsonReq("[[fault:slow:30]] hi"), 0, false, 1, "", nil},
		{"unknown endpoint", &inferencev1.InvokeEndpointRequest{EndpointName: "nope", Body: []byte(`{"inputs":"x"}`)}, connect.CodeNotFound, false, 1, "does not exist", isA[*types.ValidationError]()},
		{"malformed JSON", &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":`)}, connect.CodeInvalidArgument, false, 1, "status 400", isA[*types.ModelError]()},
		{"content type unknown to the container", &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "application/x-npy", Body: []byte(`xx`)}, connect.CodeInvalidArgument, false, 1, "status 415", isA[*types.ModelError]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, localaws.Config{})
			res, err := f.client.Invoke(context.Background(), tt.req, sagemaker.Limits{})
			if res == nil {
				t.Fatal("nil result")
			}
			if got := f.srv.Stats().Requests.Load(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
			if tt.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if connect.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.code, tt.msg)
			}
			if hasRetryAfter(err) != tt.retryHint {
				t.Errorf("retry hint = %v, want %v", hasRetryAfter(err), tt.retryHint)
			}
			if tt.cause != nil && !tt.cause(err) {
				t.Errorf("AWS error not reachable from %v", err)
			}
			var ce *connect.Error
			errors.As(err, &ce)
			for _, leak := range []string{"arn:", "Exception", "log-group", "000000000000"} {
				if strings.Contains(ce.Message(), leak) {
					t.Errorf("message %q leaks %q", ce.Message(), leak)
				}
			}
		})
	}
}

func TestLimitsCheckedBeforeCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	base := func(mod func(*inferencev1.InvokeEndpointRequest)) *inferencev1.InvokeEndpointRequest {
		r := jsonReq("hi")
		mod(r)
		return r
	}
	tests := []struct {
		name string
		req  *inferencev1.InvokeEndpointRequest
		lim  sagemaker.Limits
		want string
	}{
		{"no endpoint", base(func(r *inferencev1.InvokeEndpointRequest) { r.EndpointName = "" }), demoLimits, "endpoint_name"},
		{"empty body", base(func(r *inferencev1.InvokeEndpointRequest) { r.Body = nil }), demoLimits, "empty"},
		{"over 6 MB", base(func(r *inferencev1.InvokeEndpointRequest) { r.Body = make([]byte, 6<<20+1) }), demoLimits, "at most 6291456"},
		{"over the endpoint's limit", base(func(*inferencev1.InvokeEndpointRequest) {}), sagemaker.Limits{MaxPayloadBytes: 8}, "at most 8"},
		{"content type not accepted", base(func(r *inferencev1.InvokeEndpointRequest) { r.ContentType = "image/png" }), demoLimits, "not accepted"},
		{"content type malformed", base(func(r *inferencev1.InvokeEndpointRequest) { r.ContentType = "json;;" }), demoLimits, "valid media type"},
		{"accept malformed", base(func(r *inferencev1.InvokeEndpointRequest) { r.Accept = "///" }), demoLimits, "accept"},
		{"custom attributes too long", base(func(r *inferencev1.InvokeEndpointRequest) { r.CustomAttributes = strings.Repeat("a", 1025) }), demoLimits, "at most 1024"},
		{"custom attributes not ASCII", base(func(r *inferencev1.InvokeEndpointRequest) { r.CustomAttributes = "é" }), demoLimits, "visible ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.client.Invoke(context.Background(), tt.req, tt.lim)
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want INVALID_ARGUMENT mentioning %q", err, tt.want)
			}
			_, err = f.client.InvokeStream(context.Background(), streamOf(tt.req), tt.lim, func(*inferencev1.InvokeEndpointStreamResponse) error { return nil })
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("stream err = %v", err)
			}
		})
	}
	if n := f.srv.Stats().Requests.Load(); n != 0 {
		t.Errorf("%d requests reached the endpoint", n)
	}
}

func isA[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}
