package awsrt

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Defaults of the Settings.
const (
	DefaultMaxAttempts   = 3
	DefaultMaxBackoff    = 5 * time.Second
	DefaultRetryAfter    = 2 * time.Second
	DefaultNotReadyRetry = 10 * time.Second
)

// Settings are a runtime client's retry bounds and the delays it suggests to callers.
type Settings struct {
	// MaxAttempts bounds the attempts of one call, retries included.
	MaxAttempts int
	// MaxBackoff bounds the delay between two attempts.
	MaxBackoff time.Duration
	// RetryAfter is the delay suggested in the RetryAfter detail of retryable errors.
	RetryAfter time.Duration
	// NotReadyRetry is the delay suggested when the model or endpoint is not ready.
	NotReadyRetry time.Duration
	// Now is the clock of RetryAfter details.
	Now func() time.Time
}

// DefaultSettings returns the settings of a client without options.
func DefaultSettings() Settings {
	return Settings{
		MaxAttempts:   DefaultMaxAttempts,
		MaxBackoff:    DefaultMaxBackoff,
		RetryAfter:    DefaultRetryAfter,
		NotReadyRetry: DefaultNotReadyRetry,
		Now:           time.Now,
	}
}

// Retryer returns the SDK's standard retryer bounded by s.
func (s Settings) Retryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = s.MaxAttempts
		so.MaxBackoff = s.MaxBackoff
	})
}
