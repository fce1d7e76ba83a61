package unixnano_test

import (
	"testing"
	"time"

	"github.com/portico-dev/portico/services/apikey/internal/unixnano"
)

// TestRoundTrip: the zero time is 0 and back; any other time comes back equal, in UTC.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   time.Time
		ns   int64
		back time.Time
	}{
		{"never", time.Time{}, 0, time.Time{}},
		{"a time in UTC", time.Date(2026, 12, 6, 10, 0, 0, 123, time.UTC), 1796551200000000123, time.Date(2026, 12, 6, 10, 0, 0, 123, time.UTC)},
		{"a time elsewhere comes back in UTC", time.Date(2026, 12, 6, 11, 0, 0, 0, paris), 1796551200000000000, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), -1_000_000_000, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := unixnano.Of(tt.in); got != tt.ns {
				t.Errorf("Of(%v) = %d, want %d", tt.in, got, tt.ns)
			}
			back := unixnano.Time(tt.ns)
			if back != tt.back { // == compares the location too: UTC, or none for the zero time
				t.Errorf("Time(%d) = %v, want %v", tt.ns, back, tt.back)
			}
		})
	}
}
