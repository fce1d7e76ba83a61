package store

import (
	"slices"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// OutcomeOK is the outcome of a request that succeeded.
const OutcomeOK = "ok"

// UsageSource says where a record's token counts come from.
type UsageSource string

// The usage sources.
const (
	// UsageReported: the counts are the provider's own report, where the catalog says the
	// model or endpoint reports them, within what the request could have used. A request
	// refused before any call (zero usage) is recorded as reported too: nothing was used.
	UsageReported UsageSource = "reported"
	// UsageEstimated: the provider reported no counts (or not all of them), and Portico
	// estimated them from the payload sizes.
	UsageEstimated UsageSource = "estimated"
	// UsageClamped: the provider reported a count the request could not have used (negative,
	// or above the model's context window or the request's max output); Portico replaced it
	// by its estimate.
	UsageClamped UsageSource = "clamped"
)

// SourceOf returns s when it is a known source, else the source its estimated flag implies
// (records written before usage sources existed carry only the flag).
func SourceOf(s string, estimated bool) UsageSource {
	switch u := UsageSource(s); u {
	case UsageReported, UsageEstimated, UsageClamped:
		return u
	}
	if estimated {
		return UsageEstimated
	}
	return UsageReported
}

// Outcome is what a request actually used and how it ended, as Settle records it.
type Outcome struct {
	// Code is "ok", or the Connect code name of the error the caller got, such as
	// "canceled", "resource_exhausted" or "unavailable" (connect.Code.String()). Empty
	// means "ok".
	Code string
	// ErrorMessage is the short, user-safe description of the error; never a prompt.
	ErrorMessage string
	// InputTokens and OutputTokens are the provider's counts (or Portico's estimate, see
	// UsageEstimated); for a cancelled stream, what was used up to the cancel.
	InputTokens  int64
	OutputTokens int64
	// UsageEstimated is true when the provider reported no counts.
	UsageEstimated bool
	// UsageSource says where the counts come from; empty means the source UsageEstimated
	// implies. A clamped or estimated source marks the record UsageEstimated too.
	UsageSource UsageSource
	// CostNanos is the estimated cost in nanos of US dollars (catalog.CostNanos).
	CostNanos int64
	// PriceTableVersion is the version of the price table CostNanos comes from.
	PriceTableVersion string
	// Latency is from arrival to the last byte; TimeToFirstToken from arrival to the first
	// generated content (zero for unary calls).
	Latency          time.Duration
	TimeToFirstToken time.Duration
	// StopReason is the model's stop reason, such as "end_turn", when there was one.
	StopReason string
	// UpstreamRequestID is the request id the AWS service returned.
	UpstreamRequestID string
	// Detail says what an administrative action did (a policy change); never a secret.
	Detail string
	// Retrieval notes the request's knowledge-base retrieval, if any.
	Retrieval Retrieval
}

// Retrieval notes a knowledge-base retrieval in the audit trail: never the passages' text.
// The zero value means the request named no knowledge base.
type Retrieval struct {
	// KnowledgeBaseID is the knowledge base retrieved from.
	KnowledgeBaseID string
	// Passages is how many passages it returned.
	Passages int
	// Latency is how long the retrieval took.
	Latency time.Duration
}

// Record is one request's ledger entry and audit record. It never holds prompts or
// completions.
type Record struct {
	RequestID         string
	Time              time.Time // when the request was reserved (UTC)
	Subject           string
	User              string
	Groups            []string // sorted
	ClientID          string
	APIKey            string // the personal API key's prefix, if the call was made with one
	Procedure         string
	ModelID           string
	Outcome           string
	ErrorMessage      string
	InputTokens       int64
	OutputTokens      int64
	UsageEstimated    bool
	UsageSource       UsageSource
	CostNanos         int64
	PriceTableVersion string
	Latency           time.Duration
	TimeToFirstToken  time.Duration
	StopReason        string
	UpstreamRequestID string
	SourceIP          string
	UserAgent         string
	// Department is the caller's department, for chargeback.
	Department string
	// Detail says what an administrative action did.
	Detail string
	// Retrieval notes the knowledge-base retrieval, if any.
	Retrieval Retrieval
	// Late is true when the request settled after its reservation had expired and been
	// released.
	Late bool
}

// NewRecord returns the record Settle writes for ticket t and outcome o. Negative counts and
// costs are recorded as zero.
func NewRecord(t Ticket, o Outcome) Record {
	r := t.Reservation
	code := o.Code
	if code == "" {
		code = OutcomeOK
	}
	source := SourceOf(string(o.UsageSource), o.UsageEstimated)
	return Record{
		RequestID: r.RequestID, Time: t.Time.UTC(), Subject: r.Subject, User: r.User,
		Groups: slices.Clone(r.Groups), ClientID: r.ClientID, APIKey: r.APIKey, Procedure: r.Procedure, ModelID: r.ModelID,
		Outcome: code, ErrorMessage: o.ErrorMessage,
		InputTokens: max(0, o.InputTokens), OutputTokens: max(0, o.OutputTokens),
		UsageEstimated: source != UsageReported, UsageSource: source, CostNanos: max(0, o.CostNanos), PriceTableVersion: o.PriceTableVersion,
		Latency: max(0, o.Latency), TimeToFirstToken: max(0, o.TimeToFirstToken),
		StopReason: o.StopReason, UpstreamRequestID: o.UpstreamRequestID,
		Retrieval: Retrieval{KnowledgeBaseID: o.Retrieval.KnowledgeBaseID, Passages: max(0, o.Retrieval.Passages), Latency: max(0, o.Retrieval.Latency)},
		SourceIP:  r.SourceIP, UserAgent: r.UserAgent, Department: r.Department, Detail: o.Detail,
	}
}

// Tokens is InputTokens + OutputTokens, what tokens counters are charged, saturating at
// math.MaxInt64: two huge counts never wrap around to a negative charge.
func (r Record) Tokens() int64 { return AddSat(r.InputTokens, r.OutputTokens) }

// Day is the record's UTC day, YYYY-MM-DD.
func (r Record) Day() string { return r.Time.UTC().Format(time.DateOnly) }

// Totals returns the record as usage totals of one request.
func (r Record) Totals() Totals {
	t := Totals{Requests: 1, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostNanos: r.CostNanos}
	if r.Outcome != OutcomeOK {
		t.Errors = 1
	}
	return t
}

// Proto returns the record as the admin API's AuditEvent.
func (r Record) Proto() *adminv1.AuditEvent {
	e := &adminv1.AuditEvent{
		RequestId: r.RequestID, Time: timestamppb.New(r.Time), Subject: r.Subject, User: r.User,
		Groups: slices.Clone(r.Groups), ClientId: r.ClientID, Procedure: r.Procedure, ModelId: r.ModelID,
		Outcome: r.Outcome, ErrorMessage: r.ErrorMessage,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
		EstimatedCost: catalog.USD(r.CostNanos), UsageEstimated: r.UsageEstimated,
		Latency: durationpb.New(r.Latency), UpstreamRequestId: r.UpstreamRequestID,
		SourceIp: r.SourceIP, UserAgent: r.UserAgent, StopReason: r.StopReason,
		UsageSource: string(SourceOf(string(r.UsageSource), r.UsageEstimated)),
		Department:  r.Department, Detail: r.Detail,
		ApiKeyPrefix: r.APIKey,
	}
	if r.TimeToFirstToken > 0 {
		e.TimeToFirstToken = durationpb.New(r.TimeToFirstToken)
	}
	if k := r.Retrieval; k.KnowledgeBaseID != "" {
		e.Retrieval = &adminv1.Retrieval{KnowledgeBaseId: k.KnowledgeBaseID, Passages: int32(min(k.Passages, 1<<30)), Latency: durationpb.New(k.Latency)} //nolint:gosec // G115: bounded
	}
	return e
}

// Totals sums usage.
type Totals struct {
	Requests     int64
	Errors       int64
	InputTokens  int64
	OutputTokens int64
	CostNanos    int64
}

// Add adds o to t, each figure saturating at math.MaxInt64 (see AddSat).
func (t *Totals) Add(o Totals) {
	t.Requests = AddSat(t.Requests, o.Requests)
	t.Errors = AddSat(t.Errors, o.Errors)
	t.InputTokens = AddSat(t.InputTokens, o.InputTokens)
	t.OutputTokens = AddSat(t.OutputTokens, o.OutputTokens)
	t.CostNanos = AddSat(t.CostNanos, o.CostNanos)
}

// Proto returns the totals as the API's UsageTotals, the cost in USD.
func (t Totals) Proto() *typev1.UsageTotals {
	return &typev1.UsageTotals{
		Requests: t.Requests, Errors: t.Errors, InputTokens: t.InputTokens, OutputTokens: t.OutputTokens,
		TotalTokens: AddSat(t.InputTokens, t.OutputTokens), EstimatedCost: catalog.USD(t.CostNanos),
	}
}
