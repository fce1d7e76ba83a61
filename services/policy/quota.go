package policy

import (
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

// The policy describes a quota as the store counts it, a [store.Limit]: the type goes from
// the policy through metering to the store unchanged, and becomes the API's QuotaLimit only
// at the API's edge ([store.Limit.Proto]).

// userLimit returns the per-user limit of n units per window.
func userLimit(w typev1.QuotaWindow, u typev1.QuotaUnit, n int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: w, Unit: u, Max: n}
}

// groupPool returns the monthly pool of n tokens of group.
func groupPool(group string, n int64) store.Limit {
	return store.Limit{
		Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: group,
		Window: typev1.QuotaWindow_QUOTA_WINDOW_MONTH, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: n,
	}
}

// userLimits are a grant's per-user limits; zero means no limit.
type userLimits struct {
	requestsPerMinute int64
	tokensPerDay      int64
	tokensPerMonth    int64
}

// quotas lists the limits that are set, minute first.
func (u userLimits) quotas() []store.Limit {
	var qs []store.Limit
	if u.requestsPerMinute > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, u.requestsPerMinute))
	}
	if u.tokensPerDay > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, u.tokensPerDay))
	}
	if u.tokensPerMonth > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, u.tokensPerMonth))
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
