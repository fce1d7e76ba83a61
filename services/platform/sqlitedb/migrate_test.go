package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"

	"github.com/portico-dev/portico/services/platform/sqlitedb"
)

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrations applies numbered migrations once, refuses malformed sets and a database
// newer than the program, and keeps each store's version in its own table.
func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	two := fstest.MapFS{
		"0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"0002_b.sql": {Data: []byte(`ALTER TABLE a ADD COLUMN y INTEGER;`)},
	}
	for _, tt := range []struct {
		name  string
		m     sqlitedb.Migrations
		error string
	}{
		{"gap", sqlitedb.Migrations{FS: fstest.MapFS{"0001_a.sql": {}, "0003_c.sql": {}}, VersionTable: "v"}, "expected number 2"},
		{"unnumbered", sqlitedb.Migrations{FS: fstest.MapFS{"init.sql": {}}, VersionTable: "v"}, "must start with its number"},
		{"hostile table name", sqlitedb.Migrations{FS: two, VersionTable: "v; DROP TABLE a"}, "not a plain identifier"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.m.Apply(ctx, open(t)); err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("Apply = %v, want %q", err, tt.error)
			}
			if v := tt.m.Version(); v != 0 {
				t.Fatalf("Version = %d, want 0", v)
			}
		})
	}
	t.Run("applied once, in its own table", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		m := sqlitedb.Migrations{FS: two, VersionTable: "first_version"}
		for range 2 {
			if err := m.Apply(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		var n, v int
		if err := db.QueryRow(`SELECT count(*), max(version) FROM first_version`).Scan(&n, &v); err != nil || n != 2 || v != 2 || m.Version() != 2 {
			t.Fatalf("versions %d rows, max %d, %v", n, v, err)
		}
		other := sqlitedb.Migrations{FS: fstest.MapFS{"0001_z.sql": {Data: []byte(`CREATE TABLE z (x INTEGER);`)}}, VersionTable: "second_version"}
		if err := other.Apply(ctx, db); err != nil {
			t.Fatalf("a second store in the same file: %v", err)
		}
		older := sqlitedb.Migrations{FS: fstest.MapFS{"0001_a.sql": two["0001_a.sql"]}, VersionTable: "first_version"}
		if err := older.Apply(ctx, db); err == nil || !strings.Contains(err.Error(), "newer than this program's") {
			t.Fatalf("an older program: %v", err)
		}
	})
}
