package dynamostore

import (
	"fmt"
	"time"

	"github.com/portico-dev/portico/services/store"
)

// AuditHorizonMonths is how many months back ListAudit looks when it is given no start
// time.
const AuditHorizonMonths = 36

const (
	attrTTL = "ttl"

	stateHolding   = "holding"
	stateSettling  = "settling"
	stateSettled   = "settled"
	stateReleasing = "releasing"
	stateReleased  = "released"
	stateLate      = "late"

	expiryPartition = "EXPIRY"
)

func counterPK(key string) string    { return "CTR#" + key }
func reservationPK(id string) string { return "RSV#" + id }
func recordPK(id string) string      { return "REC#" + id }
func monthPK(t time.Time) string     { return "AUDIT#" + t.UTC().Format("2006-01") }
func userPK(user string) string      { return "AUDITU#" + user }

// timeKey orders by time: Unix nanoseconds, zero-padded.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

// recordSK is the index sort key of a record.
func recordSK(t time.Time, id string) string { return timeKey(t) + "#" + id }

// upTo is the largest index sort key of a record before t: '$' sorts after '#'.
func upTo(t time.Time) string { return fmt.Sprintf("%020d$", t.UnixNano()-1) }

type holdItem struct {
	Key      string `dynamodbav:"k"`
	Amount   int64  `dynamodbav:"a"`
	ResetsAt int64  `dynamodbav:"r"`
}

type reservationItem struct {
	PK        string     `dynamodbav:"PK"`
	SK        string     `dynamodbav:"SK"`
	State     string     `dynamodbav:"state"`
	Holds     []holdItem `dynamodbav:"holds"`
	ExpiresAt int64      `dynamodbav:"expiresAt"`
	GSI1PK    string     `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK    string     `dynamodbav:"GSI1SK,omitempty"`
	// UsagePK and UsageSK are the key of the usage summary the reservation is pending on
	// (absent on reservations written before summaries).
	UsagePK string `dynamodbav:"usagePK,omitempty"`
	UsageSK string `dynamodbav:"usageSK,omitempty"`
	// FromSettling marks a reservation whose release began from settling (an abandoned
	// Settle): see release.
	FromSettling bool `dynamodbav:"fromSettling,omitempty"`
}

type recordItem struct {
	PK                string   `dynamodbav:"PK"`
	SK                string   `dynamodbav:"SK"`
	GSI1PK            string   `dynamodbav:"GSI1PK"`
	GSI1SK            string   `dynamodbav:"GSI1SK"`
	GSI2PK            string   `dynamodbav:"GSI2PK"`
	GSI2SK            string   `dynamodbav:"GSI2SK"`
	RequestID         string   `dynamodbav:"requestId"`
	TimeNs            int64    `dynamodbav:"timeNs"`
	Day               string   `dynamodbav:"day"`
	Subject           string   `dynamodbav:"subject"`
	User              string   `dynamodbav:"user"`
	Groups            []string `dynamodbav:"groups"`
	ClientID          string   `dynamodbav:"clientId"`
	APIKey            string   `dynamodbav:"apiKey,omitempty"`
	Procedure         string   `dynamodbav:"procedure"`
	ModelID           string   `dynamodbav:"modelId"`
	Outcome           string   `dynamodbav:"outcome"`
	ErrorMessage      string   `dynamodbav:"errorMessage"`
	InputTokens       int64    `dynamodbav:"inputTokens"`
	OutputTokens      int64    `dynamodbav:"outputTokens"`
	UsageEstimated    bool     `dynamodbav:"usageEstimated"`
	UsageSource       string   `dynamodbav:"usageSource,omitempty"`
	CostNanos         int64    `dynamodbav:"costNanos"`
	PriceTableVersion string   `dynamodbav:"priceTableVersion"`
	LatencyNs         int64    `dynamodbav:"latencyNs"`
	TTFTNs            int64    `dynamodbav:"ttftNs"`
	StopReason        string   `dynamodbav:"stopReason"`
	UpstreamRequestID string   `dynamodbav:"upstreamRequestId"`
	SourceIP          string   `dynamodbav:"sourceIp"`
	UserAgent         string   `dynamodbav:"userAgent"`
	Late              bool     `dynamodbav:"late"`
	Department        string   `dynamodbav:"department,omitempty"`
	Detail            string   `dynamodbav:"detail,omitempty"`
	// The knowledge-base retrieval (store.Retrieval); absent for other requests.
	KBID        string `dynamodbav:"kbId,omitempty"`
	KBPassages  int    `dynamodbav:"kbPassages,omitempty"`
	KBLatencyNs int64  `dynamodbav:"kbLatencyNs,omitempty"`
}

func toItem(r store.Record) recordItem {
	groups := r.Groups
	if groups == nil {
		groups = []string{}
	}
	return recordItem{
		PK: recordPK(r.RequestID), SK: "REC",
		GSI1PK: monthPK(r.Time), GSI1SK: recordSK(r.Time, r.RequestID),
		GSI2PK: userPK(r.User), GSI2SK: recordSK(r.Time, r.RequestID),
		RequestID: r.RequestID, TimeNs: r.Time.UnixNano(), Day: r.Day(), Subject: r.Subject, User: r.User,
		Groups: groups, ClientID: r.ClientID, APIKey: r.APIKey, Procedure: r.Procedure, ModelID: r.ModelID, Outcome: r.Outcome,
		ErrorMessage: r.ErrorMessage, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
		UsageEstimated: r.UsageEstimated, UsageSource: string(r.UsageSource), CostNanos: r.CostNanos,
		PriceTableVersion: r.PriceTableVersion, LatencyNs: int64(r.Latency), TTFTNs: int64(r.TimeToFirstToken), StopReason: r.StopReason,
		UpstreamRequestID: r.UpstreamRequestID, SourceIP: r.SourceIP, UserAgent: r.UserAgent, Late: r.Late,
		Department: r.Department, Detail: r.Detail,
		KBID: r.Retrieval.KnowledgeBaseID, KBPassages: r.Retrieval.Passages, KBLatencyNs: int64(r.Retrieval.Latency),
	}
}

func (it recordItem) record() store.Record {
	groups := it.Groups
	if len(groups) == 0 {
		groups = nil
	}
	return store.Record{
		RequestID: it.RequestID, Time: time.Unix(0, it.TimeNs).UTC(), Subject: it.Subject, User: it.User,
		Groups: groups, ClientID: it.ClientID, APIKey: it.APIKey, Procedure: it.Procedure, ModelID: it.ModelID, Outcome: it.Outcome,
		ErrorMessage: it.ErrorMessage, InputTokens: it.InputTokens, OutputTokens: it.OutputTokens,
		UsageEstimated: it.UsageEstimated, UsageSource: store.SourceOf(it.UsageSource, it.UsageEstimated),
		CostNanos: it.CostNanos, PriceTableVersion: it.PriceTableVersion,
		Latency: time.Duration(it.LatencyNs), TimeToFirstToken: time.Duration(it.TTFTNs), StopReason: it.StopReason,
		UpstreamRequestID: it.UpstreamRequestID, SourceIP: it.SourceIP, UserAgent: it.UserAgent, Late: it.Late,
		Department: it.Department, Detail: it.Detail,
		Retrieval: store.Retrieval{KnowledgeBaseID: it.KBID, Passages: it.KBPassages, Latency: time.Duration(it.KBLatencyNs)},
	}
}
