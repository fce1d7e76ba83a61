package store

import (
	"slices"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// Reservation is what Reserve needs to know about a request before it is sent upstream.
// It carries the request's audit context, which Settle records with the outcome.
type Reservation struct {
	// RequestID is the request's unique id (the id returned to the caller); required, used
	// once.
	RequestID string
	// User is the caller's user name (principal.Username; a machine client's client id),
	// the subject of user limits; required.
	User string
	// Subject is the token's `sub`.
	Subject string
	// Groups are the caller's groups at the time, recorded for usage by group.
	Groups []string
	// ClientID is the OAuth client the token was issued to.
	ClientID string
	// APIKey is the prefix of the personal API key the call was made with, if any.
	APIKey string
	// Procedure is the RPC called, such as "/portico.inference.v1.InferenceService/Converse".
	Procedure string
	// ModelID is the model id or endpoint name; required.
	ModelID string
	// SourceIP and UserAgent are the caller's, as the front door saw them.
	SourceIP  string
	UserAgent string
	// Tokens is the worst case to hold against tokens limits: the estimated input tokens
	// plus the request's max_tokens.
	Tokens int64
	// Cost is the worst case to hold against cost limits (budgets), in nanos of the price
	// table's currency: Tokens' cost at the model's prices as the reservation is made (so
	// that a price table change applies to new requests only).
	Cost int64
	// Department is the caller's department (the identity provider's department claim),
	// recorded for chargeback; may be empty.
	Department string
	// Limits are every limit that applies to the request (the policy's quotas for the user
	// and each group charged). Limits that count in the same counter (same subject, unit
	// and window) are merged, keeping the smallest Max.
	Limits []Limit
}

// Hold is one counter a ticket holds an amount on.
type Hold struct {
	// Key is the counter's key (see CounterKey).
	Key string
	// Limit is the limit checked, its Max the smallest among merged limits.
	Limit Limit
	// Amount is what is held: the reservation's Tokens, its Cost, or 1 request.
	Amount int64
	// ResetsAt is when the counter's window ends.
	ResetsAt time.Time
}

// Ticket is a granted reservation, to be passed to Settle exactly as Reserve returned it.
// It is a plain value: it can be copied and compared, and it carries everything Settle
// needs.
type Ticket struct {
	// Reservation is the request as reserved.
	Reservation Reservation
	// Time is when the request was reserved: its time in the ledger and audit trail, and
	// the time that chose its windows.
	Time time.Time
	// ExpiresAt is when the reservation may be released if it was not settled.
	ExpiresAt time.Time
	// Holds are the counters held, one per distinct counter.
	Holds []Hold
}

// Charge returns what a request counts against a counter of unit u: its tokens, its cost in
// nanos, or 1 request. Negative figures count as zero.
func Charge(u typev1.QuotaUnit, tokens, cost int64) int64 {
	switch u {
	case typev1.QuotaUnit_QUOTA_UNIT_REQUESTS:
		return 1
	case typev1.QuotaUnit_QUOTA_UNIT_COST:
		return max(0, cost)
	}
	return max(0, tokens)
}

// Settlement returns what settling rec adds to the used figure of the counter h holds on
// (its Charge: a budget is charged rec's estimated cost). It refuses a negative delta with an ErrInvalid error: settling only ever
// raises used, so that no outcome, however reported, can lower a counter and lift a limit.
// Implementations call it for every hold before writing anything.
func (h Hold) Settlement(rec Record) (int64, error) {
	if rec.InputTokens < 0 || rec.OutputTokens < 0 || rec.CostNanos < 0 {
		return 0, Invalid("settle %s: negative usage (%d input, %d output tokens, cost %d)", rec.RequestID, rec.InputTokens, rec.OutputTokens, rec.CostNanos)
	}
	if h.Amount < 0 {
		return 0, Invalid("settle %s: negative hold %d on %s", rec.RequestID, h.Amount, h.Key)
	}
	return Charge(h.Limit.Unit, rec.Tokens(), rec.CostNanos), nil
}

// Plan validates r and returns the ticket Reserve grants if every hold fits: holds sorted by
// key (a fixed order, so that concurrent reservations touch counters in the same order),
// merged per counter. Implementations call it first.
func Plan(r Reservation, now time.Time, ttl time.Duration) (Ticket, error) {
	switch {
	case r.RequestID == "":
		return Ticket{}, Invalid("reservation without a request id")
	case r.User == "":
		return Ticket{}, Invalid("reservation without a user")
	case r.ModelID == "":
		return Ticket{}, Invalid("reservation without a model")
	case r.Tokens < 0:
		return Ticket{}, Invalid("reservation of %d tokens", r.Tokens)
	case r.Cost < 0:
		return Ticket{}, Invalid("reservation of cost %d", r.Cost)
	case len(r.RequestID) > 200 || len(r.User) > 500 || len(r.ModelID) > 500 || len(r.Department) > 500:
		return Ticket{}, Invalid("reservation with an oversized id")
	}
	now = now.UTC()
	r.Groups = slices.Clone(r.Groups)
	slices.Sort(r.Groups)
	r.Groups = slices.Compact(r.Groups)
	r.Limits = slices.Clone(r.Limits)
	t := Ticket{Reservation: r, Time: now, ExpiresAt: now.Add(ttl)}
	index := map[string]int{}
	for _, l := range r.Limits {
		if err := l.Validate(); err != nil {
			return Ticket{}, err
		}
		key, resets := CounterKey(r.User, l, now)
		if i, ok := index[key]; ok {
			if l.Max < t.Holds[i].Limit.Max {
				t.Holds[i].Limit = l
			}
			continue
		}
		index[key] = len(t.Holds)
		t.Holds = append(t.Holds, Hold{Key: key, Limit: l, Amount: Charge(l.Unit, r.Tokens, r.Cost), ResetsAt: resets})
	}
	slices.SortFunc(t.Holds, func(a, b Hold) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return t, nil
}

// Refusal returns the QuotaError for hold h when its counter stands at used and reserved,
// or nil when the hold fits. The check cannot overflow: a sum past math.MaxInt64 must
// refuse, not wrap around to a negative number that fits. A negative used or reserved is
// corrupt data, never zero: Refusal then returns an ErrCorrupt error (see CheckCounter).
func (h Hold) Refusal(used, reserved int64) (*QuotaError, error) {
	if err := CheckCounter(h.Key, used, reserved); err != nil {
		return nil, err
	}
	if fits(h.Limit.Max, used, reserved, h.Amount) {
		return nil, nil
	}
	return &QuotaError{
		Status:    QuotaStatus{Limit: h.Limit, Used: used, Reserved: reserved, ResetsAt: h.ResetsAt},
		Requested: h.Amount,
	}, nil
}

// fits reports whether used + reserved + amount <= limit, all four non-negative, without
// computing a sum that could overflow.
func fits(limit, used, reserved, amount int64) bool {
	room := limit - amount // limit and amount are >= 0: no overflow
	return room >= 0 && used <= room && reserved <= room-used
}
