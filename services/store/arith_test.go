package store_test

import (
	"errors"
	"math"
	"testing"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

func TestAddSat(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b, want int64 }{
		{1, 2, 3},
		{math.MaxInt64, 1, math.MaxInt64},
		{math.MaxInt64 - 1, math.MaxInt64 - 1, math.MaxInt64},
		{math.MaxInt64 / 2, math.MaxInt64/2 + 1, math.MaxInt64},
		{-5, 7, 7},
		{math.MinInt64, math.MinInt64, 0},
	}
	for _, tt := range tests {
		if got := store.AddSat(tt.a, tt.b); got != tt.want {
			t.Errorf("AddSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestArithmeticSaturates checks every sum the ledger and the quota figures make.
func TestArithmeticSaturates(t *testing.T) {
	t.Parallel()
	rec := store.Record{InputTokens: math.MaxInt64 - 1, OutputTokens: math.MaxInt64 - 1}
	if got := rec.Tokens(); got != math.MaxInt64 {
		t.Errorf("Tokens = %d", got)
	}
	var tot store.Totals
	for range 3 {
		tot.Add(store.Totals{Requests: math.MaxInt64 / 2, InputTokens: math.MaxInt64 / 2, OutputTokens: math.MaxInt64 / 2, CostNanos: math.MaxInt64 / 2})
	}
	if tot.InputTokens != math.MaxInt64 || tot.OutputTokens != math.MaxInt64 || tot.CostNanos != math.MaxInt64 || tot.Requests != math.MaxInt64 {
		t.Errorf("Totals.Add = %+v", tot)
	}
	if p := tot.Proto(); p.GetTotalTokens() != math.MaxInt64 {
		t.Errorf("total tokens = %d", p.GetTotalTokens())
	}
	tests := []struct {
		used, reserved, limit, want int64
	}{
		{math.MaxInt64, 10, 1000, 0},
		{10, math.MaxInt64, 1000, 0},
		{100, 200, 1000, 700},
		{1000, 0, 1000, 0},
	}
	for _, tt := range tests {
		q := store.QuotaStatus{Limit: store.Limit{Max: tt.limit}, Used: tt.used, Reserved: tt.reserved}
		if got := q.Remaining(); got != tt.want {
			t.Errorf("Remaining(used %d, reserved %d, limit %d) = %d, want %d", tt.used, tt.reserved, tt.limit, got, tt.want)
		}
	}
}

// TestSettlementRefusesNegativeDelta checks the guard every Settle runs before writing: what
// settling adds to a counter is never negative.
func TestSettlementRefusesNegativeDelta(t *testing.T) {
	t.Parallel()
	tokens := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 100}
	requests := tokens
	requests.Unit = typev1.QuotaUnit_QUOTA_UNIT_REQUESTS
	tests := []struct {
		name    string
		hold    store.Hold
		rec     store.Record
		want    int64
		wantErr bool
	}{
		{"tokens", store.Hold{Limit: tokens, Amount: 50}, store.Record{InputTokens: 3, OutputTokens: 4}, 7, false},
		{"saturated tokens", store.Hold{Limit: tokens, Amount: 50}, store.Record{InputTokens: math.MaxInt64, OutputTokens: 4}, math.MaxInt64, false},
		{"negative input", store.Hold{Limit: tokens, Amount: 50}, store.Record{InputTokens: -10, OutputTokens: 4}, 0, true},
		{"negative output", store.Hold{Limit: tokens, Amount: 50}, store.Record{InputTokens: 10, OutputTokens: math.MinInt64}, 0, true},
		{"negative hold", store.Hold{Limit: tokens, Amount: -1}, store.Record{InputTokens: 1}, 0, true},
		{"requests count one", store.Hold{Limit: requests, Amount: 1}, store.Record{InputTokens: 5}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.hold.Settlement(tt.rec)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, store.ErrInvalid)) || got != tt.want {
				t.Errorf("Settlement = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestRefusalOfNegativeCounter checks that a negative counter is an error, never zero.
func TestRefusalOfNegativeCounter(t *testing.T) {
	t.Parallel()
	h := store.Hold{Key: "k", Limit: store.Limit{Max: 100}, Amount: 10}
	for _, c := range [][2]int64{{-1, 0}, {0, -1}, {math.MinInt64, 0}} {
		qe, err := h.Refusal(c[0], c[1])
		if qe != nil || !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Refusal(%d, %d) = %v, %v; want ErrCorrupt", c[0], c[1], qe, err)
		}
	}
	if qe, err := h.Refusal(95, 0); err != nil || qe == nil {
		t.Errorf("Refusal(95, 0) = %v, %v; want a QuotaError", qe, err)
	}
}
