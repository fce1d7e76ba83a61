package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// statements are the write path's SQL, prepared once per store. database/sql prepares each
// on a connection the first time a transaction on that connection uses it, and reuses it
// from then on: a Reserve or Settle no longer parses and plans its SQL every time (which was
// a fifth of its CPU).
type statements struct {
	expired       *sql.Stmt
	release       *sql.Stmt
	deleteRes     *sql.Stmt
	duplicate     *sql.Stmt
	counter       *sql.Stmt
	holdIfFits    *sql.Stmt
	insertRes     *sql.Stmt
	takeRes       *sql.Stmt
	settleCounter *sql.Stmt
	settled       *sql.Stmt
	lateCounter   *sql.Stmt
	insertLedger  *sql.Stmt
}

// prepare prepares every statement of the write path on db.
func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	var st statements
	for _, p := range []struct {
		to  **sql.Stmt
		sql string
	}{
		{&st.expired, `SELECT request_id, holds FROM reservations WHERE expires_at <= ?`},
		{&st.release, `UPDATE counters SET reserved = reserved - ? WHERE key = ?`},
		{&st.deleteRes, `DELETE FROM reservations WHERE request_id = ?`},
		{&st.duplicate, `SELECT EXISTS (SELECT 1 FROM reservations WHERE request_id = ?1)
			OR EXISTS (SELECT 1 FROM ledger WHERE request_id = ?1)`},
		{&st.counter, `SELECT used, reserved FROM counters WHERE key = ?`},
		// holdIfFits raises a counter's reserved by ?2 if used + reserved + ?2 stays within the
		// limit, ?4 being the limit less ?2 (>= 0, checked by the caller, as is the new row's
		// fit): no change means the limit refuses. The same test as store.Hold.Refusal, written
		// so that no sum can overflow.
		{&st.holdIfFits, `INSERT INTO counters (key, used, reserved, resets_at) VALUES (?1, 0, ?2, ?3)
			ON CONFLICT (key) DO UPDATE SET reserved = reserved + excluded.reserved
			WHERE max(0, used) <= ?4 AND max(0, reserved) <= ?4 - max(0, used)`},
		{&st.insertRes, `INSERT INTO reservations (request_id, expires_at, holds) VALUES (?, ?, ?)`},
		{&st.takeRes, `DELETE FROM reservations WHERE request_id = ? RETURNING holds`},
		{&st.settleCounter, `UPDATE counters SET used = used + ?, reserved = reserved - ? WHERE key = ?`},
		{&st.settled, `SELECT EXISTS (SELECT 1 FROM ledger WHERE request_id = ?)`},
		{&st.lateCounter, `INSERT INTO counters (key, used, reserved, resets_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (key) DO UPDATE SET used = used + excluded.used`},
		{&st.insertLedger, `INSERT INTO ledger (request_id, time_ns, day, subject, user, groups, client_id,
			procedure, model_id, outcome, error_message, input_tokens, output_tokens, usage_estimated, cost_nanos,
			price_table_version, latency_ns, ttft_ns, stop_reason, upstream_request_id, source_ip, user_agent, late)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.to = s
	}
	return &st, nil
}

// close closes every prepared statement.
func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.expired, st.release, st.deleteRes, st.duplicate, st.counter, st.holdIfFits,
		st.insertRes, st.takeRes, st.settleCounter, st.settled, st.lateCounter, st.insertLedger} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// wtx is a write transaction with the store's prepared statements.
type wtx struct {
	tx *sql.Tx
	st *statements
	// ctx is what statements run under: the transaction already holds the write lock, so
	// none waits for anything that cancellation could cut short (the transaction itself
	// still rolls back when the caller's context ends).
	ctx context.Context
	// bound are the statements bound to tx so far, in pairs: a statement, then its binding.
	bound []*sql.Stmt
}

// stmt returns s bound to the transaction, binding it once per transaction.
func (w *wtx) stmt(s *sql.Stmt) *sql.Stmt {
	for i := 0; i < len(w.bound); i += 2 {
		if w.bound[i] == s {
			return w.bound[i+1]
		}
	}
	b := w.tx.StmtContext(w.ctx, s)
	w.bound = append(w.bound, s, b)
	return b
}

func (w *wtx) exec(s *sql.Stmt, args ...any) (sql.Result, error) {
	return w.stmt(s).ExecContext(w.ctx, args...)
}

func (w *wtx) queryRow(s *sql.Stmt, args ...any) *sql.Row {
	return w.stmt(s).QueryRowContext(w.ctx, args...)
}

func (w *wtx) query(s *sql.Stmt, args ...any) (*sql.Rows, error) {
	return w.stmt(s).QueryContext(w.ctx, args...)
}
