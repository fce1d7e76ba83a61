//go:build !lambda.norpc

package bff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/sqlitesession"
)

// openSQLiteSessions opens the SQLite session store at path, creating its directory. SQLite
// (pure Go, about 2 MB of the stripped binary) is left out of Lambda builds, made with -tags
// lambda.norpc as `make build` does: on Lambda, sessions are in cookies or DynamoDB.
func openSQLiteSessions(ctx context.Context, path string, sealer session.Sealer, now func() time.Time) (session.Store, func() error, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("session store directory: %w", err)
	}
	s, err := sqlitesession.Open(ctx, path, sealer, sqlitesession.Options{Now: now})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
