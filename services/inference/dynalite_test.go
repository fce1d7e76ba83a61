package inference_test

import (
	"context"
	"testing"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// openDynamo returns a fresh DynamoDB store on the test binary's dynalite.
func openDynamo(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	srv := dynalitetest.Start(t)
	table := srv.Table("inference-test")
	if err := dynamostore.EnsureTable(context.Background(), srv.Client, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return dynamostore.New(srv.Client, table, opts)
}
