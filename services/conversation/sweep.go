package conversation

import (
	"context"
	"log/slog"
	"time"

	"github.com/portico-dev/portico/services/attachment"
)

// SweepInterval is how often Sweep looks for expired conversations.
const SweepInterval = time.Hour

// sweepBatch is the most conversations one sweep transaction deletes.
const sweepBatch = 100

// Sweep deletes the expired conversations of st, with their attachments, now and then every
// interval, until ctx ends. It is for stores without their own expiry (SQLite); run it in a
// goroutine.
func Sweep(ctx context.Context, st Sweeper, atts attachment.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		SweepOnce(ctx, st, atts, time.Now(), log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce deletes every conversation of st expired at now, with its attachments, and
// returns how many it deleted.
func SweepOnce(ctx context.Context, st Sweeper, atts attachment.Store, now time.Time, log *slog.Logger) int {
	total := 0
	for ctx.Err() == nil {
		gone, err := st.DeleteExpired(ctx, now, sweepBatch)
		if err != nil {
			log.LogAttrs(ctx, slog.LevelError, "deleting expired conversations failed", slog.Any("error", err))
			return total
		}
		for _, e := range gone {
			if atts == nil {
				continue
			}
			if err := atts.DeleteConversation(ctx, e.Owner, e.ID); err != nil {
				log.LogAttrs(ctx, slog.LevelError, "the attachments of an expired conversation could not be deleted",
					slog.String("conversation", e.ID), slog.Any("error", err))
			}
		}
		total += len(gone)
		if len(gone) < sweepBatch {
			break
		}
	}
	if total > 0 {
		log.LogAttrs(ctx, slog.LevelInfo, "expired conversations deleted", slog.Int("count", total))
	}
	return total
}
