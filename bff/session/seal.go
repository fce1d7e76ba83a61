package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Sealer encrypts and authenticates stored sessions; *cookie.Codec implements it with the
// BFF's AES-256-GCM cookie keys. name is bound into the associated data.
type Sealer interface {
	Seal(name string, plaintext []byte) (string, error)
	Open(name, value string) ([]byte, error)
}

// StoreKey returns the key a server-side Store files the session with ticket under: a hash
// of the ticket, so that a reader of the store's table or file cannot present a stored key
// as a cookie. Tickets are 128-bit random, so a plain SHA-256 suffices.
func StoreKey(ticket string) string {
	sum := sha256.Sum256([]byte("portico-session-ticket/1\x00" + ticket))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SealStored encodes s and seals it under key (a StoreKey), so that the tokens in a stored
// session are encrypted at rest and a sealed session moved to another key does not open.
func SealStored(c Sealer, key string, s *Session) (string, error) {
	// The tokens are in the payload on purpose: it is sealed before it leaves the process.
	plain, err := json.Marshal(s) //nolint:gosec // sealed below
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	sealed, err := c.Seal(storedName(key), plain)
	if err != nil {
		return "", fmt.Errorf("seal session: %w", err)
	}
	return sealed, nil
}

// OpenStored opens a session SealStored sealed under key. A value that does not open or
// decode (sealed with a key no longer configured, moved from another key, altered) is a
// definitive answer, not a failure of the store: the error wraps ErrNotFound, so the
// session ends rather than being retried forever.
func OpenStored(c Sealer, key, sealed string) (*Session, error) {
	plain, err := c.Open(storedName(key), sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: open stored session: %w", ErrNotFound, err)
	}
	s := new(Session)
	if err := json.Unmarshal(plain, s); err != nil {
		return nil, fmt.Errorf("%w: decode stored session: %w", ErrNotFound, err)
	}
	if s.ID == "" {
		return nil, fmt.Errorf("%w: decode stored session: no id", ErrNotFound)
	}
	return s, nil
}

func storedName(key string) string { return "portico-session-item\x00" + key }
