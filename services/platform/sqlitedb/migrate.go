package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Migrations are a store's numbered schema changes: files named "<n>_<what>.sql" in folder Dir
// of an fs.FS (usually the store's embed.FS), numbered 1, 2, 3, ... without a gap.
type Migrations struct {
	// FS holds the migration files.
	FS fs.FS
	// Dir is the folder of FS that holds them; "" or "." for its root.
	Dir string
	// VersionTable names the table that records which migrations a database has; it must be
	// a plain identifier, distinct for each store sharing a file.
	VersionTable string
}

type migration struct {
	version int
	name    string
	sql     string
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func (m Migrations) load() ([]migration, error) {
	if !identifier.MatchString(m.VersionTable) {
		return nil, fmt.Errorf("migrations: version table %q is not a plain identifier", m.VersionTable)
	}
	fsys := m.FS
	if m.Dir != "" && m.Dir != "." {
		sub, err := fs.Sub(m.FS, m.Dir)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		fsys = sub
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with its number", n)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: n, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, mg := range out {
		if mg.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", mg.name, i+1)
		}
	}
	return out, nil
}

// Version is the schema version the migrations bring a database to; 0 when they are
// malformed.
func (m Migrations) Version() int {
	ms, err := m.load()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Apply applies, in one IMMEDIATE transaction, every migration newer than the database's
// version table says. Processes opening the same file at once migrate it once; a database
// newer than the migrations is refused.
func (m Migrations) Apply(ctx context.Context, db *sql.DB) error {
	ms, err := m.load()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// The table name is a checked identifier (load); the values are arguments.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+m.VersionTable+` (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+m.VersionTable).Scan(&current); err != nil { //nolint:gosec // checked identifier
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", current, len(ms))
	}
	for _, mg := range ms[current:] {
		if _, err := tx.ExecContext(ctx, mg.sql); err != nil {
			return fmt.Errorf("migration %s: %w", mg.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+m.VersionTable+` (version) VALUES (?)`, mg.version); err != nil { //nolint:gosec // checked identifier
			return err
		}
	}
	return tx.Commit()
}
