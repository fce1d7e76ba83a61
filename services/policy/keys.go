package policy

import (
	"time"

	"github.com/portico-dev/portico/services/principal"
)

// Defaults of the personal API key settings (package apikey).
const (
	// DefaultKeyMaxIdleDays is keyMaxIdleDays when the file omits it: a person's keys stop
	// working once they have not signed in for 30 days.
	DefaultKeyMaxIdleDays = 30
	// DefaultKeyMaxExpiryDays is keyMaxExpiryDays when the file omits it.
	DefaultKeyMaxExpiryDays = 90
	// maxKeyDays bounds both settings (ten years).
	maxKeyDays = 3650
)

// keySettings are the policy's personal API key settings.
type keySettings struct {
	maxIdleDays, maxExpiryDays int
}

// KeyMaxIdle returns how long a person may go without signing in before their API keys stop
// working (keyMaxIdleDays).
func (p *Policy) KeyMaxIdle() time.Duration {
	return time.Duration(p.keys.maxIdleDays) * 24 * time.Hour
}

// KeyMaxIdleDays returns keyMaxIdleDays.
func (p *Policy) KeyMaxIdleDays() int { return p.keys.maxIdleDays }

// KeyMaxExpiryDays returns the longest an API key may last, in days (keyMaxExpiryDays).
func (p *Policy) KeyMaxExpiryDays() int { return p.keys.maxExpiryDays }

// KeysAllowed reports whether pr may create and use personal API keys: a person in at least
// one policy group, none of whose groups says `apiKeys: false` (any group that disables keys
// wins). Machine clients never hold personal keys.
func (p *Policy) KeysAllowed(pr *principal.Principal) bool {
	if pr == nil || pr.Kind != principal.KindPerson {
		return false
	}
	known := false
	for _, g := range p.groupOrder {
		if pr.InGroup(g.name) {
			if g.noAPIKeys {
				return false
			}
			known = true
		}
	}
	return known
}

// keySettings validates keyMaxIdleDays and keyMaxExpiryDays, applying their defaults.
func (v *validator) keySettings(doc *document) keySettings {
	days := func(path string, n *int, def int) int {
		switch {
		case n == nil:
			return def
		case *n < 1 || *n > maxKeyDays:
			v.addf(path, "must be from 1 to %d days, got %d", maxKeyDays, *n)
			return def
		}
		return *n
	}
	return keySettings{
		maxIdleDays:   days("$.keyMaxIdleDays", doc.KeyMaxIdleDays, DefaultKeyMaxIdleDays),
		maxExpiryDays: days("$.keyMaxExpiryDays", doc.KeyMaxExpiryDays, DefaultKeyMaxExpiryDays),
	}
}
