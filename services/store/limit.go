package store

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Limit is one quota that applies to a request. It is the one type of a quota from the
// policy to the store: the policy produces it (policy.Entitlements.QuotasFor), metering
// passes it to Reserve as it is, and [Limit.Proto] makes the API's QuotaLimit at the edge.
type Limit struct {
	// Subject is whose consumption the limit counts: the user, or a group together.
	Subject typev1.QuotaSubject
	// Group is the group whose members share the limit; only with QUOTA_SUBJECT_GROUP.
	Group string
	// Window is the calendar period (UTC) the limit counts over.
	Window typev1.QuotaWindow
	// Unit is what the limit counts: tokens (input plus output) or requests.
	Unit typev1.QuotaUnit
	// Max is the most that may be consumed in one window (the proto's `limit`).
	Max int64
}

// String names the limit, such as "user tokens per day (1000)",
// "group MLUsers tokens per month (100000)" or, for a budget, "user cost per month (12.50)"
// (in the price table's currency).
func (l Limit) String() string {
	who := "user"
	if l.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_GROUP {
		who = "group " + l.Group
	}
	amount := strconv.FormatInt(l.Max, 10)
	if l.Unit == typev1.QuotaUnit_QUOTA_UNIT_COST {
		amount = catalog.FormatNanos(l.Max)
	}
	return fmt.Sprintf("%s %s per %s (%s)", who, unitName(l.Unit), windowName(l.Window), amount)
}

// Proto returns the limit as the API's QuotaLimit.
func (l Limit) Proto() *typev1.QuotaLimit {
	return &typev1.QuotaLimit{Subject: l.Subject, Group: l.Group, Window: l.Window, Unit: l.Unit, Limit: l.Max}
}

// Validate reports whether the limit is well formed.
func (l Limit) Validate() error {
	switch l.Subject {
	case typev1.QuotaSubject_QUOTA_SUBJECT_USER:
		if l.Group != "" {
			return Invalid("limit %v: a user limit names no group", l)
		}
	case typev1.QuotaSubject_QUOTA_SUBJECT_GROUP:
		if l.Group == "" {
			return Invalid("limit %v: a group limit needs a group", l)
		}
	default:
		return Invalid("limit %v: unknown subject %v", l, l.Subject)
	}
	if windowName(l.Window) == "" {
		return Invalid("limit %v: unknown window %v", l, l.Window)
	}
	if unitName(l.Unit) == "" {
		return Invalid("limit %v: unknown unit %v", l, l.Unit)
	}
	if l.Max < 0 {
		return Invalid("limit %v: negative", l)
	}
	return nil
}

// WindowName is the limit's window as a word ("minute", "day", "month"); "" for none.
func (l Limit) WindowName() string { return windowName(l.Window) }

// UnitName is the limit's unit as a word ("tokens", "requests", "cost"); "" for none.
func (l Limit) UnitName() string { return unitName(l.Unit) }

func windowName(w typev1.QuotaWindow) string {
	switch w {
	case typev1.QuotaWindow_QUOTA_WINDOW_MINUTE:
		return "minute"
	case typev1.QuotaWindow_QUOTA_WINDOW_DAY:
		return "day"
	case typev1.QuotaWindow_QUOTA_WINDOW_MONTH:
		return "month"
	}
	return ""
}

func unitName(u typev1.QuotaUnit) string {
	switch u {
	case typev1.QuotaUnit_QUOTA_UNIT_TOKENS:
		return "tokens"
	case typev1.QuotaUnit_QUOTA_UNIT_REQUESTS:
		return "requests"
	case typev1.QuotaUnit_QUOTA_UNIT_COST:
		return "cost"
	}
	return ""
}

// Window returns the start and end (the reset time) of the window of kind w containing t,
// in UTC.
func Window(w typev1.QuotaWindow, t time.Time) (start, end time.Time) {
	t = t.UTC()
	switch w {
	case typev1.QuotaWindow_QUOTA_WINDOW_MINUTE:
		start = t.Truncate(time.Minute)
		return start, start.Add(time.Minute)
	case typev1.QuotaWindow_QUOTA_WINDOW_DAY:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	default:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
}

// CounterKey returns the key of the counter that limit l of user counts in at time t, and
// when that counter's window resets. Keys look like "user/alice/tokens/day/2026-11-24",
// "group/MLUsers/tokens/month/2026-11", "user/alice/requests/minute/2026-11-24T10:31" and
// "user/alice/cost/month/2026-11" (a budget, counted in nanos);
// names are path-escaped, so no two subjects share a key. The limit's Max is not part of
// the key.
func CounterKey(user string, l Limit, t time.Time) (key string, resetsAt time.Time) {
	start, end := Window(l.Window, t)
	var stamp string
	switch l.Window {
	case typev1.QuotaWindow_QUOTA_WINDOW_MINUTE:
		stamp = start.Format("2006-01-02T15:04")
	case typev1.QuotaWindow_QUOTA_WINDOW_DAY:
		stamp = start.Format(time.DateOnly)
	default:
		stamp = start.Format("2006-01")
	}
	who := "user/" + url.PathEscape(user)
	if l.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_GROUP {
		who = "group/" + url.PathEscape(l.Group)
	}
	return who + "/" + unitName(l.Unit) + "/" + windowName(l.Window) + "/" + stamp, end
}

// QuotaStatus is the state of one limit in its current window.
type QuotaStatus struct {
	// Limit is the limit described.
	Limit Limit
	// Used is what was consumed and settled in the window.
	Used int64
	// Reserved is what requests in flight hold.
	Reserved int64
	// ResetsAt is when the window ends.
	ResetsAt time.Time
}

// Remaining is Max - Used - Reserved, never below zero and never wrapped around.
func (s QuotaStatus) Remaining() int64 {
	taken := AddSat(s.Used, s.Reserved)
	if taken >= s.Limit.Max {
		return 0
	}
	return s.Limit.Max - taken
}

// Proto returns the status as the API's QuotaStatus.
func (s QuotaStatus) Proto() *typev1.QuotaStatus {
	return &typev1.QuotaStatus{
		Limit: s.Limit.Proto(), Used: s.Used, Reserved: s.Reserved,
		Remaining: s.Remaining(), ResetsAt: timestamppb.New(s.ResetsAt),
	}
}
