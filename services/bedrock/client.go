package bedrock

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Defaults of the client options.
const (
	DefaultMaxAttempts   = awsrt.DefaultMaxAttempts
	DefaultRetryAfter    = awsrt.DefaultRetryAfter
	DefaultNotReadyRetry = awsrt.DefaultNotReadyRetry
)

// Client calls Bedrock Runtime. It is safe for concurrent use.
type Client struct {
	rt   *bedrockruntime.Client
	opts options
}

type options struct {
	awsrt.Settings
	sdkOptions []func(*bedrockruntime.Options)
}

// Option configures a Client.
type Option func(*options)

// WithMaxAttempts bounds the attempts of one call, retries included (default 3).
func WithMaxAttempts(n int) Option { return func(o *options) { o.MaxAttempts = n } }

// WithMaxBackoff bounds the delay between two attempts (default 5 s).
func WithMaxBackoff(d time.Duration) Option { return func(o *options) { o.MaxBackoff = d } }

// WithRetryAfter sets the delay suggested in the RetryAfter detail of throttling and
// service-unavailable errors (default 2 s).
func WithRetryAfter(d time.Duration) Option { return func(o *options) { o.RetryAfter = d } }

// WithNotReadyRetryAfter sets the delay suggested when the model is not ready (default 10 s).
func WithNotReadyRetryAfter(d time.Duration) Option {
	return func(o *options) { o.NotReadyRetry = d }
}

// WithSDKOptions adds options applied to the underlying bedrockruntime client.
func WithSDKOptions(fns ...func(*bedrockruntime.Options)) Option {
	return func(o *options) { o.sdkOptions = append(o.sdkOptions, fns...) }
}

// New returns a client over the SDK configuration cfg. The endpoint, region and credentials
// all come from cfg.
func New(cfg aws.Config, opts ...Option) *Client {
	o := options{Settings: awsrt.DefaultSettings()}
	for _, opt := range opts {
		opt(&o)
	}
	sdkOpts := append([]func(*bedrockruntime.Options){func(bo *bedrockruntime.Options) {
		bo.HTTPClient = awsrt.GuardHTTPClient(bo.HTTPClient)
		bo.Retryer = o.Retryer()
	}}, o.sdkOptions...)
	return &Client{rt: bedrockruntime.NewFromConfig(cfg, sdkOpts...), opts: o}
}

// NewFromEnv loads the SDK's default configuration (environment, shared files, IAM role;
// AWS_ENDPOINT_URL points it at the local stand-in) and returns a client over it.
func NewFromEnv(ctx context.Context, opts ...Option) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("bedrock: load AWS config: %w", err)
	}
	return New(cfg, opts...), nil
}
