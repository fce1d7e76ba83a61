// Package sqlitestore is the embedded conversation.Store: one SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode, migrated on open from numbered, embedded migrations, with
// FTS5 full-text indexes for search (ranked by bm25).
//
// The file is the conversation store's own (PORTICO_CONVERSATION_STORE), apart from the quota
// store: conversations are large and read often, counters small and hot. Every change runs in
// an IMMEDIATE transaction, so the limits hold across processes sharing the file. Expired
// conversations are deleted by DeleteExpired, which the service's sweeper calls (see
// conversation.Sweep).
package sqlitestore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	"github.com/portico-dev/portico/services/conversation"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/portico-dev/portico/services/platform/sqlitedb"
)

// BusyTimeout is how long a writer waits for another process's write lock.
const BusyTimeout = 10 * time.Second

// Store is a conversation.Store on one SQLite file.
type Store struct {
	db    *sql.DB
	write sync.Mutex // serialises this process's write transactions
	ckpt  *sqlitedb.Checkpointer

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // prepared once, by query text
}

// txq runs the store's queries in one transaction with statements prepared once.
type txq struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
}

// stmt returns query prepared in the transaction (prepared on the connection once and kept).
func (q *txq) stmt(query string) (*sql.Stmt, error) {
	q.s.mu.Lock()
	st, ok := q.s.stmts[query]
	q.s.mu.Unlock()
	if !ok {
		var err error
		if st, err = q.s.db.PrepareContext(q.ctx, query); err != nil {
			return nil, err
		}
		q.s.mu.Lock()
		if prev, dup := q.s.stmts[query]; dup {
			_ = st.Close()
			st = prev
		} else {
			q.s.stmts[query] = st
		}
		q.s.mu.Unlock()
	}
	return q.tx.StmtContext(q.ctx, st), nil
}

func (q *txq) exec(query string, args ...any) (sql.Result, error) {
	st, err := q.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(q.ctx, args...)
}

func (q *txq) query(query string, args ...any) (*sql.Rows, error) {
	st, err := q.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(q.ctx, args...)
}

// queryRow is QueryRowContext; a failure to prepare comes back from Scan.
func (q *txq) queryRow(query string, args ...any) scanner {
	st, err := q.stmt(query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(q.ctx, args...)
}

// errRow is a row whose Scan fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

var (
	_ conversation.Store   = (*Store)(nil)
	_ conversation.Sweeper = (*Store)(nil)
)

// Open opens (creating it if needed) the SQLite database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("conversation sqlitestore: a file path is required, got %q", path)
	}
	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous(NORMAL)")
	params.Add("_pragma", "wal_autocheckpoint(0)") // checkpointed off the requests' path (sqlitedb.Checkpointer)
	params.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+uriPath.Replace(path)+"?"+params.Encode())
	if err != nil {
		return nil, conversation.Unavailable("open sqlite", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := schema.Apply(ctx, db); err != nil {
		_ = db.Close()
		return nil, conversation.Unavailable("migrate sqlite", err)
	}
	return &Store{db: db, stmts: map[string]*sql.Stmt{}, ckpt: sqlitedb.StartCheckpointer(db)}, nil //nolint:contextcheck // the checkpointer outlives Open: Close stops it
}

// uriPath escapes what a SQLite URI filename would read as its query, fragment or escapes.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.stmts == nil {
		s.mu.Unlock()
		return nil
	}
	for _, st := range s.stmts {
		_ = st.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	s.ckpt.Close()
	return s.db.Close()
}

// ownerToken is the one FTS token that stands for owner in the indexes.
func ownerToken(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return "o" + hex.EncodeToString(sum[:16])
}

// inTx runs fn in an IMMEDIATE transaction.
func (s *Store) inTx(ctx context.Context, op string, fn func(*txq) error) error {
	s.write.Lock()
	defer s.write.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return conversation.Unavailable(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&txq{s: s, tx: tx, ctx: ctx}); err != nil {
		var le *conversation.LimitError
		if errors.Is(err, conversation.ErrNotFound) || errors.As(err, &le) {
			return err
		}
		return conversation.Unavailable(op, err)
	}
	if err := tx.Commit(); err != nil {
		return conversation.Unavailable(op, err)
	}
	s.ckpt.Wrote()
	return nil
}

const summaryCols = `id, title, pinned, created, updated, model_id, message_count, bytes, expires`

type scanner interface{ Scan(...any) error }

func scanSummary(r scanner) (conversation.Summary, error) {
	var c conversation.Summary
	var created, updated, expires int64
	if err := r.Scan(&c.ID, &c.Title, &c.Pinned, &created, &updated, &c.ModelID, &c.MessageCount, &c.Bytes, &expires); err != nil {
		return c, err
	}
	c.Created, c.Updated = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if expires > 0 {
		c.Expires = time.Unix(0, expires).UTC()
	}
	return c, nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// List returns a page of the owner's conversations. See conversation.Store.
func (s *Store) List(ctx context.Context, owner string, size int, token string) ([]conversation.Summary, string, error) {
	args := []any{owner}
	where := ""
	if token != "" {
		k, err := conversation.DecodeListToken(token)
		if err != nil {
			return nil, "", err
		}
		where = ` AND (pinned, updated, id) < (?, ?, ?)`
		args = append(args, k.Pinned, k.Updated.UnixNano(), k.ID)
	}
	args = append(args, size+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryCols+` FROM conversations WHERE owner = ?`+where+
		` ORDER BY pinned DESC, updated DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", conversation.Unavailable("list", err)
	}
	defer func() { _ = rows.Close() }()
	var out []conversation.Summary
	for rows.Next() {
		c, err := scanSummary(rows)
		if err != nil {
			return nil, "", conversation.Unavailable("list", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", conversation.Unavailable("list", err)
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		next = conversation.EncodeListToken(out[size-1])
	}
	return out, next, nil
}

// Get returns a conversation with its messages. See conversation.Store.
func (s *Store) Get(ctx context.Context, owner, id string) (conversation.Summary, []conversation.Message, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return conversation.Summary{}, nil, conversation.Unavailable("get", err)
	}
	defer func() { _ = tx.Rollback() }()
	q := &txq{s: s, tx: tx, ctx: ctx}
	c, err := scanSummary(q.queryRow(`SELECT `+summaryCols+` FROM conversations WHERE owner = ? AND id = ?`, owner, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil, conversation.ErrNotFound
	}
	if err != nil {
		return c, nil, conversation.Unavailable("get", err)
	}
	msgs, err := messages(q, owner, id)
	if err != nil {
		return c, nil, conversation.Unavailable("get", err)
	}
	return c, msgs, nil
}

func messages(q *txq, owner, id string) ([]conversation.Message, error) {
	rows, err := q.query(`SELECT body, bytes FROM messages WHERE owner = ? AND conversation = ? ORDER BY seq`, owner, id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []conversation.Message
	for rows.Next() {
		var body []byte
		var m conversation.Message
		if err := rows.Scan(&body, &m.Bytes); err != nil {
			return nil, err
		}
		m.Body = &conversationv1.ConversationMessage{}
		if err := proto.Unmarshal(body, m.Body); err != nil {
			return nil, fmt.Errorf("message of %s: %w", id, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Update renames or pins a conversation. See conversation.Store.
func (s *Store) Update(ctx context.Context, owner, id string, p conversation.Patch) (conversation.Summary, error) {
	var c conversation.Summary
	err := s.inTx(ctx, "update", func(q *txq) error {
		var rowid int64
		if err := q.queryRow(`SELECT rowid FROM conversations WHERE owner = ? AND id = ?`, owner, id).Scan(&rowid); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return conversation.ErrNotFound
			}
			return err
		}
		if p.Title != nil {
			if _, err := q.exec(`UPDATE conversations SET title = ? WHERE rowid = ?`, *p.Title, rowid); err != nil {
				return err
			}
			if err := indexTitle(q, rowid, owner, *p.Title); err != nil {
				return err
			}
		}
		if p.Pinned != nil {
			if _, err := q.exec(`UPDATE conversations SET pinned = ? WHERE rowid = ?`, *p.Pinned, rowid); err != nil {
				return err
			}
		}
		if _, err := q.exec(`UPDATE conversations SET updated = max(updated, ?) WHERE rowid = ?`, p.Now.UnixNano(), rowid); err != nil {
			return err
		}
		var err error
		c, err = scanSummary(q.queryRow(`SELECT `+summaryCols+` FROM conversations WHERE rowid = ?`, rowid))
		return err
	})
	return c, err
}

func indexTitle(q *txq, rowid int64, owner, title string) error {
	if _, err := q.exec(`DELETE FROM title_fts WHERE rowid = ?`, rowid); err != nil {
		return err
	}
	_, err := q.exec(`INSERT INTO title_fts (rowid, owner, title) VALUES (?, ?, ?)`, rowid, ownerToken(owner), title)
	return err
}

// Delete deletes a conversation and its messages. See conversation.Store.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	return s.inTx(ctx, "delete", func(q *txq) error { return deleteConversation(q, owner, id) })
}

func deleteConversation(q *txq, owner, id string) error {
	var rowid int64
	if err := q.queryRow(`SELECT rowid FROM conversations WHERE owner = ? AND id = ?`, owner, id).Scan(&rowid); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return conversation.ErrNotFound
		}
		return err
	}
	for _, stmt := range []string{
		`DELETE FROM message_fts WHERE rowid IN (SELECT rowid FROM messages WHERE owner = ? AND conversation = ?)`,
		`DELETE FROM messages WHERE owner = ? AND conversation = ?`,
	} {
		if _, err := q.exec(stmt, owner, id); err != nil {
			return err
		}
	}
	if _, err := q.exec(`DELETE FROM title_fts WHERE rowid = ?`, rowid); err != nil {
		return err
	}
	_, err := q.exec(`DELETE FROM conversations WHERE rowid = ?`, rowid)
	return err
}

// AddTurn stores a user message. See conversation.Store.
func (s *Store) AddTurn(ctx context.Context, t conversation.Turn) (conversation.Summary, error) {
	body, err := proto.Marshal(t.Message.Body)
	if err != nil {
		return conversation.Summary{}, fmt.Errorf("encode message: %w", err)
	}
	var c conversation.Summary
	err = s.inTx(ctx, "add turn", func(q *txq) error {
		id := t.ConversationID
		if id == "" {
			id = t.NewConversationID
			if lim := t.Limits.ConversationsPerUser; lim > 0 {
				var n int
				if err := q.queryRow(`SELECT count(*) FROM conversations WHERE owner = ?`, t.Owner).Scan(&n); err != nil {
					return err
				}
				if n >= lim {
					return conversation.ConversationsLimit(lim)
				}
			}
			res, err := q.exec(`INSERT INTO conversations (owner, id, title, created, updated, expires) VALUES (?, ?, ?, ?, ?, ?)`,
				t.Owner, id, t.Title, t.Now.UnixNano(), t.Now.UnixNano(), nanos(t.Expires))
			if err != nil {
				return err
			}
			rowid, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if err := indexTitle(q, rowid, t.Owner, t.Title); err != nil {
				return err
			}
			if t.OwnerName != "" {
				if _, err := q.exec(`INSERT INTO owner_names (owner, name) VALUES (?, ?)
					ON CONFLICT (owner) DO UPDATE SET name = excluded.name WHERE name <> excluded.name`, t.Owner, t.OwnerName); err != nil {
					return err
				}
			}
		}
		var count int
		var bytes int64
		if err := q.queryRow(`SELECT message_count, bytes FROM conversations WHERE owner = ? AND id = ?`, t.Owner, id).Scan(&count, &bytes); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return conversation.ErrNotFound
			}
			return err
		}
		// The messages after the parent go.
		after := int64(0)
		if t.ParentID != "" {
			if err := q.queryRow(`SELECT seq FROM messages WHERE owner = ? AND conversation = ? AND id = ?`, t.Owner, id, t.ParentID).Scan(&after); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return conversation.ErrNotFound
				}
				return err
			}
		}
		var gone int
		var goneBytes int64
		if err := q.queryRow(`SELECT count(*), coalesce(sum(bytes), 0) FROM messages WHERE owner = ? AND conversation = ? AND seq > ?`,
			t.Owner, id, after).Scan(&gone, &goneBytes); err != nil {
			return err
		}
		count -= gone
		bytes -= goneBytes
		if err := conversation.CheckTurn(t.Limits, count, bytes, t.Message.Bytes); err != nil {
			return err
		}
		if gone > 0 {
			if _, err := q.exec(`DELETE FROM message_fts WHERE rowid IN (SELECT rowid FROM messages WHERE owner = ? AND conversation = ? AND seq > ?)`, t.Owner, id, after); err != nil {
				return err
			}
			if _, err := q.exec(`DELETE FROM messages WHERE owner = ? AND conversation = ? AND seq > ?`, t.Owner, id, after); err != nil {
				return err
			}
		}
		if err := insertMessage(q, t.Owner, id, t.Message, body); err != nil {
			return err
		}
		if _, err := q.exec(`UPDATE conversations SET message_count = ?, bytes = ?, updated = ?, expires = ? WHERE owner = ? AND id = ?`,
			count+1, bytes+t.Message.Bytes, t.Now.UnixNano(), nanos(t.Expires), t.Owner, id); err != nil {
			return err
		}
		var err error
		c, err = scanSummary(q.queryRow(`SELECT `+summaryCols+` FROM conversations WHERE owner = ? AND id = ?`, t.Owner, id))
		return err
	})
	return c, err
}

// insertMessage appends m (encoded as body) to the conversation, with its search text.
func insertMessage(q *txq, owner, id string, m conversation.Message, body []byte) error {
	var seq int64
	if err := q.queryRow(`UPDATE conversations SET next_seq = next_seq + 1 WHERE owner = ? AND id = ? RETURNING next_seq - 1`, owner, id).Scan(&seq); err != nil {
		return err
	}
	res, err := q.exec(`INSERT INTO messages (owner, conversation, seq, id, body, bytes) VALUES (?, ?, ?, ?, ?, ?)`,
		owner, id, seq, m.ID(), body, m.Bytes)
	if err != nil {
		return err
	}
	rowid, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if text := conversation.SearchText(m.Body); text != "" {
		_, err = q.exec(`INSERT INTO message_fts (rowid, owner, text) VALUES (?, ?, ?)`, rowid, ownerToken(owner), text)
	}
	return err
}

// AddAnswer stores an answer. See conversation.Store.
func (s *Store) AddAnswer(ctx context.Context, a conversation.Answer) error {
	body, err := proto.Marshal(a.Message.Body)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	return s.inTx(ctx, "add answer", func(q *txq) error {
		var n int
		if err := q.queryRow(`SELECT count(*) FROM messages WHERE owner = ? AND conversation = ? AND id = ?`,
			a.Owner, a.ConversationID, a.Message.Body.GetParentId()).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return conversation.ErrNotFound
		}
		if err := insertMessage(q, a.Owner, a.ConversationID, a.Message, body); err != nil {
			return err
		}
		_, err := q.exec(`UPDATE conversations SET message_count = message_count + 1, bytes = bytes + ?, updated = ?, expires = ?, model_id = ? WHERE owner = ? AND id = ?`,
			a.Message.Bytes, a.Now.UnixNano(), nanos(a.Expires), a.Message.Body.GetModelId(), a.Owner, a.ConversationID)
		return err
	})
}

// Search finds the owner's conversations by title and message text, ranked by bm25. See
// conversation.Store.
func (s *Store) Search(ctx context.Context, owner string, terms []string, limit int) ([]conversation.Hit, error) {
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	match := ftsQuery(owner, terms, "text")
	type ranked struct {
		hit   conversation.Hit
		score float64
	}
	best := map[string]*ranked{}
	var order []string
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	defer func() { _ = tx.Rollback() }()
	q := &txq{s: s, tx: tx, ctx: ctx}
	// The best message of each conversation (SQLite takes the bare columns from the row of
	// min()).
	rows, err := q.query(`WITH h AS MATERIALIZED (SELECT rowid AS r, text, bm25(message_fts) AS score FROM message_fts WHERE message_fts MATCH ?)
		SELECT m.conversation, m.id, h.text, min(h.score) AS s FROM h
		JOIN messages m ON m.rowid = h.r AND m.owner = ?
		GROUP BY m.conversation ORDER BY s LIMIT ?`, match, owner, limit)
	if err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	for rows.Next() {
		r := &ranked{}
		if err := rows.Scan(&r.hit.Conversation.ID, &r.hit.MessageID, &r.hit.Text, &r.score); err != nil {
			_ = rows.Close()
			return nil, conversation.Unavailable("search", err)
		}
		best[r.hit.Conversation.ID] = r
		order = append(order, r.hit.Conversation.ID)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	rows, err = q.query(`SELECT c.id, c.title, bm25(title_fts) AS s
		FROM title_fts JOIN conversations c ON c.rowid = title_fts.rowid AND c.owner = ?
		WHERE title_fts MATCH ? ORDER BY s LIMIT ?`, owner, ftsQuery(owner, terms, "title"), limit)
	if err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	for rows.Next() {
		var id, title string
		var score float64
		if err := rows.Scan(&id, &title, &score); err != nil {
			_ = rows.Close()
			return nil, conversation.Unavailable("search", err)
		}
		if r, ok := best[id]; ok {
			r.score = min(r.score, score)
			continue
		}
		best[id] = &ranked{hit: conversation.Hit{Conversation: conversation.Summary{ID: id}, Text: title}, score: score}
		order = append(order, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	list := make([]*ranked, 0, len(order))
	for _, id := range order {
		list = append(list, best[id])
	}
	// bm25 is lower for better matches; ties keep the order found.
	slices.SortStableFunc(list, func(a, b *ranked) int { return cmp.Compare(a.score, b.score) })
	if len(list) > limit {
		list = list[:limit]
	}
	out := make([]conversation.Hit, 0, len(list))
	for _, r := range list {
		c, err := scanSummary(q.queryRow(`SELECT `+summaryCols+` FROM conversations WHERE owner = ? AND id = ?`, owner, r.hit.Conversation.ID))
		if err != nil {
			return nil, conversation.Unavailable("search", err)
		}
		r.hit.Conversation = c
		out = append(out, r.hit)
	}
	return out, nil
}

// ftsQuery is the FTS5 query for terms in column of owner's rows: each term a quoted prefix
// (terms hold only letters and digits; quoting keeps FTS5 operators out all the same).
func ftsQuery(owner string, terms []string, column string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `owner : "%s"`, ownerToken(owner))
	for _, t := range terms {
		fmt.Fprintf(&b, ` AND %s : "%s"*`, column, strings.ReplaceAll(t, `"`, `""`))
	}
	return b.String()
}

// DeleteExpired deletes up to limit conversations that expired at or before now. See
// conversation.Sweeper.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) ([]conversation.Expired, error) {
	var out []conversation.Expired
	err := s.inTx(ctx, "delete expired", func(q *txq) error {
		rows, err := q.query(`SELECT owner, id FROM conversations WHERE expires > 0 AND expires <= ? LIMIT ?`, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e conversation.Expired
			if err := rows.Scan(&e.Owner, &e.ID); err != nil {
				_ = rows.Close()
				return err
			}
			out = append(out, e)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, e := range out {
			if err := deleteConversation(q, e.Owner, e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the store's migrations, recorded in its own version table.
var schema = sqlitedb.Migrations{FS: migrations, Dir: "migrations", VersionTable: "conversation_schema_version"}

// SchemaVersion is the schema version this package migrates databases to.
func SchemaVersion() int { return schema.Version() }
