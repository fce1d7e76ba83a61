package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"connectrpc.com/connect"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// Retry bounds the retries of unary calls that fail with Unavailable.
type Retry struct {
	// MaxAttempts is the most calls made in all, first included (default 4; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the upper bound of the first wait (default 100 ms); it doubles per attempt.
	BaseDelay time.Duration
	// MaxDelay caps any wait, including a server's RetryAfter (default 2 s).
	MaxDelay time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 100 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 2 * time.Second
	}
	return r
}

// Interceptor returns a connect interceptor applying r to unary calls (see the package doc for
// which calls are retried).
func (r Retry) Interceptor() connect.Interceptor {
	r = r.withDefaults()
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			idempotent := req.Spec().IdempotencyLevel != connect.IdempotencyUnknown
			for attempt := 1; ; attempt++ {
				resp, err := next(ctx, req)
				if err == nil || attempt >= r.MaxAttempts || !retryable(err, idempotent) {
					return resp, err
				}
				timer := time.NewTimer(r.delay(attempt, err))
				select {
				case <-ctx.Done():
					timer.Stop()
					return nil, err
				case <-timer.C:
				}
			}
		}
	})
}

func retryable(err error, idempotent bool) bool {
	if connect.CodeOf(err) != connect.CodeUnavailable {
		return false
	}
	if idempotent {
		return true
	}
	var op *net.OpError
	return !connect.IsWireError(err) && errors.As(err, &op) && op.Op == "dial"
}

// delay returns how long to wait after the attempt-th failure.
func (r Retry) delay(attempt int, err error) time.Duration {
	var ce *connect.Error
	if errors.As(err, &ce) {
		for _, d := range ce.Details() {
			if v, derr := d.Value(); derr == nil {
				if ra, ok := v.(*typev1.RetryAfter); ok && ra.GetDelayMs() > 0 {
					return min(time.Duration(ra.GetDelayMs())*time.Millisecond, r.MaxDelay)
				}
			}
		}
	}
	ceiling := min(r.BaseDelay<<min(attempt-1, 20), r.MaxDelay)
	return rand.N(ceiling + 1) //nolint:gosec // jitter needs no cryptographic randomness
}
