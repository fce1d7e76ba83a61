// Package storeconfig opens the store.Store that PORTICO_STORE names.
package storeconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/store/sqlitestore"
)

// EnvStore is the environment variable naming the store.
const EnvStore = "PORTICO_STORE"

// Default is the store used when PORTICO_STORE is unset: the launcher's SQLite file.
const Default = "sqlite:.data/portico.db"

// Spec is a parsed store name: "sqlite:<path>" or "dynamodb:<table>".
type Spec struct {
	// Kind is "sqlite" or "dynamodb".
	Kind string
	// Path is the SQLite file, for sqlite.
	Path string
	// Table is the DynamoDB table, for dynamodb.
	Table string
}

// Parse parses a store name; the empty string means Default.
func Parse(s string) (Spec, error) {
	if s == "" {
		s = Default
	}
	kind, rest, ok := strings.Cut(s, ":")
	switch {
	case !ok || rest == "":
		return Spec{}, fmt.Errorf("%s=%q: want sqlite:<path> or dynamodb:<table>", EnvStore, s)
	case kind == "sqlite":
		return Spec{Kind: kind, Path: rest}, nil
	case kind == "dynamodb":
		return Spec{Kind: kind, Table: rest}, nil
	default:
		return Spec{}, fmt.Errorf("%s=%q: unknown store %q, want sqlite or dynamodb", EnvStore, s, kind)
	}
}

// Open opens the store named by spec (see Parse). A SQLite file's directory is created if
// missing. For DynamoDB, loadAWS supplies the SDK configuration (nil means
// config.LoadDefaultConfig, which honours AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB); the
// table must exist (dynamostore.EnsureTable creates one for development).
func Open(ctx context.Context, spec string, opts store.Options, loadAWS func(context.Context) (aws.Config, error)) (store.Store, error) {
	sp, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	switch sp.Kind {
	case "sqlite":
		if dir := filepath.Dir(sp.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store directory: %w", err)
			}
		}
		s, err := sqlitestore.Open(ctx, sp.Path, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		if loadAWS == nil {
			loadAWS = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
		}
		cfg, err := loadAWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws configuration: %w", err)
		}
		return dynamostore.New(dynamodb.NewFromConfig(cfg), sp.Table, opts), nil
	}
}
