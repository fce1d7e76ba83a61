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

// groupLimit returns a limit of n units per window shared by the members of group.
func groupLimit(group string, w typev1.QuotaWindow, u typev1.QuotaUnit, n int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: group, Window: w, Unit: u, Max: n}
}

// groupLimits are a group's shared pools; zero means no limit. Costs are in nanos.
type groupLimits struct {
	tokensPerMonth int64
	costPerDay     int64
	costPerMonth   int64
}

// any reports whether the group has a pool.
func (g groupLimits) any() bool {
	return g.tokensPerMonth > 0 || g.costPerDay > 0 || g.costPerMonth > 0
}

// appendQuotas appends group's pools that are set to qs: tokens per month, cost per day,
// cost per month (appending, not returning a slice of its own, saves the decision an
// allocation).
func (g groupLimits) appendQuotas(qs []store.Limit, group string) []store.Limit {
	if g.tokensPerMonth > 0 {
		qs = append(qs, groupLimit(group, typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, g.tokensPerMonth))
	}
	if g.costPerDay > 0 {
		qs = append(qs, groupLimit(group, typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_COST, g.costPerDay))
	}
	if g.costPerMonth > 0 {
		qs = append(qs, groupLimit(group, typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_COST, g.costPerMonth))
	}
	return qs
}

// userLimits are a grant's per-user limits; zero means no limit. Costs are in nanos.
type userLimits struct {
	requestsPerMinute int64
	tokensPerDay      int64
	tokensPerMonth    int64
	costPerDay        int64
	costPerMonth      int64
}

// appendQuotas appends the limits that are set to qs: minute, then tokens per day and
// month, then cost per day and month.
func (u userLimits) appendQuotas(qs []store.Limit) []store.Limit {
	if u.requestsPerMinute > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, u.requestsPerMinute))
	}
	if u.tokensPerDay > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, u.tokensPerDay))
	}
	if u.tokensPerMonth > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, u.tokensPerMonth))
	}
	if u.costPerDay > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_COST, u.costPerDay))
	}
	if u.costPerMonth > 0 {
		qs = append(qs, userLimit(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_COST, u.costPerMonth))
	}
	return qs
}

// looser combines the limits of two grants: per window, unlimited if either is unlimited,
// else the larger.
func (u userLimits) looser(l userLimits) userLimits {
	return userLimits{
		requestsPerMinute: looser(u.requestsPerMinute, l.requestsPerMinute),
		tokensPerDay:      looser(u.tokensPerDay, l.tokensPerDay),
		tokensPerMonth:    looser(u.tokensPerMonth, l.tokensPerMonth),
		costPerDay:        looser(u.costPerDay, l.costPerDay),
		costPerMonth:      looser(u.costPerMonth, l.costPerMonth),
	}
}

// count is how many of u's limits are set.
func (u userLimits) count() int {
	return set(u.requestsPerMinute) + set(u.tokensPerDay) + set(u.tokensPerMonth) + set(u.costPerDay) + set(u.costPerMonth)
}

// count is how many of g's pools are set.
func (g groupLimits) count() int {
	return set(g.tokensPerMonth) + set(g.costPerDay) + set(g.costPerMonth)
}

func set(n int64) int {
	if n > 0 {
		return 1
	}
	return 0
}

func looser(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}
