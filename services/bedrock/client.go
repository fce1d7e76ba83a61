package bedrock

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Client calls Bedrock Runtime. It is safe for concurrent use.
type Client struct {
	rt       *bedrockruntime.Client
	settings awsrt.Settings
}

// Option configures a Client: awsrt's WithMaxAttempts, WithMaxBackoff, WithRetryAfter and
// WithNotReadyRetryAfter (shared with the other runtime client), or WithSDKOptions.
type Option = awsrt.Option

// WithSDKOptions adds options applied to the underlying bedrockruntime client.
func WithSDKOptions(fns ...func(*bedrockruntime.Options)) Option { return awsrt.SDKOptions(fns...) }

// New returns a client over the SDK configuration cfg. The endpoint, region and credentials
// all come from cfg.
func New(cfg aws.Config, opts ...Option) *Client {
	s, sdkOpts := awsrt.Apply[bedrockruntime.Options](opts)
	guard := func(bo *bedrockruntime.Options) {
		bo.HTTPClient = awsrt.GuardHTTPClient(bo.HTTPClient)
		bo.Retryer = s.Retryer()
	}
	rt := bedrockruntime.NewFromConfig(cfg, append([]func(*bedrockruntime.Options){guard}, sdkOpts...)...)
	return &Client{rt: rt, settings: s}
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
