package bff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/dynamosession"
)

// WithAWSConfig sets the AWS SDK configuration a "dynamodb:<table>" session store uses
// (default: config.LoadDefaultConfig, which honours AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB).
func WithAWSConfig(cfg aws.Config) Option { return func(o *options) { o.aws = &cfg } }

// openSessionStore returns the store a PORTICO_SESSION_STORE value names: nil for "cookie"
// (sessions sealed into the cookie), else a server-side store whose sessions sealer seals
// at rest. close releases it (a no-op for stores without resources). The DynamoDB table
// must exist: production deployments create it in infrastructure code; only tests and
// development call dynamosession.EnsureTable.
func openSessionStore(ctx context.Context, spec string, sealer session.Sealer, awsCfg *aws.Config, now func() time.Time) (st session.Store, closeFn func() error, err error) {
	noop := func() error { return nil }
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "", "cookie":
		return nil, noop, nil
	case "memory":
		return session.NewMemoryStore(now), noop, nil
	case "sqlite":
		return openSQLiteSessions(ctx, arg, sealer, now)
	case "dynamodb":
		if awsCfg == nil {
			c, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("AWS configuration: %w", err)
			}
			awsCfg = &c
		}
		return dynamosession.New(dynamodb.NewFromConfig(*awsCfg), arg, sealer, dynamosession.Options{Now: now}), noop, nil
	default:
		return nil, nil, fmt.Errorf("unknown session store %q", spec)
	}
}
