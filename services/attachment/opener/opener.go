// Package opener opens the attachment store that PORTICO_ATTACHMENT_STORE names
// ([attachment.ParseSpec]: "dir:<path>" or "s3:<bucket>"). It is its own package because the
// stores import package attachment for its Key and errors, so package attachment cannot
// import them.
package opener

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/attachment/dirstore"
	"github.com/portico-dev/portico/services/attachment/s3store"
)

// Open opens the store spec names. loadAWS gives the AWS configuration for an S3 store (it
// is not called for a folder); its endpoint and credentials are used as they are, so tests
// and the development stack can point it at an S3-compatible server. Its errors name
// neither the variable nor the value: the caller wraps them with both.
func Open(ctx context.Context, spec string, loadAWS func(context.Context) (aws.Config, error), optFns ...func(*s3.Options)) (attachment.Store, error) {
	sp, err := attachment.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	if sp.Kind == attachment.KindDir {
		return dirstore.Open(sp.Target)
	}
	cfg, err := loadAWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return s3store.New(s3.NewFromConfig(cfg, optFns...), sp.Target), nil
}
