package store

import (
	"cmp"
	"slices"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Usage is a user's quota state and totals, for GetUsage.
type Usage struct {
	// Quotas are the states of the limits asked about, in the order asked.
	Quotas []QuotaStatus
	// Today and ThisMonth are the user's totals in the current UTC day and month.
	Today     Totals
	ThisMonth Totals
	// AsOf is when the report was made.
	AsOf time.Time
}

// QuotasProto returns the quota states as the API's QuotaStatus list.
func (u Usage) QuotasProto() []*typev1.QuotaStatus {
	out := make([]*typev1.QuotaStatus, len(u.Quotas))
	for i, q := range u.Quotas {
		out[i] = q.Proto()
	}
	return out
}

// AsOfProto returns AsOf as a timestamp.
func (u Usage) AsOfProto() *timestamppb.Timestamp { return timestamppb.New(u.AsOf) }

// MaxUsageDays is the longest range ListUsage sums over.
const MaxUsageDays = 367

// UsageFilter selects and breaks down usage for ListUsage.
type UsageFilter struct {
	// StartDay and EndDay are the first and last UTC days, inclusive, as YYYY-MM-DD; at most
	// 366 days apart.
	StartDay, EndDay string
	// GroupBy are the dimensions rows are broken down and sorted by; none gives one row.
	// Each at most once.
	GroupBy []adminv1.UsageDimension
	// User, Group, ModelID and Department narrow the usage to one user, members of one
	// group, one model, callers of one department.
	User, Group, ModelID, Department string
}

// Range validates f and returns its first and last days.
func (f UsageFilter) Range() (start, end time.Time, err error) {
	start, err = time.Parse(time.DateOnly, f.StartDay)
	if err != nil {
		return start, end, Invalid("start day %q is not YYYY-MM-DD", f.StartDay)
	}
	end, err = time.Parse(time.DateOnly, f.EndDay)
	if err != nil {
		return start, end, Invalid("end day %q is not YYYY-MM-DD", f.EndDay)
	}
	if end.Before(start) {
		return start, end, Invalid("end day %s is before start day %s", f.EndDay, f.StartDay)
	}
	if end.Sub(start) > (MaxUsageDays-1)*24*time.Hour {
		return start, end, Invalid("range of more than %d days", MaxUsageDays-1)
	}
	seen := map[adminv1.UsageDimension]bool{}
	for _, d := range f.GroupBy {
		if d < adminv1.UsageDimension_USAGE_DIMENSION_USER || d > adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT || seen[d] {
			return start, end, Invalid("bad or repeated dimension %v", d)
		}
		seen[d] = true
	}
	return start, end, nil
}

// UsageRow is usage for one combination of the requested dimensions; dimensions not
// requested are empty.
type UsageRow struct {
	Day, User, Group, ModelID, Department string
	Totals                                Totals
}

// Proto returns the row as the admin API's UsageRow.
func (r UsageRow) Proto() *adminv1.UsageRow {
	return &adminv1.UsageRow{Day: r.Day, User: r.User, Group: r.Group, ModelId: r.ModelID, Department: r.Department,
		Totals: r.Totals.Proto()}
}

// UsageReport is the answer to ListUsage.
type UsageReport struct {
	// Rows are sorted by the requested dimensions, in order.
	Rows []UsageRow
	// Totals is the sum over everything selected; a request counts once, whatever its
	// groups.
	Totals Totals
}

// Fact is usage of one (day, user, groups, model, department) combination, which
// implementations read from their ledgers and feed to an Aggregator.
type Fact struct {
	Day        string
	User       string
	Groups     []string
	ModelID    string
	Department string
	Totals     Totals
}

// Aggregator turns facts into a UsageReport for a filter. Implementations share it so that
// both stores break usage down identically.
type Aggregator struct {
	f      UsageFilter
	rows   map[UsageRow]*Totals
	totals Totals
}

// NewAggregator returns an aggregator for f (validate f with Range first).
func NewAggregator(f UsageFilter) *Aggregator {
	return &Aggregator{f: f, rows: map[UsageRow]*Totals{}}
}

// Add counts a fact if it passes the filter. A fact whose groups include several groups
// counts once in the totals and once per group when broken down by group.
func (a *Aggregator) Add(x Fact) {
	f := a.f
	if x.Day < f.StartDay || x.Day > f.EndDay || (f.User != "" && x.User != f.User) ||
		(f.ModelID != "" && x.ModelID != f.ModelID) || (f.Group != "" && !slices.Contains(x.Groups, f.Group)) ||
		(f.Department != "" && x.Department != f.Department) {
		return
	}
	a.totals.Add(x.Totals)
	groups := []string{""}
	if slices.Contains(f.GroupBy, adminv1.UsageDimension_USAGE_DIMENSION_GROUP) {
		groups = x.Groups
		if f.Group != "" {
			groups = []string{f.Group}
		}
	}
	for _, g := range groups {
		var k UsageRow
		for _, d := range f.GroupBy {
			switch d {
			case adminv1.UsageDimension_USAGE_DIMENSION_USER:
				k.User = x.User
			case adminv1.UsageDimension_USAGE_DIMENSION_GROUP:
				k.Group = g
			case adminv1.UsageDimension_USAGE_DIMENSION_MODEL:
				k.ModelID = x.ModelID
			case adminv1.UsageDimension_USAGE_DIMENSION_DAY:
				k.Day = x.Day
			case adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT:
				k.Department = x.Department
			}
		}
		t := a.rows[k]
		if t == nil {
			t = &Totals{}
			a.rows[k] = t
		}
		t.Add(x.Totals)
	}
}

// Report returns the rows, sorted by the requested dimensions in order, and the totals.
// With no dimensions there is exactly one row, even when nothing was used.
func (a *Aggregator) Report() UsageReport {
	rep := UsageReport{Totals: a.totals}
	if len(a.f.GroupBy) == 0 {
		rep.Rows = []UsageRow{{Totals: a.totals}}
		return rep
	}
	for k, t := range a.rows {
		k.Totals = *t
		rep.Rows = append(rep.Rows, k)
	}
	slices.SortFunc(rep.Rows, func(x, y UsageRow) int {
		for _, d := range a.f.GroupBy {
			var c int
			switch d {
			case adminv1.UsageDimension_USAGE_DIMENSION_USER:
				c = cmp.Compare(x.User, y.User)
			case adminv1.UsageDimension_USAGE_DIMENSION_GROUP:
				c = cmp.Compare(x.Group, y.Group)
			case adminv1.UsageDimension_USAGE_DIMENSION_MODEL:
				c = cmp.Compare(x.ModelID, y.ModelID)
			case adminv1.UsageDimension_USAGE_DIMENSION_DAY:
				c = cmp.Compare(x.Day, y.Day)
			case adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT:
				c = cmp.Compare(x.Department, y.Department)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return rep
}
