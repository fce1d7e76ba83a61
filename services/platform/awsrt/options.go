package awsrt

import (
	"fmt"
	"time"
)

// Option configures a runtime client of package bedrock or sagemaker: one of its Settings
// (WithMaxAttempts, WithMaxBackoff, WithRetryAfter, WithNotReadyRetryAfter, the same for
// both clients) or options of its SDK client (SDKOptions, which each client package wraps
// in a WithSDKOptions typed for its SDK).
type Option func(*config)

// config is what the Options of one client set.
type config struct {
	Settings
	sdk []any // each a func(*O), O the options type of the client's SDK client
}

// WithMaxAttempts bounds the attempts of one call, retries included (default 3).
func WithMaxAttempts(n int) Option { return func(c *config) { c.MaxAttempts = n } }

// WithMaxBackoff bounds the delay between two attempts (default 5 s).
func WithMaxBackoff(d time.Duration) Option { return func(c *config) { c.MaxBackoff = d } }

// WithRetryAfter sets the delay suggested in the RetryAfter detail of throttling and
// service-unavailable errors (default 2 s).
func WithRetryAfter(d time.Duration) Option { return func(c *config) { c.RetryAfter = d } }

// WithNotReadyRetryAfter sets the delay suggested when the model or endpoint is not ready
// (default 10 s).
func WithNotReadyRetryAfter(d time.Duration) Option {
	return func(c *config) { c.NotReadyRetry = d }
}

// SDKOptions returns an Option that adds fns to the options of the client's SDK client,
// whose options type is O (bedrockruntime.Options, sagemakerruntime.Options). Apply with
// the same O takes them; another O panics.
func SDKOptions[O any](fns ...func(*O)) Option {
	return func(c *config) {
		for _, fn := range fns {
			c.sdk = append(c.sdk, fn)
		}
	}
}

// Apply returns the default Settings with opts applied, and the SDK options they add, in
// order, for an SDK client whose options type is O. It panics when an option adds SDK
// options of another type (one client's WithSDKOptions passed to another client's New):
// a wiring mistake, not something to ignore.
func Apply[O any](opts []Option) (Settings, []func(*O)) {
	c := config{Settings: DefaultSettings()}
	for _, opt := range opts {
		opt(&c)
	}
	sdk := make([]func(*O), 0, len(c.sdk))
	for _, fn := range c.sdk {
		f, ok := fn.(func(*O))
		if !ok {
			panic(fmt.Sprintf("awsrt: an SDK option of type %T given to a client whose SDK options are %T", fn, new(O)))
		}
		sdk = append(sdk, f)
	}
	return c.Settings, sdk
}
