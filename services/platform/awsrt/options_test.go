package awsrt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

type sdkA struct{ calls []string }
type sdkB struct{}

func TestApply(t *testing.T) {
	t.Parallel()
	s, sdk := awsrt.Apply[sdkA](nil)
	def := awsrt.DefaultSettings()
	if s.MaxAttempts != def.MaxAttempts || s.MaxBackoff != def.MaxBackoff || s.RetryAfter != def.RetryAfter || s.NotReadyRetry != def.NotReadyRetry || s.Now == nil || len(sdk) != 0 {
		t.Fatalf("Apply(nil) = %+v, %d SDK options; want the defaults and none", s, len(sdk))
	}

	mark := func(name string) func(*sdkA) { return func(a *sdkA) { a.calls = append(a.calls, name) } }
	s, sdk = awsrt.Apply[sdkA]([]awsrt.Option{
		awsrt.WithMaxAttempts(7),
		awsrt.SDKOptions(mark("first"), mark("second")),
		awsrt.WithMaxBackoff(time.Millisecond),
		awsrt.WithRetryAfter(3 * time.Second),
		awsrt.WithNotReadyRetryAfter(time.Minute),
		awsrt.SDKOptions(mark("third")),
	})
	if s.MaxAttempts != 7 || s.MaxBackoff != time.Millisecond || s.RetryAfter != 3*time.Second || s.NotReadyRetry != time.Minute {
		t.Errorf("Apply set %+v", s)
	}
	var a sdkA
	for _, fn := range sdk {
		fn(&a)
	}
	if got := strings.Join(a.calls, ","); got != "first,second,third" {
		t.Errorf("SDK options ran %q, want first,second,third", got)
	}
}

// TestApplyOtherSDK: an SDK option meant for another client is a wiring mistake, refused
// loudly rather than dropped.
func TestApplyOtherSDK(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "sdkB") {
			t.Errorf("Apply with another SDK's option: recovered %v, want a panic naming the type", r)
		}
	}()
	awsrt.Apply[sdkA]([]awsrt.Option{awsrt.SDKOptions(func(*sdkB) {})})
}
