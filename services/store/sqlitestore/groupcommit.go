package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/portico-dev/portico/services/store"
)

// Group commit: a burst of reservations and settlements would otherwise pay one BEGIN
// IMMEDIATE … COMMIT each, one after another, on the one write connection. Instead every
// write joins a queue, and whoever holds Store.write next runs everything queued in one
// transaction, each write inside its own SAVEPOINT: a write that fails (a refused
// reservation, an error) is rolled back to its savepoint and answered alone, the others
// commit together. The writes run one after another inside the transaction, in queue
// order, each seeing the ones before it, exactly as consecutive transactions would: limits
// stay exact. A failed COMMIT fails every write of the group (none took effect).

// groupQueue holds the writes waiting for a group commit.
type groupQueue struct {
	mu      sync.Mutex
	pending []*groupWrite
}

// groupWrite is one write waiting in the queue.
type groupWrite struct {
	ctx  context.Context
	op   string
	fn   func(*wtx) error
	done chan error // buffered: the committer never blocks on it
}

// panicked carries a write's panic to its own goroutine, which panics again.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// inTx runs fn in an IMMEDIATE transaction (shared with the other writes waiting at the
// same moment, fn in a savepoint of its own) and commits it, or rolls fn's work back when fn
// fails. It returns fn's error, or the store's as ErrUnavailable.
func (s *Store) inTx(ctx context.Context, op string, fn func(*wtx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.ready(op); err != nil {
		return err
	}
	g := &groupWrite{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	s.group.mu.Lock()
	s.group.pending = append(s.group.pending, g)
	s.group.mu.Unlock()

	s.write.Lock()
	select {
	case err := <-g.done: // an earlier committer took this write in its group
		s.write.Unlock()
		return rethrow(err)
	default:
	}
	s.group.mu.Lock()
	batch := s.group.pending
	s.group.pending = nil
	s.group.mu.Unlock()
	s.commitGroup(batch)
	s.write.Unlock()
	return rethrow(<-g.done)
}

func rethrow(err error) error {
	var p panicked
	if errors.As(err, &p) {
		panic(p.v)
	}
	return err
}

// commitGroup runs batch in one transaction and answers every write in it. Callers hold
// s.write.
func (s *Store) commitGroup(batch []*groupWrite) {
	live := batch[:0:0]
	for _, g := range batch {
		if err := g.ctx.Err(); err != nil { // given up before its turn: as a BEGIN cut short
			g.done <- store.Unavailable(g.op, err)
			continue
		}
		live = append(live, g)
	}
	if len(live) == 0 {
		return
	}
	failAll := func(err error) {
		for _, g := range live {
			g.done <- store.Unavailable(g.op, err)
		}
	}
	if s.w == nil {
		w, err := newWriter(live[0].ctx, s.db)
		if err != nil {
			failAll(err)
			return
		}
		s.w = w
	}
	w := s.w
	// BEGIN waits (up to BusyTimeout) for another process's write lock: that wait ends when
	// every write of the group has given up. Nothing after it waits for anything.
	beginCtx := live[0].ctx
	if len(live) > 1 {
		var stop func()
		beginCtx, stop = allDone(live)
		defer stop()
	}
	bg := context.WithoutCancel(live[0].ctx)
	if _, err := w.begin.ExecContext(beginCtx); err != nil {
		switch {
		case errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
			strings.Contains(err.Error(), "within a transaction"):
			s.discardWriter()
		default:
			// The driver reports a BEGIN that took effect just as ctx ended as ctx's error:
			// end the transaction it may have left open (with none open, this fails).
			_, _ = w.rollback.ExecContext(bg)
		}
		failAll(err)
		return
	}
	results := make([]error, len(live))
	if len(live) == 1 {
		// Alone: the transaction is the write's, as before group commit, and no savepoint
		// is needed (two statements fewer).
		g := live[0]
		if err := s.alone(w, bg, g.fn); err != nil {
			if _, rerr := w.rollback.ExecContext(bg); rerr != nil {
				s.discardWriter()
			}
			if p, ok := err.(panicked); ok {
				g.done <- p
			} else {
				g.done <- store.Unavailable(g.op, err)
			}
			return
		}
	} else {
		for i, g := range live {
			err := s.inSavepoint(w, bg, g.fn)
			var broken brokenTx
			if errors.As(err, &broken) {
				// The transaction is in no known state: roll it all back; the connection goes.
				if _, rerr := w.rollback.ExecContext(bg); rerr != nil {
					s.discardWriter()
				}
				failAll(broken.err)
				return
			}
			results[i] = err
		}
	}
	if _, err := w.commit.ExecContext(bg); err != nil {
		// Nothing of the group took effect: roll back, and a connection that cannot is
		// closed, never handed to a reader.
		if _, rerr := w.rollback.ExecContext(bg); rerr != nil {
			s.discardWriter()
		}
		for i, g := range live {
			if results[i] == nil {
				results[i] = err
			}
			g.done <- store.Unavailable(g.op, results[i])
		}
		return
	}
	s.ckpt.Wrote()
	for i, g := range live {
		if p, ok := results[i].(panicked); ok {
			g.done <- p
			continue
		}
		g.done <- store.Unavailable(g.op, results[i])
	}
}

// brokenTx is a savepoint that could not be rolled back or released.
type brokenTx struct{ err error }

func (b brokenTx) Error() string { return b.err.Error() }

// inSavepoint runs fn in a savepoint of the open transaction: fn's error (or panic, as
// panicked) comes back with fn's work rolled back, the transaction still open; brokenTx
// when the savepoint itself fails.
func (s *Store) inSavepoint(w *writer, ctx context.Context, fn func(*wtx) error) (err error) {
	if _, err := w.savepoint.ExecContext(ctx); err != nil {
		return brokenTx{fmt.Errorf("savepoint: %w", err)}
	}
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
		if err != nil {
			if _, rerr := w.rollbackTo.ExecContext(ctx); rerr != nil {
				err = brokenTx{fmt.Errorf("rollback to savepoint: %w", rerr)}
				return
			}
		}
		if _, rerr := w.releaseSavepoint.ExecContext(ctx); rerr != nil {
			err = brokenTx{fmt.Errorf("release savepoint: %w", rerr)}
		}
	}()
	return fn(&wtx{writer: w, ctx: ctx})
}

// alone runs fn as the only write of the transaction; a panic comes back as panicked.
func (s *Store) alone(w *writer, ctx context.Context, fn func(*wtx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return fn(&wtx{writer: w, ctx: ctx})
}

// allDone returns a context that ends when every write of the group has ended its own.
func allDone(group []*groupWrite) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(group[0].ctx))
	var mu sync.Mutex
	left := len(group)
	stops := make([]func() bool, 0, len(group))
	for _, g := range group {
		stops = append(stops, context.AfterFunc(g.ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if left--; left == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
