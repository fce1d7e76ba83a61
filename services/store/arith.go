package store

import "math"

// AddSat returns a + b for non-negative a and b, saturating at math.MaxInt64 instead of
// wrapping around to a negative number. Negative arguments count as zero: every count and
// amount the store keeps is non-negative.
func AddSat(a, b int64) int64 {
	a, b = max(0, a), max(0, b)
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// CheckCounter returns an error matching ErrCorrupt (and ErrUnavailable) when a counter read
// from a backend holds a negative used or reserved figure, which no sequence of Reserve and
// Settle can produce: the store cannot be trusted with that counter until it is repaired, and
// reading it as zero would lift the limit.
func CheckCounter(key string, used, reserved int64) error {
	if used < 0 || reserved < 0 {
		return Corrupt("counter %s holds a negative figure (used %d, reserved %d)", key, used, reserved)
	}
	return nil
}
