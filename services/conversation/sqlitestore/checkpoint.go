package sqlitestore

import (
	"context"
	"database/sql"
	"time"
)

// CheckpointInterval is how often, at most, a store copies its committed WAL frames into the
// database file (a PASSIVE checkpoint, which neither waits for nor blocks readers and
// writers).
//
// SQLite's default runs the checkpoint inside the commit that grows the WAL past 1,000
// pages, so that one request in many waits for the copy and its fsyncs. The store turns that
// automatic checkpoint off on its connections and checkpoints from a goroutine instead, off
// every request's path (as the quota store does).
const CheckpointInterval = 100 * time.Millisecond

// checkpointer copies the WAL into the database file every CheckpointInterval after a
// write, until stop is closed; done is closed when it has returned.
type checkpointer struct {
	db    *sql.DB
	dirty chan struct{} // holds a token when something was committed since the last checkpoint
	stop  chan struct{}
	done  chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, dirty: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// wrote notes a commit; it never blocks.
func (c *checkpointer) wrote() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
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

// close stops the checkpointer and waits for it (the last connection's close checkpoints
// what is left).
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
