package dynamosession

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// client returns a DynamoDB client for the test binary's dynalite, starting it if needed.
func client(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynalitetest.Start(t).Client
}

// newTable creates a fresh table and returns its name.
func newTable(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	name := dynalitetest.Start(t).Table("portico-sessions")
	if err := EnsureTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return name
}
