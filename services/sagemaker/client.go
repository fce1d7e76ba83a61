package sagemaker

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Client calls SageMaker Runtime. It is safe for concurrent use.
type Client struct {
	rt       *sagemakerruntime.Client
	settings awsrt.Settings
}

// Option configures a Client: awsrt's WithMaxAttempts, WithMaxBackoff, WithRetryAfter and
// WithNotReadyRetryAfter (shared with the other runtime client), or WithSDKOptions.
type Option = awsrt.Option

// WithSDKOptions adds options applied to the underlying sagemakerruntime client.
func WithSDKOptions(fns ...func(*sagemakerruntime.Options)) Option { return awsrt.SDKOptions(fns...) }

// New returns a client over the SDK configuration cfg; endpoint, region and credentials all
// come from cfg.
func New(cfg aws.Config, opts ...Option) *Client {
	s, sdkOpts := awsrt.Apply[sagemakerruntime.Options](opts)
	guard := func(so *sagemakerruntime.Options) {
		so.HTTPClient = awsrt.GuardHTTPClient(so.HTTPClient)
		so.Retryer = s.Retryer()
	}
	rt := sagemakerruntime.NewFromConfig(cfg, append([]func(*sagemakerruntime.Options){guard}, sdkOpts...)...)
	return &Client{rt: rt, settings: s}
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
