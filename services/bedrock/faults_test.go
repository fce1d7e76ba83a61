package bedrock_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// TestConverseFaults maps every fault of the local endpoint, injected with a prompt marker,
// to its connect code, and checks the retry hint and how many attempts reached the server.
func TestConverseFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		model     string
		prompt    string
		code      connect.Code
		retryHint bool
		attempts  int64
		cause     func(error) bool
	}{
		{"throttle", haiku, "[[fault:throttle]]", connect.CodeResourceExhausted, true, 3, isA[*types.ThrottlingException]()},
		{"validation", haiku, "[[fault:validation]]", connect.CodeInvalidArgument, false, 1, isA[*types.ValidationException]()},
		{"not ready", haiku, "[[fault:notready]]", connect.CodeUnavailable, true, 1, isA[*types.ModelNotReadyException]()},
		{"internal", haiku, "[[fault:internal]]", connect.CodeInternal, false, 3, isA[*types.InternalServerException]()},
		{"model error", haiku, "[[fault:modelerror]]", connect.CodeInternal, false, 1, isA[*types.ModelErrorException]()},
		{"model timeout", haiku, "[[fault:timeout]]", connect.CodeDeadlineExceeded, false, 1, isA[*types.ModelTimeoutException]()},
		{"service unavailable", haiku, "[[fault:unavailable]]", connect.CodeUnavailable, true, 3, isA[*types.ServiceUnavailableException]()},
		{"service quota", haiku, "[[fault:quota]]", connect.CodeResourceExhausted, true, 1, isA[*types.ServiceQuotaExceededException]()},
		{"access denied", haiku, "[[fault:accessdenied]]", connect.CodePermissionDenied, false, 1, isA[*types.AccessDeniedException]()},
		{"marketplace subscription", haiku, "[[fault:subscription]]", connect.CodePermissionDenied, false, 1, isA[*types.AccessDeniedException]()},
		{"first-use form", haiku, "[[fault:firstuse]]", connect.CodeNotFound, false, 1, isA[*types.ResourceNotFoundException]()},
		{"not on demand here", haiku, "[[fault:ondemand]]", connect.CodeInvalidArgument, false, 1, isA[*types.ValidationException]()},
		{"unknown model", "nope.unknown-v1:0", "hi", connect.CodeNotFound, false, 1, isA[*types.ResourceNotFoundException]()},
		{"connection cut", haiku, "[[fault:cut]]", connect.CodeUnavailable, true, 3, nil},
		{"slow first token", haiku, "[[fault:slow:30]]", 0, false, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, localaws.Config{})
			res, err := f.client.Converse(context.Background(), ask(tt.model, tt.prompt+" question"), bedrock.Call{Limits: haikuLimits})
			if res == nil {
				t.Fatal("nil result")
			}
			if got := f.srv.Stats().Requests.Load(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if connect.CodeOf(err) != tt.code {
				t.Fatalf("code = %v (%v), want %v", connect.CodeOf(err), err, tt.code)
			}
			if got := retryAfter(err) != nil; got != tt.retryHint {
				t.Errorf("retry hint present = %v, want %v", got, tt.retryHint)
			}
			if ra := retryAfter(err); ra != nil && (ra.GetDelayMs() <= 0 || ra.GetRetryAt() == nil) {
				t.Errorf("retry hint = %v", ra)
			}
			if tt.cause != nil && !tt.cause(err) {
				t.Errorf("AWS error not reachable from %v", err)
			}
			var ce *connect.Error
			errors.As(err, &ce)
			for _, leak := range []string{"Exception", "localaws", "arn:", "aws"} {
				if strings.Contains(ce.Message(), leak) {
					t.Errorf("message %q leaks %q", ce.Message(), leak)
				}
			}
			if tt.cause != nil && res.UpstreamRequestID == "" {
				t.Error("no upstream request id on error")
			}
		})
	}
}

func TestThrottlingRetriedThenSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	if err := f.srv.Faults().Add(localaws.Fault{Target: haiku, Fault: localaws.FaultThrottle, Count: 2}); err != nil {
		t.Fatal(err)
	}
	res, err := f.client.Converse(context.Background(), ask(haiku, "hello"), bedrock.Call{Limits: haikuLimits})
	if err != nil {
		t.Fatalf("after 2 throttles and 3 attempts: %v", err)
	}
	if f.srv.Stats().Requests.Load() != 3 || res.StopReason != inferencev1.StopReason_STOP_REASON_END_TURN {
		t.Errorf("requests %d, stop %s", f.srv.Stats().Requests.Load(), res.StopReason)
	}
}

func TestSignatureRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	c := bedrock.New(sdkConfig(f.url, "wrong-secret"))
	_, err := c.Converse(context.Background(), ask(haiku, "hi"), bedrock.Call{Limits: haikuLimits})
	if connect.CodeOf(err) != connect.CodeInternal || !strings.Contains(err.Error(), "authenticate") {
		t.Errorf("err = %v", err)
	}
}

// isA returns a check that err wraps an error of type T.
func isA[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}

// TestOperatorCauses checks that the three refusals an operator must fix (a missing AWS
// Marketplace subscription, a missing Anthropic first-use form, a model that does not run
// on demand in the region) keep their code but say which one it is, while the plain refusals
// of the same AWS exceptions keep their general message.
func TestOperatorCauses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prompt, want, notWant string
	}{
		{"[[fault:subscription]]", "AWS Marketplace subscription", ""},
		{"[[fault:accessdenied]]", "not enabled for Portico", "Marketplace"},
		{"[[fault:firstuse]]", "first-use form", ""},
		{"[[fault:ondemand]]", "does not run on demand in this region", ""},
		{"[[fault:validation]]", "rejected the request as invalid", "on demand"},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, localaws.Config{})
			_, err := f.client.Converse(context.Background(), ask(haiku, tt.prompt+" question"), bedrock.Call{Limits: haikuLimits})
			var ce *connect.Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Message(), tt.want) || (tt.notWant != "" && strings.Contains(ce.Message(), tt.notWant)) {
				t.Errorf("error %v, want a message with %q (and without %q)", err, tt.want, tt.notWant)
			}
		})
	}
}
