package token

import (
	"crypto/rsa"
	"hash/maphash"
	"sync"
	"time"

	"github.com/portico-dev/portico/services/principal"
)

// DefaultCacheSize is how many verified tokens a Verifier remembers by default.
const DefaultCacheSize = 10_000

// cacheKey is a 128-bit hash of a token under two secret per-process seeds. Tokens are not
// kept in memory, and an attacker who cannot learn the seeds cannot aim for a collision.
type cacheKey struct{ a, b uint64 }

// cacheEntry is a verified token's principal, until when it holds, and the key that verified
// it: an entry counts only while the key set still holds that very key.
type cacheEntry struct {
	p   *principal.Principal
	exp time.Time
	kid string
	pub *rsa.PublicKey
}

// resultCache remembers verified principals until their tokens expire. It holds at most max
// entries: when full it drops expired entries and,
// if that is not enough, an arbitrary eighth of the rest.
type resultCache struct {
	seedA, seedB maphash.Seed
	max          int

	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
}

func newResultCache(max int) *resultCache {
	return &resultCache{
		seedA:   maphash.MakeSeed(),
		seedB:   maphash.MakeSeed(),
		max:     max,
		entries: make(map[cacheKey]cacheEntry),
	}
}

func (c *resultCache) key(raw string) cacheKey {
	return cacheKey{maphash.String(c.seedA, raw), maphash.String(c.seedB, raw)}
}

func (c *resultCache) get(k cacheKey, now time.Time) (cacheEntry, bool) {
	if c.max <= 0 {
		return cacheEntry{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *resultCache) put(k cacheKey, e cacheEntry, now time.Time) {
	if c.max <= 0 || !now.Before(e.exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if !now.Before(e.exp) {
				delete(c.entries, key)
			}
		}
		// Still full: drop an arbitrary eighth, so the next inserts need no sweep.
		for key := range c.entries {
			if len(c.entries) <= c.max-c.max/8-1 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = e
}

func (c *resultCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
