package dynamostore

import (
	"testing"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	db := client(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s := New(db, newTable(t, db), opts)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
