package alert

import (
	"context"
	"log/slog"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/platform/gostack"
	"github.com/portico-dev/portico/services/store"
)

// Store is what a Watcher needs: the counters and the marks.
type Store interface {
	store.AlertStore
	store.CounterReader
}

// DefaultConcurrency is how many checks may run at once on one instance.
const DefaultConcurrency = 8

// Config configures a Watcher.
type Config struct {
	// Store reads counters and records marks; required.
	Store Store
	// Emitter sends alerts; required.
	Emitter Emitter
	// Logger receives failed checks; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Concurrency bounds the checks in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds one check; 0 means 10 s.
	Timeout time.Duration
}

// Watcher checks thresholds after requests settle. It is safe for concurrent use.
type Watcher struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	slots chan struct{}
}

// New returns a Watcher for cfg.
func New(cfg Config) *Watcher {
	w := &Watcher{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if w.cfg.Timeout <= 0 {
		w.cfg.Timeout = 10 * time.Second
	}
	w.slots = make(chan struct{}, cfg.Concurrency)
	return w
}

// Alerting returns the limits of ls that alert: day and month windows (not per-minute rate
// limits).
func Alerting(ls []store.Limit) []store.Limit {
	var out []store.Limit
	for _, l := range ls {
		if l.Window == typev1.QuotaWindow_QUOTA_WINDOW_DAY || l.Window == typev1.QuotaWindow_QUOTA_WINDOW_MONTH {
			out = append(out, l)
		}
	}
	return out
}

// Settled starts a check of user's limits in the background and returns at once; when
// Concurrency checks are already running, it skips this one. It never blocks the request.
func (w *Watcher) Settled(ctx context.Context, user, department string, limits []store.Limit) {
	limits = Alerting(limits)
	if len(limits) == 0 {
		return
	}
	select {
	case w.slots <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-w.slots }()
		gostack.Grow() // the store read goes deep: one stack growth instead of several
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
		defer cancel()
		if err := w.Check(cctx, user, department, limits); err != nil {
			w.log.LogAttrs(cctx, slog.LevelWarn, "alert check failed", slog.String("user", user), slog.Any("error", err))
		}
	}()
}

// Check reads the counters of user's limits and, for each that has reached a threshold in its
// current window, marks the thresholds reached from the highest down and emits one alert for
// the highest; it stops at the first threshold already marked, whose marker alerts instead. It
// returns the first error; the marks it made stand.
func (w *Watcher) Check(ctx context.Context, user, department string, limits []store.Limit) error {
	limits = Alerting(limits)
	if len(limits) == 0 {
		return nil
	}
	now := w.now().UTC()
	statuses, err := w.cfg.Store.Counters(ctx, user, limits)
	if err != nil {
		return err
	}
	var first error
	for _, st := range statuses {
		top := st.Threshold()
		if top == 0 {
			continue
		}
		key, _ := store.CounterKey(user, st.Limit, now)
		var emit *store.AlertMark
		for _, th := range []int{store.ThresholdFull, store.ThresholdNear} {
			if th > top {
				continue
			}
			m := store.AlertMark{Key: key, Threshold: th, User: user, Department: department, Limit: st.Limit,
				Used: st.Used, Reserved: st.Reserved, ResetsAt: st.ResetsAt, Time: now}
			fresh, err := w.cfg.Store.MarkAlert(ctx, m)
			if err != nil {
				first = firstOf(first, err)
				break
			}
			if !fresh {
				// Another check marked this threshold first; it marks the lower ones too
				// and sends the one alert, so this check stops here (otherwise two racing
				// checks of a jump past 100 % would alert at 100 % and at 80 %).
				break
			}
			if emit == nil {
				emit = &m
			}
		}
		if emit != nil {
			if err := w.cfg.Emitter.Emit(ctx, DetailOf(*emit)); err != nil {
				// The mark stands: an alert is never sent twice, and this one is logged.
				w.log.LogAttrs(ctx, slog.LevelError, "alert could not be emitted", slog.String("counter", key),
					slog.Int("threshold", emit.Threshold), slog.Any("error", err))
				first = firstOf(first, err)
			}
		}
	}
	return first
}

func firstOf(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Alerts returns the statuses among ss that have reached a threshold, as the person's banner
// shows them (see identity's GetMe): day and month limits only.
func Alerts(ss []store.QuotaStatus) []store.QuotaStatus {
	var out []store.QuotaStatus
	for _, s := range ss {
		if s.Threshold() > 0 && (s.Limit.Window == typev1.QuotaWindow_QUOTA_WINDOW_DAY || s.Limit.Window == typev1.QuotaWindow_QUOTA_WINDOW_MONTH) {
			out = append(out, s)
		}
	}
	return out
}
