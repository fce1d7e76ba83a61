package token

// CacheLen returns how many results v's cache holds.
func CacheLen(v *Verifier) int { return v.cache.len() }

// KeySetLifetime is keySetLifetime, for its table test.
var KeySetLifetime = keySetLifetime

// WaitForFetch returns once no fetch of k is under way (a refresh started in the background
// by Key has finished).
func WaitForFetch(k *KeySet) {
	<-k.fetches.DoChan(fetchKey, func() (any, error) { return nil, nil })
}
