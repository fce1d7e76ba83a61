package awsrt_test

import (
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

func TestToConnect(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := awsrt.DefaultSettings()
	s.Now = func() time.Time { return now }
	errNotReady, errThrottled := errors.New("not ready"), errors.New("throttled")
	classify := func(err error) (connect.Code, string, bool) {
		if errors.Is(err, errNotReady) {
			return connect.CodeUnavailable, "not ready; retry", true
		}
		if errors.Is(err, errThrottled) {
			return connect.CodeResourceExhausted, "busy; retry", true
		}
		return connect.CodeInternal, "failed", false
	}
	notReady := func(_ connect.Code, err error) bool { return errors.Is(err, errNotReady) }
	tests := []struct {
		name      string
		err       error
		wantCode  connect.Code
		wantMsg   string
		wantDelay time.Duration // 0: no RetryAfter detail
	}{
		{"passthrough", connect.NewError(connect.CodeNotFound, errors.New("gone")), connect.CodeNotFound, "gone", 0},
		{"no retry", errors.New("secret upstream text"), connect.CodeInternal, "failed", 0},
		{"retry", errThrottled, connect.CodeResourceExhausted, "busy; retry", s.RetryAfter},
		{"not ready", errNotReady, connect.CodeUnavailable, "not ready; retry", s.NotReadyRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ce := s.ToConnect(tt.err, classify, notReady)
			if ce.Code() != tt.wantCode || ce.Message() != tt.wantMsg {
				t.Fatalf("ToConnect = %v %q, want %v %q", ce.Code(), ce.Message(), tt.wantCode, tt.wantMsg)
			}
			if !errors.Is(ce, tt.err) && !errors.As(tt.err, new(*connect.Error)) {
				t.Errorf("the cause %v is not reachable from %v", tt.err, ce)
			}
			var got time.Duration
			for _, d := range ce.Details() {
				v, err := d.Value()
				if ra, ok := v.(*typev1.RetryAfter); ok && err == nil {
					got = time.Duration(ra.GetDelayMs()) * time.Millisecond
					if !ra.GetRetryAt().AsTime().Equal(now.Add(got)) {
						t.Errorf("RetryAt = %v, want %v", ra.GetRetryAt().AsTime(), now.Add(got))
					}
				}
			}
			if got != tt.wantDelay {
				t.Errorf("RetryAfter delay = %v, want %v", got, tt.wantDelay)
			}
		})
	}
	if s.ToConnect(nil, classify, notReady) != nil {
		t.Error("ToConnect(nil) != nil")
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code            string
		auth, throttled bool
	}{
		{"UnrecognizedClientException", true, false},
		{"InvalidSignatureException", true, false},
		{"MissingAuthenticationTokenException", true, false},
		{"ExpiredTokenException", true, false},
		{"IncompleteSignature", true, false},
		{"ThrottlingException", false, true},
		{"TooManyRequestsException", false, true},
		{"AccessDeniedException", false, false},
		{"ValidationException", false, false},
		{"throttlingexception", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := awsrt.AuthFailure(tt.code); got != tt.auth {
			t.Errorf("AuthFailure(%q) = %v, want %v", tt.code, got, tt.auth)
		}
		if got := awsrt.Throttled(tt.code); got != tt.throttled {
			t.Errorf("Throttled(%q) = %v, want %v", tt.code, got, tt.throttled)
		}
		code, msg, retry := awsrt.ClassifyCode(tt.code, "SageMaker")
		switch {
		case tt.auth:
			if code != connect.CodeInternal || msg != "Portico could not authenticate to SageMaker" || retry {
				t.Errorf("ClassifyCode(%q) = %v %q %v, want an authentication failure", tt.code, code, msg, retry)
			}
		case tt.throttled:
			if code != connect.CodeResourceExhausted || msg != "SageMaker is throttling requests; retry later" || !retry {
				t.Errorf("ClassifyCode(%q) = %v %q %v, want throttling", tt.code, code, msg, retry)
			}
		default:
			if code != connect.CodeInternal || msg != "SageMaker answered with an unexpected error" || retry {
				t.Errorf("ClassifyCode(%q) = %v %q %v, want an unexpected error", tt.code, code, msg, retry)
			}
		}
	}
}
