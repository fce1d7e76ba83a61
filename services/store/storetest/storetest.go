// Package storetest is the contract every store.Store implementation must hold. An
// implementation's tests call [Run] with a factory that opens a fresh, empty store.
package storetest

import (
	"sync"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

// Factory opens a fresh, empty store with opts (whose clock the suite controls) and closes
// it when t ends (t.Cleanup). Closing it again must be harmless.
type Factory func(t *testing.T, opts store.Options) store.Store

// Clock is a settable clock for store.Options.Now, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Run runs the contract suite against stores made by open.
func Run(t *testing.T, open Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"ReserveSettleArithmetic", testArithmetic},
		{"AllOrNothing", testAllOrNothing},
		{"HugeReservationNeverWraps", testHugeReservation},
		{"RequestsPerMinute", testRequestsPerMinute},
		{"WindowRollover", testWindowRollover},
		{"SettleOnErrorAndCancel", testSettleOnErrorAndCancel},
		{"IdempotentSettle", testIdempotentSettle},
		{"DuplicateRequestID", testDuplicateRequestID},
		{"ExpiredReservationRelease", testExpiredRelease},
		{"MergedLimits", testMergedLimits},
		{"ListUsage", testListUsage},
		{"ListAuditPagination", testListAudit},
		{"ConcurrentNeverOverspends", testConcurrency},
		{"ConcurrentSharedGroup", testConcurrentGroup},
		{"BurstMixedOutcomes", testBurstMixedOutcomes},
		{"SummariesMatchLedger", testSummariesMatchLedger},
		{"Unavailable", testUnavailable},
		{"InvalidArguments", testInvalid},
		{"HugeUsageSaturates", testHugeUsage},
		{"SumsNeverOverflow", testSumsNeverOverflow},
		{"UsageSourceRecorded", testUsageSource},
		{"APIKeyRecorded", testAPIKeyRecorded},
	}
	tests = append(tests, governanceCases...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// CounterWriter overwrites, directly in st's backend, the used and reserved figures of the
// counter with the given key (creating it, its window ending at resetsAt), as a bug or a
// corrupted backup would; the suite never writes a counter any other way.
type CounterWriter func(t *testing.T, st store.Store, key string, used, reserved int64, resetsAt time.Time)

// RunCorrupt runs the cases that need a backend's raw counters: a counter read back negative
// is an error (store.ErrCorrupt), never zero, for Reserve and Usage alike.
func RunCorrupt(t *testing.T, open Factory, write CounterWriter) {
	t.Helper()
	t.Run("NegativeCounterIsAnError", func(t *testing.T) {
		t.Parallel()
		testNegativeCounter(t, open, write)
	})
}

// UserTokens returns a user tokens limit.
func UserTokens(w typev1.QuotaWindow, max int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: w, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: max}
}

// GroupTokens returns a group tokens limit.
func GroupTokens(group string, w typev1.QuotaWindow, max int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: group, Window: w, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: max}
}

// UserRequests returns a user requests limit.
func UserRequests(w typev1.QuotaWindow, max int64) store.Limit {
	return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: w, Unit: typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, Max: max}
}

const (
	minute = typev1.QuotaWindow_QUOTA_WINDOW_MINUTE
	day    = typev1.QuotaWindow_QUOTA_WINDOW_DAY
	month  = typev1.QuotaWindow_QUOTA_WINDOW_MONTH
)
