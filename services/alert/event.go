package alert

import (
	"cmp"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/store"
)

// Source is the EventBridge source of Portico's governance events.
const Source = "portico.governance"

// DetailType is the EventBridge detail-type of a threshold crossing.
const DetailType = "Portico Quota Threshold Crossed"

// Detail is the JSON detail of a threshold crossing event. It names the subject and the
// limit, never a prompt, a token or a secret.
type Detail struct {
	// Subject is "user" or "group".
	Subject string `json:"subject"`
	// User is the person (or machine client) whose request crossed the threshold; for a
	// group limit, the member whose request did.
	User string `json:"user"`
	// Department is that user's department, when known.
	Department string `json:"department,omitempty"`
	// Group is the group of a group limit.
	Group string `json:"group,omitempty"`
	// Unit is "tokens", "requests" or "cost"; Window "day" or "month".
	Unit   string `json:"unit"`
	Window string `json:"window"`
	// Threshold is 80 or 100 (percent).
	Threshold int `json:"thresholdPercent"`
	// Used and Limit are the settled usage and the limit, in the unit (cost in nanos of the
	// price table's currency); UsedAmount and LimitAmount are the same for a cost limit, as
	// decimal amounts.
	Used        int64  `json:"used"`
	Limit       int64  `json:"limit"`
	UsedAmount  string `json:"usedAmount,omitempty"`
	LimitAmount string `json:"limitAmount,omitempty"`
	// Currency is the price table's currency, for a cost limit.
	Currency string `json:"currency,omitempty"`
	// ResetsAt is when the window ends (RFC 3339, UTC); CrossedAt when the crossing was
	// noticed.
	ResetsAt  time.Time `json:"resetsAt"`
	CrossedAt time.Time `json:"crossedAt"`
	// Limit key is the counter's key, unique per subject, limit and window.
	Key string `json:"counterKey"`
}

// DetailOf returns the event detail of mark m.
func DetailOf(m store.AlertMark) Detail {
	d := Detail{
		Subject: "user", User: m.User, Department: m.Department, Group: m.Limit.Group,
		Unit: cmp.Or(m.Limit.UnitName(), "unknown"), Window: cmp.Or(m.Limit.WindowName(), "unknown"), Threshold: m.Threshold,
		Used: m.Used, Limit: m.Limit.Max, ResetsAt: m.ResetsAt.UTC(), CrossedAt: m.Time.UTC(), Key: m.Key,
	}
	if m.Limit.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_GROUP {
		d.Subject = "group"
	}
	if m.Limit.Unit == typev1.QuotaUnit_QUOTA_UNIT_COST {
		d.UsedAmount, d.LimitAmount, d.Currency = catalog.FormatNanos(m.Used), catalog.FormatNanos(m.Limit.Max), catalog.Currency
	}
	return d
}
