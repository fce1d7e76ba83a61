package sagemaker

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
)

// Defaults of the client options.
const (
	DefaultMaxAttempts     = 3
	DefaultRetryAfter      = 2 * time.Second
	DefaultNotReadyRetry   = 10 * time.Second
	defaultMaxBackoffDelay = 5 * time.Second
)

// Client calls SageMaker Runtime. It is safe for concurrent use.
type Client struct {
	rt   *sagemakerruntime.Client
	opts options
}

type options struct {
	maxAttempts   int
	maxBackoff    time.Duration
	retryAfter    time.Duration
	notReadyRetry time.Duration
	now           func() time.Time
	sdkOptions    []func(*sagemakerruntime.Options)
}

// Option configures a Client.
type Option func(*options)

// WithMaxAttempts bounds the attempts of one call, retries included (default 3).
func WithMaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = n } }

// WithMaxBackoff bounds the delay between two attempts (default 5 s).
func WithMaxBackoff(d time.Duration) Option { return func(o *options) { o.maxBackoff = d } }

// WithRetryAfter sets the delay suggested in RetryAfter details (default 2 s).
func WithRetryAfter(d time.Duration) Option { return func(o *options) { o.retryAfter = d } }

// WithNotReadyRetryAfter sets the delay suggested when the endpoint is not ready (default 10 s).
func WithNotReadyRetryAfter(d time.Duration) Option {
	return func(o *options) { o.notReadyRetry = d }
}

// WithSDKOptions adds options applied to the underlying sagemakerruntime client.
func WithSDKOptions(fns ...func(*sagemakerruntime.Options)) Option {
	return func(o *options) { o.sdkOptions = append(o.sdkOptions, fns...) }
}

// New returns a client over the SDK configuration cfg; endpoint, region and credentials all
// come from cfg.
func New(cfg aws.Config, opts ...Option) *Client {
	o := options{
		maxAttempts:   DefaultMaxAttempts,
		maxBackoff:    defaultMaxBackoffDelay,
		retryAfter:    DefaultRetryAfter,
		notReadyRetry: DefaultNotReadyRetry,
		now:           time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	sdkOpts := append([]func(*sagemakerruntime.Options){func(so *sagemakerruntime.Options) {
		so.HTTPClient = guardHTTPClient(so.HTTPClient)
		so.Retryer = retry.NewStandard(func(ro *retry.StandardOptions) {
			ro.MaxAttempts = o.maxAttempts
			ro.MaxBackoff = o.maxBackoff
		})
	}}, o.sdkOptions...)
	return &Client{rt: sagemakerruntime.NewFromConfig(cfg, sdkOpts...), opts: o}
}

// NewFromEnv loads the SDK's default configuration (AWS_ENDPOINT_URL points it at the local
// stand-in) and returns a client over it.
func NewFromEnv(ctx context.Context, opts ...Option) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("sagemaker: load AWS config: %w", err)
	}
	return New(cfg, opts...), nil
}
