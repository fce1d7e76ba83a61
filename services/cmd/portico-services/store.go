package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/dynamokeys"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
)

// openKeyStore opens the key store PORTICO_KEY_STORE names ("sqlite:<path>" or
// "dynamodb:<table>").
func openKeyStore(ctx context.Context, spec string, loadAWS func(context.Context) (aws.Config, error)) (apikey.Store, error) {
	sp, err := store.ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvKeyStore, spec, err)
	}
	if sp.Kind == store.KindSQLite {
		return openSQLiteKeys(ctx, sp.Target)
	}
	cfg, err := loadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return dynamokeys.New(dynamodb.NewFromConfig(cfg), sp.Target), nil
}

// openStore opens the store PORTICO_STORE names (store.ParseSpec: "sqlite:<path>" or
// "dynamodb:<table>"). SQLite is opened by store_sqlite.go, which Lambda builds leave out.
func openStore(ctx context.Context, spec string, loadAWS func(context.Context) (aws.Config, error)) (store.Store, error) {
	sp, err := store.ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvStore, spec, err)
	}
	if sp.Kind == store.KindSQLite {
		return openSQLite(ctx, sp.Target, store.Options{})
	}
	cfg, err := loadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), sp.Target, store.Options{}), nil
}
