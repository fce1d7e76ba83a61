package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// writer is the one connection this store writes on, with the write path's SQL prepared on
// it once: a Reserve or Settle neither parses its SQL again (a fifth of its CPU before) nor
// goes through database/sql's transactions, which start a goroutine to watch each one's
// context, and modernc's, which start one more per BEGIN and COMMIT. Writes queue for it on
// Store.write in any case.
type writer struct {
	conn *sql.Conn

	begin, commit, rollback *sql.Stmt
	// savepoint, rollbackTo and releaseSavepoint bracket one write of a group commit.
	savepoint, rollbackTo, releaseSavepoint *sql.Stmt

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
	addUsage      *sql.Stmt
	purge         *sql.Stmt
}

// newWriter takes a connection from db for writes and prepares the write path on it.
func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{conn: conn}
	for _, p := range []struct {
		to  **sql.Stmt
		sql string
	}{
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.savepoint, `SAVEPOINT one_write`},
		{&w.rollbackTo, `ROLLBACK TO one_write`},
		{&w.releaseSavepoint, `RELEASE one_write`},
		{&w.expired, `SELECT request_id, holds FROM reservations WHERE expires_at <= ?`},
		{&w.release, `UPDATE counters SET reserved = reserved - ? WHERE key = ?`},
		{&w.deleteRes, `DELETE FROM reservations WHERE request_id = ?`},
		{&w.duplicate, `SELECT EXISTS (SELECT 1 FROM reservations WHERE request_id = ?1)
			OR EXISTS (SELECT 1 FROM ledger WHERE request_id = ?1)`},
		{&w.counter, `SELECT used, reserved FROM counters WHERE key = ?`},
		// holdIfFits raises a counter's reserved by ?2 if used + reserved + ?2 stays within the
		// limit, ?4 being the limit less ?2 (>= 0, checked by the caller, as is the new row's
		// fit): no change means the limit refuses. The same test as store.Hold.Refusal, written
		// so that no sum can overflow.
		// A negative used or reserved is corrupt, never zero: the hold is refused, and the
		// caller's read of the counter reports the corruption.
		{&w.holdIfFits, `INSERT INTO counters (key, used, reserved, resets_at) VALUES (?1, 0, ?2, ?3)
			ON CONFLICT (key) DO UPDATE SET reserved = reserved + excluded.reserved
			WHERE used >= 0 AND reserved >= 0 AND used <= ?4 AND reserved <= ?4 - used`},
		{&w.insertRes, `INSERT INTO reservations (request_id, expires_at, holds) VALUES (?, ?, ?)`},
		{&w.takeRes, `DELETE FROM reservations WHERE request_id = ? RETURNING holds`},
		// settleCounter adds ?1 (>= 0, store.Hold.Settlement) to used, saturating at the
		// largest integer: SQLite turns an overflowing integer sum into a float, which no
		// later read could scan.
		{&w.settleCounter, `UPDATE counters SET used = CASE WHEN used > 9223372036854775807 - ?1
			THEN 9223372036854775807 ELSE used + ?1 END, reserved = reserved - ?2 WHERE key = ?3`},
		{&w.settled, `SELECT EXISTS (SELECT 1 FROM ledger WHERE request_id = ?)`},
		{&w.lateCounter, `INSERT INTO counters (key, used, reserved, resets_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (key) DO UPDATE SET used = CASE WHEN used > 9223372036854775807 - excluded.used
			THEN 9223372036854775807 ELSE used + excluded.used END`},
		{&w.insertLedger, `INSERT INTO ledger (request_id, time_ns, day, subject, user, groups, client_id,
			procedure, model_id, outcome, error_message, input_tokens, output_tokens, usage_estimated, cost_nanos,
			price_table_version, latency_ns, ttft_ns, stop_reason, upstream_request_id, source_ip, user_agent, late,
			usage_source, department, detail, kb_id, kb_passages, kb_latency_ns, api_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		// addUsage adds one ledger row to its usage summary (0007_usage_daily.sql), each
		// figure saturating at the largest integer.
		{&w.addUsage, `INSERT INTO usage_daily (day, user, groups, model_id, department, requests, errors,
			input_tokens, output_tokens, cost_nanos) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
			ON CONFLICT (day, user, groups, model_id, department) DO UPDATE SET
			requests = CASE WHEN requests > 9223372036854775806 THEN 9223372036854775807 ELSE requests + 1 END,
			errors = CASE WHEN errors > 9223372036854775807 - excluded.errors THEN 9223372036854775807 ELSE errors + excluded.errors END,
			input_tokens = CASE WHEN input_tokens > 9223372036854775807 - excluded.input_tokens
				THEN 9223372036854775807 ELSE input_tokens + excluded.input_tokens END,
			output_tokens = CASE WHEN output_tokens > 9223372036854775807 - excluded.output_tokens
				THEN 9223372036854775807 ELSE output_tokens + excluded.output_tokens END,
			cost_nanos = CASE WHEN cost_nanos > 9223372036854775807 - excluded.cost_nanos
				THEN 9223372036854775807 ELSE cost_nanos + excluded.cost_nanos END`},
		{&w.purge, `DELETE FROM counters WHERE resets_at < ? AND reserved = 0`},
	} {
		s, err := conn.PrepareContext(ctx, p.sql) //nolint:sqlclosecheck // closed by writer.closeStatements
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.to = s
	}
	return w, nil
}

// close closes the statements and returns the connection to the pool (which closes it when
// the database closes).
func (w *writer) close() {
	w.closeStatements()
	_ = w.conn.Close()
}

// closeStatements closes the prepared statements, while their connection is still open.
func (w *writer) closeStatements() {
	for _, s := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.savepoint, w.rollbackTo, w.releaseSavepoint, w.expired, w.release, w.deleteRes, w.duplicate,
		w.counter, w.holdIfFits, w.insertRes, w.takeRes, w.settleCounter, w.settled, w.lateCounter, w.insertLedger, w.addUsage, w.purge} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// wtx is a write transaction in progress on the writer.
type wtx struct {
	*writer
	// ctx is what statements run under: the transaction already holds the write lock, so
	// none waits for anything that cancellation could cut short.
	ctx context.Context
}

func (w *wtx) exec(s *sql.Stmt, args ...any) (sql.Result, error) {
	return s.ExecContext(w.ctx, args...)
}

func (w *wtx) queryRow(s *sql.Stmt, args ...any) *sql.Row {
	return s.QueryRowContext(w.ctx, args...)
}

func (w *wtx) query(s *sql.Stmt, args ...any) (*sql.Rows, error) {
	return s.QueryContext(w.ctx, args...)
}
