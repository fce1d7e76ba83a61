package token

// CacheLen returns how many results v's cache holds.
func CacheLen(v *Verifier) int { return v.cache.len() }
