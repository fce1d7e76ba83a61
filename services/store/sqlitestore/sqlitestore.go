// Package sqlitestore is the embedded store.Store: one SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode, migrated on open from numbered, embedded migrations.
//
// Every change runs in an IMMEDIATE transaction, which takes SQLite's write lock before it
// reads: a Reserve checks and raises its counters with no other writer in between, in this
// process or in any other process sharing the file, so limits hold across processes. A
// busy timeout makes writers wait for each other instead of failing; within one process,
// writers queue and are committed in groups: one transaction for every write waiting, each
// in its own savepoint, so each keeps its own all-or-nothing outcome (see inTx).
//
// Durability: the file runs with synchronous=NORMAL, which in WAL mode means a commit
// writes the WAL without an fsync; the WAL is synced when it is checkpointed into the
// database file (see sqlitedb.CheckpointInterval), off every request's path. A process crash loses
// nothing that was committed; a power loss or kernel crash may roll back the transactions
// of the last moments before it (usage and holds of requests then in flight), never corrupt
// the file. Exactness of the limits does not depend on it: they are checked and raised in
// one IMMEDIATE transaction either way.
//
// Usage reads (Usage's totals, ListUsage) sum usage_daily, one row per day, user, groups,
// model and department that the settle's transaction keeps beside its ledger row
// (migration 0007, which also summed the ledger written before it), so their cost does not
// grow with the number of requests.
package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-dev/portico/services/store"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/portico-dev/portico/services/platform/sqlitedb"
)

// Store is a store.Store on one SQLite file.
type Store struct {
	db     *sql.DB
	w      *writer // the write connection, nil until the first write (or after it broke); under write
	ckpt   *sqlitedb.Checkpointer
	opts   store.Options
	write  sync.Mutex // serialises this process's write transactions; its holder commits for the queue
	group  groupQueue // writes waiting for the next group commit (groupcommit.go)
	mu     sync.RWMutex
	closed bool
	// purged is when (Unix nanos) counters of long-ended windows were last deleted.
	purged atomic.Int64
	// counterRead reads one counter (readCounter), prepared once.
	counterRead *sql.Stmt
}

// CounterRetention is how long after its window ends a counter row is kept; older ones are
// deleted at most once an hour, by a Reserve.
const CounterRetention = 7 * 24 * time.Hour

var _ store.Store = (*Store)(nil)

// BusyTimeout is how long a writer waits for another process's write lock.
const BusyTimeout = 10 * time.Second

// Open opens (creating it if needed) the SQLite database at path and migrates it to the
// current schema. Several processes may open the same file; ":memory:" is not supported
// (each connection would get its own database).
func Open(ctx context.Context, path string, opts store.Options) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlitestore: a file path is required, got %q", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "wal_autocheckpoint(0)") // see sqlitedb.CheckpointInterval
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+uriPath.Replace(path)+"?"+q.Encode())
	if err != nil {
		return nil, store.Unavailable("open sqlite", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := schema.Apply(ctx, db); err != nil {
		_ = db.Close()
		return nil, store.Unavailable("migrate sqlite", err)
	}
	w, err := newWriter(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, store.Unavailable("prepare sqlite statements", err)
	}
	counterRead, err := db.PrepareContext(ctx, `SELECT used, reserved FROM counters WHERE key = ?`)
	if err != nil {
		w.close()
		_ = db.Close()
		return nil, store.Unavailable("prepare sqlite statements", err)
	}
	return &Store{db: db, w: w, ckpt: sqlitedb.StartCheckpointer(db), opts: opts.WithDefaults(), counterRead: counterRead}, nil //nolint:contextcheck // the checkpointer outlives Open: Close stops it
}

// uriPath escapes what a SQLite URI filename would otherwise read as the start of its query
// ("?") or fragment ("#") or as an escape ("%"): unescaped, "a#b.db" opened "a", and a "?"
// in the path could set pragmas or the transaction mode that limits depend on.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Close closes the database. Later calls fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.ckpt.Close()
	if s.w != nil {
		s.w.close()
	}
	_ = s.counterRead.Close()
	return s.db.Close()
}

// readCounter reads one counter's used and reserved figures (zeros when it is absent). It is
// a lookup by primary key, bounded by the busy timeout, so it runs without the caller's
// cancellation: a cancellable context costs a read two watcher goroutines (database/sql's
// and the driver's), more than the read itself. Callers hold s.mu.RLock.
func (s *Store) readCounter(ctx context.Context, key string) (used, reserved int64, err error) {
	err = s.counterRead.QueryRowContext(context.WithoutCancel(ctx), key).Scan(&used, &reserved)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return used, reserved, err
}

// ready reports ErrUnavailable once the store is closed; callers hold s.mu.RLock.
func (s *Store) ready(op string) error {
	if s.closed {
		return store.Unavailable(op, errors.New("store is closed"))
	}
	return nil
}

// discardWriter closes the write connection (not returning it to the pool); the next write
// opens another. Callers hold s.write.
func (s *Store) discardWriter() {
	if s.w == nil {
		return
	}
	s.w.closeStatements()
	_ = s.w.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.w.conn.Close()
	s.w = nil
}

type hold struct {
	Key    string `json:"k"`
	Amount int64  `json:"a"`
}

// Reserve holds r's worst case on every counter, all or nothing. See store.Store.
func (s *Store) Reserve(ctx context.Context, r store.Reservation) (store.Ticket, error) {
	now := s.opts.Now()
	t, err := store.Plan(r, now, s.opts.ReservationTTL)
	if err != nil {
		return store.Ticket{}, err
	}
	// Expired reservations are released only when they stand in the way: a refusal is
	// retried once after releasing them (store.Store asks no more, and the DynamoDB store
	// does the same). The common path reads nothing about expiry.
	err = s.inTx(ctx, "reserve", func(tx *wtx) error { return s.reserveIn(tx, t, now, nil) })
	if qe := (*store.QuotaError)(nil); errors.As(err, &qe) {
		err = s.inTx(ctx, "reserve", func(tx *wtx) error { return s.reserveIn(tx, t, now, qe) })
	}
	if err != nil {
		return store.Ticket{}, err
	}
	return t, nil
}

// reserveIn holds t in tx. After a refusal (refused not nil), it first releases the expired
// reservations, and returns refused again if there were none.
func (s *Store) reserveIn(tx *wtx, t store.Ticket, now time.Time, refused *store.QuotaError) error {
	if refused != nil {
		n, err := releaseExpired(tx, now)
		if err != nil {
			return err
		}
		if n == 0 {
			return refused
		}
	}
	if last := s.purged.Load(); now.UnixNano()-last > int64(time.Hour) && s.purged.CompareAndSwap(last, now.UnixNano()) {
		if _, err := tx.exec(tx.purge, now.Add(-CounterRetention).UnixNano()); err != nil {
			return err
		}
	}
	var dup int
	if err := tx.queryRow(tx.duplicate, t.Reservation.RequestID).Scan(&dup); err != nil {
		return err
	}
	if dup != 0 {
		return store.Invalid("request id %q was already reserved", t.Reservation.RequestID)
	}
	holds := make([]hold, len(t.Holds))
	for i, h := range t.Holds {
		holds[i] = hold{Key: h.Key, Amount: h.Amount}
		if h.Amount <= h.Limit.Max {
			res, err := tx.exec(tx.holdIfFits, h.Key, h.Amount, h.ResetsAt.UnixNano(), h.Limit.Max-h.Amount)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 1 {
				continue
			}
		}
		// Refused (the transaction rolls back the holds taken so far): read the counter for
		// the refusal's figures.
		var used, reserved int64
		if err := tx.queryRow(tx.counter, h.Key).Scan(&used, &reserved); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		qe, err := h.Refusal(used, reserved)
		if err != nil {
			return err
		}
		if qe != nil {
			return qe
		}
		return fmt.Errorf("counter %s: the hold did not fit, yet used %d and reserved %d leave room", h.Key, used, reserved)
	}
	js, _ := json.Marshal(holds)
	_, err := tx.exec(tx.insertRes, t.Reservation.RequestID, t.ExpiresAt.UnixNano(), string(js))
	return err
}

// releaseExpired releases the holds of every reservation that expired at or before now, and
// returns how many there were.
func releaseExpired(tx *wtx, now time.Time) (int, error) {
	list, err := expiredReservations(tx, now)
	if err != nil {
		return 0, err
	}
	for _, e := range list {
		for _, h := range e.holds {
			if _, err := tx.exec(tx.release, h.Amount, h.Key); err != nil {
				return 0, err
			}
		}
		if _, err := tx.exec(tx.deleteRes, e.id); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

type expired struct {
	id    string
	holds []hold
}

// expiredReservations reads the reservations that expired at or before now; its rows are
// closed when it returns, before the caller writes in the same transaction.
func expiredReservations(tx *wtx, now time.Time) ([]expired, error) {
	rows, err := tx.query(tx.expired, now.UnixNano())
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var list []expired
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, err
		}
		var hs []hold
		if err := json.Unmarshal([]byte(js), &hs); err != nil {
			return nil, fmt.Errorf("reservation %s: %w", id, err)
		}
		list = append(list, expired{id, hs})
	}
	return list, rows.Err()
}

// Settle converts t's holds into its actual usage and writes its record, once. See
// store.Store.
func (s *Store) Settle(ctx context.Context, t store.Ticket, o store.Outcome) error {
	ctx, cancel := s.opts.SettleContext(ctx)
	defer cancel()
	rec := store.NewRecord(t, o)
	charge := make([]int64, len(t.Holds))
	for i, h := range t.Holds {
		c, err := h.Settlement(rec)
		if err != nil {
			return err
		}
		charge[i] = c
	}
	return s.inTx(ctx, "settle", func(tx *wtx) error {
		var js string // the reservation's holds, deleted as they are read
		err := tx.queryRow(tx.takeRes, rec.RequestID).Scan(&js)
		switch {
		case err == nil:
			var held []hold
			if err := json.Unmarshal([]byte(js), &held); err != nil {
				return fmt.Errorf("reservation %s: %w", rec.RequestID, err)
			}
			amount := map[string]int64{}
			for _, h := range held {
				amount[h.Key] = h.Amount
			}
			for i, h := range t.Holds {
				if _, err := tx.exec(tx.settleCounter, charge[i], amount[h.Key], h.Key); err != nil {
					return err
				}
			}
		case errors.Is(err, sql.ErrNoRows):
			var done int
			if err := tx.queryRow(tx.settled, rec.RequestID).Scan(&done); err != nil {
				return err
			}
			if done != 0 {
				return nil // settled before
			}
			// The reservation expired and was released: record the usage all the same.
			rec.Late = true
			for i, h := range t.Holds {
				if _, err := tx.exec(tx.lateCounter, h.Key, charge[i], h.ResetsAt.UnixNano()); err != nil {
					return err
				}
			}
		default:
			return err
		}
		return insertRecord(tx, rec)
	})
}

// insertRecord adds r to the ledger and to its usage summary, in the same transaction.
func insertRecord(tx *wtx, r store.Record) error {
	groups, _ := json.Marshal(r.Groups)
	if r.Groups == nil {
		groups = []byte("[]")
	}
	_, err := tx.exec(tx.insertLedger,
		r.RequestID, r.Time.UnixNano(), r.Day(), r.Subject, r.User, string(groups), r.ClientID,
		r.Procedure, r.ModelID, r.Outcome, r.ErrorMessage, r.InputTokens, r.OutputTokens, r.UsageEstimated, r.CostNanos,
		r.PriceTableVersion, int64(r.Latency), int64(r.TimeToFirstToken), r.StopReason, r.UpstreamRequestID,
		r.SourceIP, r.UserAgent, r.Late, string(r.UsageSource), r.Department, r.Detail,
		r.Retrieval.KnowledgeBaseID, r.Retrieval.Passages, int64(r.Retrieval.Latency), r.APIKey)
	if err != nil {
		return err
	}
	t := r.Totals()
	_, err = tx.exec(tx.addUsage, r.Day(), r.User, string(groups), r.ModelID, r.Department,
		t.Errors, t.InputTokens, t.OutputTokens, t.CostNanos)
	return err
}

//go:embed migrations/*.sql
var migrations embed.FS

// schema is the store's migrations, recorded in its own version table.
var schema = sqlitedb.Migrations{FS: migrations, Dir: "migrations", VersionTable: "schema_version"}

// SchemaVersion is the schema version this package migrates databases to.
func SchemaVersion() int { return schema.Version() }
