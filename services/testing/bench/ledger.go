package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the services' SQLite store, opened read-only
)

// LedgerCheck is the comparison of a SQLite store's quota counters with its ledger.
type LedgerCheck struct {
	// Rows is the number of ledger rows (settled requests).
	Rows int64
	// Counters is the number of counters compared.
	Counters int
	// InFlight is the number of reservations not settled; Reserved the sum of the counters'
	// reserved amounts. Both are 0 after a clean run.
	InFlight, Reserved int64
	// Mismatches describes every counter whose total differs from the ledger's.
	Mismatches []string
}

// OK reports whether every counter equals the ledger and nothing is held.
func (c LedgerCheck) OK() bool {
	return len(c.Mismatches) == 0 && c.InFlight == 0 && c.Reserved == 0 && c.Counters > 0
}

// CheckLedger opens the SQLite store at path read-only and compares, for every subject,
// unit and window kind, the sum of the counters' used amounts over all windows with the
// ledger: tokens against the sum of input plus output tokens of the subject's rows (a
// group's rows are those whose groups include it), requests against the number of rows.
// It assumes the store was created for the run (every window's rows are still in it).
func CheckLedger(ctx context.Context, path string) (LedgerCheck, error) {
	var c LedgerCheck
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return c, fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ledger`).Scan(&c.Rows); err != nil {
		return c, fmt.Errorf("ledger: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM reservations`).Scan(&c.InFlight); err != nil {
		return c, fmt.Errorf("reservations: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT key, used, reserved FROM counters`)
	if err != nil {
		return c, fmt.Errorf("counters: %w", err)
	}
	defer rows.Close()
	type agg struct{ kind, name, unit, window string }
	totals := map[agg]int64{}
	for rows.Next() {
		var key string
		var used, reserved int64
		if err := rows.Scan(&key, &used, &reserved); err != nil {
			return c, fmt.Errorf("counters: %w", err)
		}
		parts := strings.Split(key, "/")
		if len(parts) != 5 {
			return c, fmt.Errorf("counter key %q: want kind/name/unit/window/start", key)
		}
		name, err := url.PathUnescape(parts[1])
		if err != nil {
			return c, fmt.Errorf("counter key %q: %w", key, err)
		}
		totals[agg{parts[0], name, parts[2], parts[3]}] += used
		c.Reserved += reserved
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("counters: %w", err)
	}
	if err := rows.Close(); err != nil {
		return c, fmt.Errorf("counters: %w", err)
	}
	for a, used := range totals {
		c.Counters++
		var where string
		var arg any = a.name
		switch a.kind {
		case "user":
			where = `user = ?`
		case "group":
			where = `EXISTS (SELECT 1 FROM json_each(ledger.groups) WHERE json_each.value = ?)`
		default:
			c.Mismatches = append(c.Mismatches, fmt.Sprintf("%s/%s: unknown subject kind", a.kind, a.name))
			continue
		}
		expr := `coalesce(sum(input_tokens + output_tokens), 0)`
		if a.unit == "requests" {
			expr = `count(*)`
		}
		var want int64
		if err := db.QueryRowContext(ctx, `SELECT `+expr+` FROM ledger WHERE `+where, arg).Scan(&want); err != nil {
			return c, fmt.Errorf("ledger sum: %w", err)
		}
		if used != want {
			c.Mismatches = append(c.Mismatches, fmt.Sprintf("%s %s %s per %s: counters %d, ledger %d", a.kind, a.name, a.unit, a.window, used, want))
		}
	}
	return c, nil
}
