// Package sqlitekeys is the SQLite apikey.Store, for a single machine (`make dev`,
// standalone deployments): one database file of its own (PORTICO_KEY_STORE=sqlite:<path>,
// by default .data/keys.db), created and migrated on open.
//
// Tables: api_keys (one row per key: id, owner, name, prefix, hash UNIQUE, models as JSON,
// times in Unix nanoseconds, 0 for none) and owner_seen (one row per owner: the last
// sign-in). Secrets are never stored, only their SHA-256.
package sqlitekeys

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/internal/unixnano"
)

// Store is the SQLite apikey.Store. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

var _ apikey.Store = (*Store)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS api_keys (
	id         TEXT NOT NULL,
	owner      TEXT NOT NULL,
	name       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	models     TEXT NOT NULL,
	created_ns INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL,
	last_used_ns INTEGER NOT NULL DEFAULT 0,
	revoked_ns INTEGER NOT NULL DEFAULT 0,
	revoked_by TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (owner, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_keys_created ON api_keys (created_ns);
CREATE TABLE IF NOT EXISTS owner_seen (
	owner       TEXT PRIMARY KEY,
	subject     TEXT NOT NULL,
	email       TEXT NOT NULL,
	display_name TEXT NOT NULL,
	department  TEXT NOT NULL,
	groups      TEXT NOT NULL,
	at_ns       INTEGER NOT NULL
) WITHOUT ROWID;
`

// Open opens (creating and migrating) the key database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlitekeys: a file path is required, got %q", path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("%w: open sqlite: %w", apikey.ErrUnavailable, err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: create tables: %w", apikey.ErrUnavailable, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Create adds k. See apikey.Store.
func (s *Store) Create(ctx context.Context, k apikey.Key) error {
	models, _ := json.Marshal(k.Models)
	if k.Models == nil {
		models = []byte("[]")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (id, owner, name, prefix, hash, models, created_ns, expires_ns,
		last_used_ns, revoked_ns, revoked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Owner, k.Name, k.Prefix, k.Hash, string(models),
		unixnano.Of(k.Created), unixnano.Of(k.Expires), unixnano.Of(k.LastUsed), unixnano.Of(k.Revoked), k.RevokedBy)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("%w: key %s of %s", apikey.ErrExists, k.ID, k.Owner)
	}
	if err != nil {
		return apikey.Unavailable("create key", err)
	}
	return nil
}

const columns = `id, owner, name, prefix, hash, models, created_ns, expires_ns, last_used_ns, revoked_ns, revoked_by`

type scanner interface{ Scan(dest ...any) error }

func scanKey(r scanner) (apikey.Key, error) {
	var k apikey.Key
	var models string
	var created, expires, used, revoked int64
	if err := r.Scan(&k.ID, &k.Owner, &k.Name, &k.Prefix, &k.Hash, &models, &created, &expires, &used, &revoked, &k.RevokedBy); err != nil {
		return apikey.Key{}, err
	}
	if err := json.Unmarshal([]byte(models), &k.Models); err != nil {
		return apikey.Key{}, fmt.Errorf("models of key %s: %w", k.ID, err)
	}
	if len(k.Models) == 0 {
		k.Models = nil
	}
	k.Created, k.Expires = unixnano.Time(created), unixnano.Time(expires)
	k.LastUsed, k.Revoked = unixnano.Time(used), unixnano.Time(revoked)
	return k, nil
}

// ByHash returns the key of hash. See apikey.Store.
func (s *Store) ByHash(ctx context.Context, hash string) (apikey.Key, error) {
	return s.one(ctx, `SELECT `+columns+` FROM api_keys WHERE hash = ?`, hash)
}

func (s *Store) one(ctx context.Context, q string, args ...any) (apikey.Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return apikey.Key{}, apikey.ErrNotFound
	}
	if err != nil {
		return apikey.Key{}, apikey.Unavailable("read key", err)
	}
	return k, nil
}

// List returns owner's keys, or everyone's. See apikey.Store.
func (s *Store) List(ctx context.Context, owner string) ([]apikey.Key, error) {
	q, args := `SELECT `+columns+` FROM api_keys ORDER BY created_ns DESC, id DESC`, []any{}
	if owner != "" {
		q, args = `SELECT `+columns+` FROM api_keys WHERE owner = ? ORDER BY created_ns DESC, id DESC`, []any{owner}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, apikey.Unavailable("list keys", err)
	}
	defer func() { _ = rows.Close() }()
	var out []apikey.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, apikey.Unavailable("list keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, apikey.Unavailable("list keys", err)
	}
	return out, nil
}

// Revoke revokes owner's key id. See apikey.Store.
func (s *Store) Revoke(ctx context.Context, owner, id, by string, at time.Time) (apikey.Key, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_ns = ?, revoked_by = ?
		WHERE owner = ? AND id = ? AND revoked_ns = 0`, unixnano.Of(at), by, owner, id); err != nil {
		return apikey.Key{}, apikey.Unavailable("revoke key", err)
	}
	return s.one(ctx, `SELECT `+columns+` FROM api_keys WHERE owner = ? AND id = ?`, owner, id)
}

// Touch records a use of owner's key id. See apikey.Store.
func (s *Store) Touch(ctx context.Context, owner, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_ns = max(last_used_ns, ?) WHERE owner = ? AND id = ?`, unixnano.Of(at), owner, id)
	if err != nil {
		return apikey.Unavailable("touch key", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return apikey.ErrNotFound
	}
	return nil
}

// PutSeen records an owner's sign-in. See apikey.Store.
func (s *Store) PutSeen(ctx context.Context, v apikey.Seen) error {
	groups, _ := json.Marshal(v.Groups)
	if v.Groups == nil {
		groups = []byte("[]")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO owner_seen (owner, subject, email, display_name, department, groups, at_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner) DO UPDATE SET subject = excluded.subject, email = excluded.email,
			display_name = excluded.display_name, department = excluded.department, groups = excluded.groups,
			at_ns = excluded.at_ns
		WHERE excluded.at_ns >= owner_seen.at_ns`,
		v.Owner, v.Subject, v.Email, v.DisplayName, v.Department, string(groups), unixnano.Of(v.At))
	if err != nil {
		return apikey.Unavailable("record sign-in", err)
	}
	return nil
}

// Seen returns owner's last sign-in. See apikey.Store.
func (s *Store) Seen(ctx context.Context, owner string) (apikey.Seen, error) {
	v := apikey.Seen{Owner: owner}
	var groups string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT subject, email, display_name, department, groups, at_ns FROM owner_seen WHERE owner = ?`, owner).
		Scan(&v.Subject, &v.Email, &v.DisplayName, &v.Department, &groups, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return apikey.Seen{}, apikey.ErrNotFound
	}
	if err != nil {
		return apikey.Seen{}, apikey.Unavailable("read sign-in", err)
	}
	if err := json.Unmarshal([]byte(groups), &v.Groups); err != nil {
		return apikey.Seen{}, apikey.Unavailable("read sign-in", err)
	}
	if len(v.Groups) == 0 {
		v.Groups = nil
	}
	v.At = unixnano.Time(at)
	return v, nil
}
