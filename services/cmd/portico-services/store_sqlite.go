//go:build !lambda.norpc

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/sqlitekeys"
	"github.com/portico-dev/portico/services/conversation"
	convsqlite "github.com/portico-dev/portico/services/conversation/sqlitestore"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
)

// openSQLite opens the SQLite store at path, creating its directory. SQLite (pure Go, about
// 8 MB of the binary) is left out of Lambda builds, made with -tags lambda.norpc as
// `make build` does: on Lambda the store is DynamoDB.
func openSQLite(ctx context.Context, path string, opts store.Options) (store.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store directory: %w", err)
	}
	s, err := sqlitestore.Open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	return s, nil
}

// openConversationSQLite opens the SQLite conversation store at path, creating its
// directory.
func openConversationSQLite(ctx context.Context, path string) (conversation.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("conversation store directory: %w", err)
	}
	s, err := convsqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("sqlite conversation store: %w", err)
	}
	return s, nil
}

// openSQLiteKeys opens the SQLite key store at path, creating its directory.
func openSQLiteKeys(ctx context.Context, path string) (apikey.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key store directory: %w", err)
	}
	s, err := sqlitekeys.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("sqlite key store: %w", err)
	}
	return s, nil
}
