package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
)

// openStore opens the store PORTICO_STORE names: "sqlite:<path>" or "dynamodb:<table>" (the
// format of services/store/storeconfig, which this command does not import so that Lambda
// builds can leave SQLite out; see store_sqlite.go).
func openStore(ctx context.Context, spec string, loadAWS func(context.Context) (aws.Config, error)) (store.Store, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%s=%q: want sqlite:<path> or dynamodb:<table>", EnvStore, spec)
	}
	switch kind {
	case "sqlite":
		return openSQLite(ctx, rest, store.Options{})
	case "dynamodb":
		cfg, err := loadAWS(ctx)
		if err != nil {
			return nil, err
		}
		return dynamostore.New(dynamodb.NewFromConfig(cfg), rest, store.Options{}), nil
	default:
		return nil, fmt.Errorf("%s=%q: unknown store %q, want sqlite or dynamodb", EnvStore, spec, kind)
	}
}
