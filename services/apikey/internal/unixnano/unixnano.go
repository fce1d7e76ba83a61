// Package unixnano converts the times the API key stores keep (a key's creation, expiry,
// last use and revocation, an owner's last sign-in) to and from the Unix nanoseconds their
// tables hold, with 0 standing for "never" (the zero time.Time): sqlitekeys and dynamokeys
// store them the same way.
package unixnano

import "time"

// Of returns t as Unix nanoseconds, 0 for the zero time.
func Of(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time returns the UTC time n Unix nanoseconds stand for, the zero time for 0.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
