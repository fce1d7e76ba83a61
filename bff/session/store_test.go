package session_test

import (
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/sessiontest"
)

func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, func(_ *testing.T, now func() time.Time) session.Store {
		return session.NewMemoryStore(now)
	})
}
