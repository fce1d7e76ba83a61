//go:build lambda.norpc

package bff

import (
	"context"
	"errors"
	"time"

	"github.com/portico-dev/portico/bff/session"
)

// openSQLiteSessions refuses: Lambda builds (-tags lambda.norpc) leave SQLite out.
func openSQLiteSessions(context.Context, string, session.Sealer, func() time.Time) (session.Store, func() error, error) {
	return nil, nil, errors.New("PORTICO_SESSION_STORE: SQLite is not in Lambda builds; use cookie or dynamodb:<table>")
}
