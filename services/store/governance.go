package store

import (
	"context"
	"errors"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// Governance is what the run-time policy and the quota alerts need from a store, beside
// [Store]: both implementations provide it, and the storetest suite holds them to the same
// contract.
type Governance interface {
	PolicyStore
	AlertStore
	CounterReader
}

// ErrStaleVersion is matched by the error of [PolicyStore.AddPolicyVersion] when the version
// written is not the one after the latest: another edit was saved first. Map it to
// FAILED_PRECONDITION.
var ErrStaleVersion = errors.New("the policy changed since this edit was based on it")

// ErrNotFound is matched by errors for a policy version that does not exist. Map it to
// NOT_FOUND.
var ErrNotFound = errors.New("not found")

// The kinds of policy version.
const (
	// PolicySeed is a version imported from the policy file into an empty store.
	PolicySeed = "seed"
	// PolicyUpdate is a version written by an edit.
	PolicyUpdate = "update"
	// PolicyRollback is a version that restores an earlier one's content.
	PolicyRollback = "rollback"
)

// PolicyVersion is one numbered version of the policy: its YAML text and who wrote it, when,
// why and what it changed. Versions are numbered 1, 2, 3, ... with no gap; the highest is in
// force.
type PolicyVersion struct {
	// Version is the version number, from 1.
	Version int64
	// Time is when it was written (UTC).
	Time time.Time
	// Author and AuthorSubject are the user name and token subject of the policy admin who
	// wrote it; empty for a seed.
	Author, AuthorSubject string
	// Kind is PolicySeed, PolicyUpdate or PolicyRollback.
	Kind string
	// Restored is, for a rollback, the version whose content it restores.
	Restored int64
	// Comment is the author's comment.
	Comment string
	// Changes summarise what changed from the previous version, one line each.
	Changes []string
	// YAML is the policy document.
	YAML string
}

// PolicyVersionFilter pages through the versions, newest first.
type PolicyVersionFilter struct {
	// PageSize is the most versions per page, 1 to 500; 0 means 50.
	PageSize int
	// PageToken is a previous page's NextPageToken.
	PageToken string
}

// PolicyVersionPage is one page of versions, newest first.
type PolicyVersionPage struct {
	Versions      []PolicyVersion
	NextPageToken string
}

// PolicyStore keeps the policy's versions.
type PolicyStore interface {
	// LatestPolicyVersion returns the number of the version in force, 0 when there is none:
	// one small read, cheap enough to make every few seconds on every instance.
	LatestPolicyVersion(ctx context.Context) (int64, error)
	// PolicyVersion returns one version; an error matching ErrNotFound when it does not
	// exist.
	PolicyVersion(ctx context.Context, version int64) (PolicyVersion, error)
	// AddPolicyVersion writes v, whose Version must be the latest plus one (1 in an empty
	// store), atomically across every instance: when another version was written first the
	// error matches ErrStaleVersion and nothing is written.
	AddPolicyVersion(ctx context.Context, v PolicyVersion) error
	// ListPolicyVersions returns versions newest first, a page at a time.
	ListPolicyVersions(ctx context.Context, f PolicyVersionFilter) (PolicyVersionPage, error)
}

// The alert thresholds, in percent of a limit.
const (
	ThresholdNear = 80
	ThresholdFull = 100
)

// AlertMark records that one counter crossed one threshold (80 or 100 percent of its
// limit) in its window, so that the alert is sent once per threshold per window, whatever the
// number of instances that notice it.
type AlertMark struct {
	// Key is the counter's key (CounterKey): subject, unit, window and window start.
	Key string
	// Threshold is ThresholdNear or ThresholdFull.
	Threshold int
	// User is the user whose request crossed it (for a group limit, the member whose request
	// did).
	User string
	// Department is that user's department.
	Department string
	// Limit is the limit crossed.
	Limit Limit
	// Used and Reserved are the counter's figures when the crossing was noticed.
	Used, Reserved int64
	// ResetsAt is when the counter's window ends.
	ResetsAt time.Time
	// Time is when the crossing was noticed.
	Time time.Time
}

// Status returns the mark as the limit's state when it was crossed.
func (m AlertMark) Status() QuotaStatus {
	return QuotaStatus{Limit: m.Limit, Used: m.Used, Reserved: m.Reserved, ResetsAt: m.ResetsAt}
}

// AlertStore records threshold crossings.
type AlertStore interface {
	// MarkAlert records m unless a mark for the same counter key and threshold exists, and
	// reports whether it did: exactly one of any number of concurrent calls for the same
	// (key, threshold) gets true, on every instance. A mark that is not valid
	// ([AlertMark.Validate]) is an ErrInvalid error. After an error the mark may or may not
	// have been recorded.
	MarkAlert(ctx context.Context, m AlertMark) (bool, error)
	// ListAlerts returns a page of the marks of the windows current at f.Now, one per counter
	// key (the highest threshold marked), in the listing order ([CompareAlerts]: highest
	// threshold first, then newest first, then by key). It reads about a page per window
	// kind, however many marks there are. A page token it did not make is an ErrInvalid
	// error.
	ListAlerts(ctx context.Context, f AlertFilter) (AlertPage, error)
}

// CounterReader reads counters without side effects.
type CounterReader interface {
	// Counters returns the state of each limit of user in its window current now, in the
	// order given: its counter's used and reserved figures only (no ledger totals, no
	// release of expired reservations), as cheaply as the backend allows.
	Counters(ctx context.Context, user string, limits []Limit) ([]QuotaStatus, error)
}

// Percent returns how much of its limit s has used (settled usage only), in whole percent
// rounded down, saturating at 100 for a used figure at or past the limit. A limit of 0
// counts as full.
func (s QuotaStatus) Percent() int {
	if s.Limit.Max <= 0 || s.Used >= s.Limit.Max {
		return 100
	}
	// used < max <= MaxInt64: used*100 may overflow, so divide first when it could.
	if s.Used > (1<<63-1)/100 {
		return int(s.Used / (s.Limit.Max / 100))
	}
	return int(s.Used * 100 / s.Limit.Max)
}

// Threshold returns the highest alert threshold s has reached (ThresholdFull or
// ThresholdNear), or 0 for none.
func (s QuotaStatus) Threshold() int {
	switch p := s.Percent(); {
	case p >= ThresholdFull:
		return ThresholdFull
	case p >= ThresholdNear:
		return ThresholdNear
	}
	return 0
}

// AlertProto returns s and the threshold it reached as the API's QuotaAlert.
func (s QuotaStatus) AlertProto(threshold int) *typev1.QuotaAlert {
	return &typev1.QuotaAlert{Status: s.Proto(), ThresholdPercent: int32(min(max(threshold, 0), 100))} //nolint:gosec // G115: clamped
}
