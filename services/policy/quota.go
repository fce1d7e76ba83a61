package policy

import (
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// Subject says whose consumption a quota counts.
type Subject int

const (
	// SubjectUser counts the calling user (or machine client) alone.
	SubjectUser Subject = iota + 1
	// SubjectGroup counts every member of a group together.
	SubjectGroup
)

// Window is the period a quota counts over (calendar periods in UTC).
type Window int

const (
	// WindowMinute is a calendar minute.
	WindowMinute Window = iota + 1
	// WindowDay is a calendar day.
	WindowDay
	// WindowMonth is a calendar month.
	WindowMonth
)

// Unit is what a quota counts.
type Unit int

const (
	// UnitTokens counts input plus output tokens.
	UnitTokens Unit = iota + 1
	// UnitRequests counts requests.
	UnitRequests
)

// Quota is one limit that applies to a caller.
type Quota struct {
	// Subject is whose consumption counts.
	Subject Subject
	// Group is the group sharing the limit when Subject is SubjectGroup.
	Group string
	// Window is the period counted over.
	Window Window
	// Unit is what is counted.
	Unit Unit
	// Limit is the most that may be consumed in one window; always positive.
	Limit int64
}

// Proto returns q as a portico.type.v1.QuotaLimit.
func (q Quota) Proto() *typev1.QuotaLimit {
	l := &typev1.QuotaLimit{Group: q.Group, Limit: q.Limit}
	switch q.Subject {
	case SubjectUser:
		l.Subject = typev1.QuotaSubject_QUOTA_SUBJECT_USER
	case SubjectGroup:
		l.Subject = typev1.QuotaSubject_QUOTA_SUBJECT_GROUP
	}
	switch q.Window {
	case WindowMinute:
		l.Window = typev1.QuotaWindow_QUOTA_WINDOW_MINUTE
	case WindowDay:
		l.Window = typev1.QuotaWindow_QUOTA_WINDOW_DAY
	case WindowMonth:
		l.Window = typev1.QuotaWindow_QUOTA_WINDOW_MONTH
	}
	switch q.Unit {
	case UnitTokens:
		l.Unit = typev1.QuotaUnit_QUOTA_UNIT_TOKENS
	case UnitRequests:
		l.Unit = typev1.QuotaUnit_QUOTA_UNIT_REQUESTS
	}
	return l
}

// ProtoQuotas converts quotas to portico.type.v1.QuotaLimit values.
func ProtoQuotas(qs []Quota) []*typev1.QuotaLimit {
	out := make([]*typev1.QuotaLimit, len(qs))
	for i, q := range qs {
		out[i] = q.Proto()
	}
	return out
}

// userLimits are a grant's per-user limits; zero means no limit.
type userLimits struct {
	requestsPerMinute int64
	tokensPerDay      int64
	tokensPerMonth    int64
}

// quotas lists the limits that are set, minute first.
func (u userLimits) quotas() []Quota {
	var qs []Quota
	if u.requestsPerMinute > 0 {
		qs = append(qs, Quota{Subject: SubjectUser, Window: WindowMinute, Unit: UnitRequests, Limit: u.requestsPerMinute})
	}
	if u.tokensPerDay > 0 {
		qs = append(qs, Quota{Subject: SubjectUser, Window: WindowDay, Unit: UnitTokens, Limit: u.tokensPerDay})
	}
	if u.tokensPerMonth > 0 {
		qs = append(qs, Quota{Subject: SubjectUser, Window: WindowMonth, Unit: UnitTokens, Limit: u.tokensPerMonth})
	}
	return qs
}

// mostGenerous combines limits of several grants: per window, unlimited if any is unlimited,
// else the largest.
func mostGenerous(ls []userLimits) userLimits {
	if len(ls) == 0 {
		return userLimits{}
	}
	out := ls[0]
	for _, l := range ls[1:] {
		out.requestsPerMinute = looser(out.requestsPerMinute, l.requestsPerMinute)
		out.tokensPerDay = looser(out.tokensPerDay, l.tokensPerDay)
		out.tokensPerMonth = looser(out.tokensPerMonth, l.tokensPerMonth)
	}
	return out
}

func looser(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}
