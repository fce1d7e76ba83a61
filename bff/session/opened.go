package session

import (
	"slices"
	"sync"
)

// DefaultOpenedCacheSize bounds the cookie sessions a Manager keeps opened (about 8 KB
// each: the sealed text and the session).
const DefaultOpenedCacheSize = 1024

// openedCache keeps recently opened cookie sessions by their sealed text, so that a
// browser's every call does not base64-decode, decrypt and JSON-decode the same cookie
// again: measured with callgrind, that was a quarter of the BFF's instructions per proxied
// call. Only sessions sealed into the cookie are kept (a server-side store is read every
// time, so a session deleted there ends at once). An entry holds exactly what opening its
// sealed text gave; the sealed text is authenticated, so no other text maps to it, and the
// expiry checks run on every load as before. A copied cookie stays valid after logout in
// cookie mode with or without this cache (see README: only a server-side store revokes).
type openedCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*Session
}

func newOpenedCache(size int) *openedCache {
	return &openedCache{max: size, m: make(map[string]*Session)}
}

// get returns a copy of the session opened from sealed, which the caller may change.
func (c *openedCache) get(sealed string) (*Session, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	s, ok := c.m[sealed]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return s.clone(), true
}

// put remembers s as what sealed opens to, keeping a copy; when full it forgets an
// arbitrary entry first.
func (c *openedCache) put(sealed string, s *Session) {
	if c.max <= 0 {
		return
	}
	kept := s.clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[sealed]; !ok && len(c.m) >= c.max {
		for k := range c.m { // map order is unspecified: an arbitrary victim
			delete(c.m, k)
			break
		}
	}
	c.m[sealed] = kept
}

// forget drops the entry of sealed.
func (c *openedCache) forget(sealed string) {
	c.mu.Lock()
	delete(c.m, sealed)
	c.mu.Unlock()
}

// clone returns a copy of s that shares nothing mutable with it.
func (s *Session) clone() *Session {
	cp := *s
	cp.User.Groups = slices.Clone(s.User.Groups)
	return &cp
}
