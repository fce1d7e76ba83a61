package store

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// AlertFilter selects a page of the alert marks of the current windows for
// [AlertStore.ListAlerts].
type AlertFilter struct {
	// Now decides the current windows: the minute, the day and the month containing it.
	Now time.Time
	// PageSize is the most marks per page, 1 to 500; 0 means 50.
	PageSize int
	// PageToken is a previous page's NextPageToken, to continue after it.
	PageToken string
}

// Page validates the filter's page size and token and returns the size, with the default
// applied, and the list key ([AlertMark.ListKey]) the page starts after: "" for the first
// page. A size out of range or a token ListAlerts did not make is an ErrInvalid error.
func (f AlertFilter) Page() (size int, after string, err error) {
	if size, err = (AuditFilter{PageSize: f.PageSize}).Size(); err != nil {
		return 0, "", err
	}
	if f.PageToken == "" {
		return size, "", nil
	}
	var tok alertToken
	if err := DecodePageToken(f.PageToken, &tok); err != nil {
		return 0, "", err
	}
	if !validListKey(tok.After) {
		return 0, "", Invalid("malformed page token")
	}
	return size, tok.After, nil
}

// AlertPage is one page of alert marks.
type AlertPage struct {
	// Marks are in the listing order.
	Marks []AlertMark
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string
}

// alertToken is ListAlerts' page token: the list key of the last mark of the page.
type alertToken struct {
	After string `json:"alertAfter"`
}

// Validate reports whether m can be recorded: a counter key, a threshold of ThresholdNear or
// ThresholdFull, a valid limit, a ResetsAt that ends a window of the limit's kind, and a
// Time from 1970 to 2262 (Unix nanoseconds).
func (m AlertMark) Validate() error {
	if err := m.Limit.Validate(); err != nil {
		return err
	}
	switch {
	case m.Key == "":
		return Invalid("alert mark without a counter key")
	case m.Threshold != ThresholdNear && m.Threshold != ThresholdFull:
		return Invalid("alert mark %s: threshold %d is not %d or %d", m.Key, m.Threshold, ThresholdNear, ThresholdFull)
	case m.Time.Before(time.Unix(0, 0)) || m.Time.After(time.Unix(0, math.MaxInt64)):
		return Invalid("alert mark %s: time %v is out of range", m.Key, m.Time)
	}
	if _, end := Window(m.Limit.Window, m.ResetsAt.Add(-time.Nanosecond)); !end.Equal(m.ResetsAt) {
		return Invalid("alert mark %s: %v does not end a %s window", m.Key, m.ResetsAt, m.Limit.WindowName())
	}
	return nil
}

// ListKey returns the string whose byte order is the listing order of marks: the threshold
// (inverted, three digits), the time (inverted Unix nanoseconds, 19 digits) and the counter
// key, joined by "#". Both stores index marks by it, and page tokens hold the last one of a
// page. It is only meaningful for a valid mark.
func (m AlertMark) ListKey() string {
	return fmt.Sprintf("%03d#%019d#%s", 999-m.Threshold, math.MaxInt64-max(m.Time.UnixNano(), 0), m.Key)
}

// validListKey reports whether k has the form of a ListKey.
func validListKey(k string) bool {
	if len(k) < 25 || k[3] != '#' || k[23] != '#' {
		return false
	}
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	return digits(k[:3]) && digits(k[4:23])
}

// CompareAlerts orders marks for listing: highest threshold first, then newest first, then
// by counter key (the byte order of their ListKeys).
func CompareAlerts(a, b AlertMark) int { return strings.Compare(a.ListKey(), b.ListKey()) }

// alertWindows are the kinds of window a mark can count in.
var alertWindows = []typev1.QuotaWindow{
	typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaWindow_QUOTA_WINDOW_MONTH,
}

// AlertWindowEnds returns the ends of the windows current at now, one per window kind
// (minute, day, month), earliest first: the marks ListAlerts lists are those whose ResetsAt
// is one of them.
func AlertWindowEnds(now time.Time) []time.Time {
	out := make([]time.Time, 0, len(alertWindows))
	for _, w := range alertWindows {
		if _, end := Window(w, now); !slices.ContainsFunc(out, end.Equal) {
			out = append(out, end)
		}
	}
	return out
}

// MergeAlertPages returns the page of size marks that runs make up, and its NextPageToken
// when marks are left after it. Each run is one window's marks after the page token, in the
// listing order, at most size+1 of them (a store reads size+1 per window, so that a run
// cut short shows that more follow).
func MergeAlertPages(size int, runs ...[]AlertMark) AlertPage {
	all := slices.Concat(runs...)
	slices.SortFunc(all, CompareAlerts)
	page := AlertPage{Marks: all}
	if len(all) > size {
		page.Marks = all[:size:size]
		page.NextPageToken = EncodePageToken(alertToken{After: all[size-1].ListKey()})
	}
	return page
}
