package sqlitekeys_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/keystoretest"
	"github.com/portico-dev/portico/services/apikey/sqlitekeys"
)

func TestContract(t *testing.T) {
	t.Parallel()
	keystoretest.Run(t, func(t *testing.T) apikey.Store {
		s, err := sqlitekeys.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestOnlyHashesAtRest reads the database file's rows: a created key's secret appears
// nowhere, only its SHA-256.
func TestOnlyHashesAtRest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := sqlitekeys.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := apikey.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.Create(t.Context(), apikey.Key{ID: "0123456789abcdef", Owner: "alice", Name: "n", Prefix: apikey.DisplayPrefix(secret),
		Hash: apikey.Hash(secret), Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var dump string
	if err := db.QueryRowContext(context.Background(), `SELECT id || owner || name || prefix || hash || models FROM api_keys`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, secret[len(apikey.DisplayPrefix(secret)):]) || !strings.Contains(dump, apikey.Hash(secret)) {
		t.Errorf("row %q holds the secret or lacks its hash", dump)
	}
}
