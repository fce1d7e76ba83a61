package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
)

// Config configures a Meter.
type Config struct {
	// Store keeps the quota counters, ledger and audit trail; required.
	Store store.Store
	// Catalog prices usage; required.
	Catalog *catalog.Catalog
	// Recorder receives one observation per request; nil records none.
	Recorder Recorder
	// Logger receives settle failures and refusals (never prompts); nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Alerts is told about every settled request, to check its limits' thresholds off the
	// request path (package alert); nil checks none.
	Alerts Alerts
}

// Alerts is told when a request has settled; it must return at once (package alert's
// Watcher checks in the background).
type Alerts interface {
	// Settled says that user (of department) settled a request charged to limits.
	Settled(ctx context.Context, user, department string, limits []store.Limit)
}

// Meter reserves, settles and records requests. It is safe for concurrent use.
type Meter struct {
	store    store.Store
	catalog  *catalog.Catalog
	recorder Recorder
	log      *slog.Logger
	now      func() time.Time
	alerts   Alerts
}

// New returns a Meter for cfg.
func New(cfg Config) *Meter {
	m := &Meter{store: cfg.Store, catalog: cfg.Catalog, recorder: cfg.Recorder, log: cfg.Logger, now: cfg.Now, alerts: cfg.Alerts}
	if m.recorder == nil {
		m.recorder = multiRecorder(nil)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Now returns the meter's clock reading.
func (m *Meter) Now() time.Time { return m.now() }

// Request is a request about to be metered: who asks, for what, and its worst case.
type Request struct {
	// RequestID is Portico's id for the request, unique; it names the audit record.
	RequestID string
	// Procedure is the RPC, such as "/portico.inference.v1.InferenceService/Converse".
	Procedure string
	// ModelID is the model id or endpoint name.
	ModelID string
	// Provider is the model's provider (for metrics).
	Provider catalog.Provider
	// Principal is the verified caller.
	Principal *principal.Principal
	// SourceIP and UserAgent are the caller's, as the front door saw them.
	SourceIP, UserAgent string
	// Arrived is when the request arrived; latency and time to first token count from it.
	Arrived time.Time
	// Tokens is the worst case held against tokens limits: estimated input plus max output.
	Tokens int64
	// MaxOutput is the part of Tokens that is output (the request's max tokens): the worst
	// case cost held against budgets is Tokens-MaxOutput input and MaxOutput output tokens at
	// the model's prices when the request is reserved.
	MaxOutput int64
	// Limits are every limit that applies: the policy's Entitlements.QuotasFor the model.
	Limits []store.Limit
	// Retrieval notes the request's knowledge-base retrieval, if any, for the audit record.
	Retrieval store.Retrieval
}

func (r Request) reservation() store.Reservation {
	p := r.Principal
	return store.Reservation{
		RequestID: r.RequestID, User: p.Account(), Subject: p.Subject, Groups: p.Groups, ClientID: p.ClientID, APIKey: p.APIKey,
		Procedure: r.Procedure, ModelID: r.ModelID, SourceIP: r.SourceIP, UserAgent: r.UserAgent,
		Tokens: r.Tokens, Limits: r.Limits, Department: truncate(p.Department, 200),
	}
}

// price is the price a call is costed at, fixed when it is reserved: a price table that
// changes later applies to new requests only.
type price struct {
	price   catalog.Price
	version string
	known   bool
}

// priceOf returns the catalog's price of the model id now.
func (m *Meter) priceOf(id string) price {
	p, ok := m.catalog.PriceOf(id)
	return price{price: p, version: m.catalog.PriceTable().Version, known: ok}
}

// worstCost is the cost held against budgets: what r's worst case costs at p. A worst case
// that cannot be priced (an unknown model, absurd counts) holds the most a budget can
// count, so that a budget refuses it.
func (p price) worstCost(r Request) int64 {
	out := min(max(0, r.MaxOutput), max(0, r.Tokens))
	if !p.known {
		return math.MaxInt64
	}
	c, err := p.price.CostNanos(max(0, r.Tokens)-out, out)
	if err != nil {
		return math.MaxInt64
	}
	return c
}

// Reserve holds r's worst case against its limits. Its errors are *connect.Error:
// RESOURCE_EXHAUSTED with QuotaExceeded and RetryAfter details when a limit refuses (the
// refusal is recorded in the audit trail), UNAVAILABLE when the store cannot be reached,
// INTERNAL for a malformed reservation. Every granted Call must be settled.
func (m *Meter) Reserve(ctx context.Context, r Request) (*Call, error) {
	pr := m.priceOf(r.ModelID)
	rv := r.reservation()
	if costLimited(r.Limits) {
		rv.Cost = pr.worstCost(r)
	}
	t, err := m.store.Reserve(ctx, rv)
	if err == nil {
		return &Call{m: m, req: r, ticket: t, price: pr}, nil
	}
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		ce := QuotaExceeded(qe, m.now())
		m.Refuse(ctx, r, ce)
		return nil, ce
	}
	ce := StoreError(ctx, m.log, "reserve quota", err, BlameHandler, slog.String("request_id", r.RequestID))
	m.observe(ctx, r, Usage{}, ce.Code().String(), m.now(), false)
	return nil, ce
}

// costLimited reports whether a budget is among ls.
func costLimited(ls []store.Limit) bool {
	for _, l := range ls {
		if l.Unit == typev1.QuotaUnit_QUOTA_UNIT_COST {
			return true
		}
	}
	return false
}

// Refuse records a request refused before anything was spent: an audit record with the
// error's code and message, zero usage, holding nothing. It is best effort: a store failure
// is logged, and the caller's error is what the caller gets.
func (m *Meter) Refuse(ctx context.Context, r Request, refusal error) {
	now := m.now()
	code, msg := outcomeOf(refusal)
	m.observe(ctx, r, Usage{}, code, now, false)
	rr := r.reservation()
	rr.Tokens, rr.Limits = 0, nil
	if len(rr.ModelID) > 200 {
		rr.ModelID = rr.ModelID[:200]
	}
	sctx := context.WithoutCancel(ctx)
	t, err := m.store.Reserve(sctx, rr)
	if err == nil {
		err = m.store.Settle(sctx, t, store.Outcome{Code: code, ErrorMessage: msg, Latency: now.Sub(r.Arrived), Retrieval: r.Retrieval})
	}
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "could not record a refused request", slog.String("request_id", r.RequestID),
			slog.String("outcome", code), slog.Any("error", err))
	}
}

// Usage is what a call used and how it ended, as the provider reported it.
type Usage struct {
	// InputTokens and OutputTokens are the provider's counts, or Portico's estimate.
	InputTokens, OutputTokens int64
	// Estimated is true when the provider reported no counts (or not all of them).
	Estimated bool
	// Clamped is true when the provider reported a count the request could not have used,
	// which was replaced by Portico's estimate (Estimated is then set too).
	Clamped bool
	// StopReason is the model's stop reason in the provider's words ("end_turn"), if any.
	StopReason string
	// UpstreamRequestID is the AWS request id, if any.
	UpstreamRequestID string
	// FirstTokenAt is when the first generated content arrived (streams); zero if none.
	FirstTokenAt time.Time
}

// source returns where the usage's counts come from, for the audit record.
func (u Usage) source() store.UsageSource {
	switch {
	case u.Clamped:
		return store.UsageClamped
	case u.Estimated:
		return store.UsageEstimated
	}
	return store.UsageReported
}

// Call is a reserved request in flight.
type Call struct {
	m       *Meter
	req     Request
	ticket  store.Ticket
	price   price
	settled atomic.Bool
}

// Request returns the request as reserved.
func (c *Call) Request() Request { return c.req }

// settleAttempts bounds Settle's retries of a failing store.
const settleAttempts = 3

// Settle records what the call used and how it ended (callErr nil for success), replacing
// its hold, and returns the invocation's metrics. It ignores ctx's cancellation (a client
// that went away is still recorded) and settles at most once; a later call returns the
// metrics again without writing. A store failure is retried, then logged: the hold then
// stays until the reservation expires, which errs on the side of the quota.
func (c *Call) Settle(ctx context.Context, u Usage, callErr error) *typev1.InvocationMetrics {
	now := c.m.now()
	ctx = context.WithoutCancel(ctx)
	code, msg := outcomeOf(callErr)
	cost, err := c.price.price.CostNanos(u.InputTokens, u.OutputTokens)
	if !c.price.known {
		err = fmt.Errorf("cost of %q: %w", c.req.ModelID, catalog.ErrUnknownModel)
	}
	if err != nil {
		c.m.log.LogAttrs(ctx, slog.LevelError, "cost", slog.String("request_id", c.req.RequestID), slog.Any("error", err))
		cost = 0
	}
	var ttft time.Duration
	if !u.FirstTokenAt.IsZero() {
		ttft = max(0, u.FirstTokenAt.Sub(c.req.Arrived))
	}
	latency := max(0, now.Sub(c.req.Arrived))
	version := c.price.version
	metrics := &typev1.InvocationMetrics{
		InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: store.AddSat(u.InputTokens, u.OutputTokens),
		Latency: durationpb.New(latency), EstimatedCost: catalog.USD(cost), UsageEstimated: u.Estimated || u.Clamped,
		PriceTableVersion: version,
	}
	if ttft > 0 {
		metrics.TimeToFirstToken = durationpb.New(ttft)
	}
	if !c.settled.CompareAndSwap(false, true) {
		return metrics
	}
	o := store.Outcome{
		Code: code, ErrorMessage: msg, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
		UsageEstimated: u.Estimated || u.Clamped, UsageSource: u.source(), CostNanos: cost, PriceTableVersion: version,
		Latency: latency, TimeToFirstToken: ttft, StopReason: u.StopReason, UpstreamRequestID: u.UpstreamRequestID,
		Retrieval: c.req.Retrieval,
	}
	for attempt := 1; ; attempt++ {
		err = c.m.store.Settle(ctx, c.ticket, o)
		if err == nil || attempt == settleAttempts || !errors.Is(err, store.ErrUnavailable) {
			break
		}
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
	if err != nil {
		c.m.log.LogAttrs(ctx, slog.LevelError, "settle failed; the hold stays until the reservation expires",
			slog.String("request_id", c.req.RequestID), slog.String("model", c.req.ModelID), slog.Any("error", err))
	} else if c.m.alerts != nil {
		c.m.alerts.Settled(ctx, c.ticket.Reservation.User, c.ticket.Reservation.Department, c.req.Limits)
	}
	c.m.observe(ctx, c.req, Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, FirstTokenAt: u.FirstTokenAt}, code, now, true)
	return metrics
}

func (m *Meter) observe(ctx context.Context, r Request, u Usage, code string, now time.Time, upstream bool) {
	o := Observation{
		ModelID: r.ModelID, Provider: string(r.Provider), Outcome: code,
		InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, Latency: max(0, now.Sub(r.Arrived)),
		// Quota refusals never reach the provider; a RESOURCE_EXHAUSTED from a call is the
		// provider's throttling.
		UpstreamThrottled: upstream && code == connect.CodeResourceExhausted.String(),
	}
	if !u.FirstTokenAt.IsZero() {
		o.TimeToFirstToken = max(0, u.FirstTokenAt.Sub(r.Arrived))
	}
	m.recorder.Record(ctx, o)
}

// outcomeOf returns the audit outcome ("ok" or a Connect code name) and a user-safe message
// for a call's error. Only *connect.Error messages are shown; anything else is "internal".
func outcomeOf(err error) (code, msg string) {
	if err == nil {
		return store.OutcomeOK, ""
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code().String(), truncate(ce.Message(), 500)
	}
	if errors.Is(err, context.Canceled) {
		return connect.CodeCanceled.String(), "the request was canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.CodeDeadlineExceeded.String(), "the request ran out of time"
	}
	return connect.CodeInternal.String(), "internal error"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
