package store

import (
	"context"
	"time"
)

// Store keeps quota counters, the usage ledger and the audit trail. Implementations are safe
// for concurrent use, and their limits hold across every process and instance sharing the
// same backend. Every error from the backend matches [ErrUnavailable].
type Store interface {
	// Reserve atomically holds r's worst case against every limit in r.Limits: r.Tokens
	// against each tokens limit and 1 against each requests limit, in the windows current
	// now. It holds all or nothing: if any counter's used + reserved + amount would pass its
	// limit, nothing is held and the error is a *QuotaError for the first such limit.
	// Reservations older than the TTL are released before a request is refused.
	Reserve(ctx context.Context, r Reservation) (Ticket, error)
	// Settle replaces t's holds by the usage in o, and writes the request's Record. It is
	// exactly-once: settling a ticket again (with any outcome) returns nil and changes
	// nothing. It ignores the cancellation of ctx (see the package documentation).
	Settle(ctx context.Context, t Ticket, o Outcome) error
	// Usage reports, for user, the state of each limit in limits in its current window, and
	// the user's usage totals today and this month (UTC).
	Usage(ctx context.Context, user string, limits []Limit) (Usage, error)
	// ListUsage sums the ledger over a range of days, broken down as f asks. Its cost, like
	// that of Usage's totals, does not grow with the number of requests (implementations keep
	// per-day summaries).
	ListUsage(ctx context.Context, f UsageFilter) (UsageReport, error)
	// ListAudit returns records newest first (by time, then request id), one page at a time.
	ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error)
	// Close releases the store's resources; later calls fail with ErrUnavailable.
	Close() error
}

// DefaultReservationTTL is the default [Options.ReservationTTL]: above the 15-minute limit of
// a Lambda invocation, the longest any request can run.
const DefaultReservationTTL = 20 * time.Minute

// DefaultSettleTimeout is the default [Options.SettleTimeout].
const DefaultSettleTimeout = 10 * time.Second

// Options are shared by every implementation.
type Options struct {
	// Now returns the current time; nil means time.Now. Tests inject a clock here.
	Now func() time.Time
	// ReservationTTL is how long a reservation holds before it may be released as abandoned
	// (its process died); 0 means DefaultReservationTTL.
	ReservationTTL time.Duration
	// SettleTimeout bounds one Settle, which does not stop when its context is cancelled;
	// 0 means DefaultSettleTimeout.
	SettleTimeout time.Duration
}

// WithDefaults returns o with its zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReservationTTL <= 0 {
		o.ReservationTTL = DefaultReservationTTL
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	return o
}

// SettleContext returns the context a Settle runs under: ctx's values without its
// cancellation, bounded by o.SettleTimeout.
func (o Options) SettleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), o.WithDefaults().SettleTimeout)
}
