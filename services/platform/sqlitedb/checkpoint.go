package sqlitedb

import (
	"context"
	"database/sql"
	"time"
)

// CheckpointInterval is how often, at most, a Checkpointer copies committed WAL frames into
// the database file (a PASSIVE checkpoint, which neither waits for nor blocks readers and
// writers).
//
// SQLite's default runs the checkpoint inside the commit that grows the WAL past 1,000
// pages: every hundred requests or so, one request waited for the copy and its two fsyncs
// (milliseconds on a virtual disk). A store opens its connections with
// wal_autocheckpoint(0) and checkpoints from a Checkpointer instead, off every request's path.
const CheckpointInterval = 100 * time.Millisecond

// Checkpointer copies the WAL into the database file CheckpointInterval after a write, from
// its own goroutine, until Close.
type Checkpointer struct {
	db    *sql.DB
	dirty chan struct{} // holds a token when something was committed since the last checkpoint
	stop  chan struct{}
	done  chan struct{}
}

// StartCheckpointer starts checkpointing db.
func StartCheckpointer(db *sql.DB) *Checkpointer {
	c := &Checkpointer{db: db, dirty: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Wrote notes a commit; it never blocks.
func (c *Checkpointer) Wrote() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

func (c *Checkpointer) run() {
	defer close(c.done)
	t := time.NewTimer(CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.dirty:
		}
		t.Reset(CheckpointInterval)
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A failure (the file is busy with another process's checkpoint) is retried after
		// the next write; the WAL only grows meanwhile.
		_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// Close stops the checkpointer and waits for it (the last connection's close checkpoints
// what is left).
func (c *Checkpointer) Close() {
	close(c.stop)
	<-c.done
}
