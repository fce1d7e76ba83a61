// Package sqlitesession is a session.Store in a SQLite database (WAL mode), for a single
// machine and the development stack. Several processes on the machine may share the file.
//
// Rows are keyed by session.StoreKey(ticket), never the ticket, and hold the session sealed
// with the BFF's cookie keys (the row key bound in as associated data), so a reader of the
// file can neither sign in with a key nor read the tokens.
package sqlitesession

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/portico-dev/portico/bff/session"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// BusyTimeout is how long a writer waits for another connection's write lock.
const BusyTimeout = 5 * time.Second

// sweepEvery is how often Create drops expired rows.
const sweepEvery = time.Minute

const schema = `CREATE TABLE IF NOT EXISTS bff_sessions (
	key     TEXT PRIMARY KEY,
	sealed  TEXT NOT NULL,
	expires INTEGER NOT NULL -- session end, Unix milliseconds
) WITHOUT ROWID`

// Options configure a Store.
type Options struct {
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Store is a session.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	sealer session.Sealer
	now    func() time.Time

	mu      sync.Mutex
	sweepAt time.Time
}

var _ session.Store = (*Store)(nil)

// Open opens (creating it if needed) the database at path and its sessions table; sealer
// (the BFF's *cookie.Codec) seals the stored sessions. Close releases it.
func Open(ctx context.Context, path string, sealer session.Sealer, opts Options) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlitesession: a file path is required, got %q", path)
	}
	if sealer == nil {
		return nil, errors.New("sqlitesession: a sealer is required")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+strings.NewReplacer("?", "%3F", "#", "%23").Replace(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitesession: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitesession: create table: %w", err)
	}
	s := &Store{db: db, sealer: sealer, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlitesession: close: %w", err)
	}
	return nil
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, id string) (*session.Session, error) {
	key := session.StoreKey(id)
	var sealed string
	err := s.db.QueryRowContext(ctx,
		`SELECT sealed FROM bff_sessions WHERE key = ? AND expires > ?`, key, s.now().UnixMilli()).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitesession: load: %w", err)
	}
	sess, err := session.OpenStored(s.sealer, key, sealed)
	if err != nil {
		return nil, fmt.Errorf("sqlitesession: %w", err)
	}
	if sess.ID != id || !s.now().Before(sess.Expires) {
		return nil, session.ErrNotFound
	}
	return sess, nil
}

// Create implements session.Store. It also drops expired rows, at most once a minute.
func (s *Store) Create(ctx context.Context, sess *session.Session) error {
	now := s.now()
	if err := s.sweep(ctx, now); err != nil {
		return err
	}
	key := session.StoreKey(sess.ID)
	sealed, err := session.SealStored(s.sealer, key, sess)
	if err != nil {
		return fmt.Errorf("sqlitesession: %w", err)
	}
	// An expired row under the same key is replaced; a live one is not.
	res, err := s.db.ExecContext(ctx, `INSERT INTO bff_sessions (key, sealed, expires) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, expires = excluded.expires
		WHERE bff_sessions.expires <= ?`,
		key, sealed, sess.Expires.UnixMilli(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlitesession: create: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlitesession: create: %w", err)
	} else if n == 0 {
		return session.ErrExists
	}
	return nil
}

// Update implements session.Store: it rewrites only a row that exists and has not expired.
func (s *Store) Update(ctx context.Context, sess *session.Session) error {
	key := session.StoreKey(sess.ID)
	sealed, err := session.SealStored(s.sealer, key, sess)
	if err != nil {
		return fmt.Errorf("sqlitesession: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE bff_sessions SET sealed = ?, expires = ? WHERE key = ? AND expires > ?`,
		sealed, sess.Expires.UnixMilli(), key, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlitesession: update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlitesession: update: %w", err)
	} else if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM bff_sessions WHERE key = ?`, session.StoreKey(id)); err != nil {
		return fmt.Errorf("sqlitesession: delete: %w", err)
	}
	return nil
}

func (s *Store) sweep(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	due := now.After(s.sweepAt)
	if due {
		s.sweepAt = now.Add(sweepEvery)
	}
	s.mu.Unlock()
	if !due {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM bff_sessions WHERE expires <= ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("sqlitesession: sweep: %w", err)
	}
	return nil
}
