package cookie

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// maxKeyIDLen bounds key ids, which travel in every cookie.
const maxKeyIDLen = 16

// Errors returned by Open and by Jar.Read. They are deliberately coarse: a caller treats
// every one of them as "no valid cookie".
var (
	// ErrInvalid reports a value that is malformed, forged, truncated or sealed for
	// another cookie name.
	ErrInvalid = errors.New("cookie: invalid sealed value")
	// ErrUnknownKey reports a value sealed with a key id the ring no longer holds.
	ErrUnknownKey = errors.New("cookie: unknown key id")
)

// Key is one AES-256 key with the id that names it inside sealed values.
type Key struct {
	// ID is 1–16 characters from [A-Za-z0-9_-].
	ID string
	// Secret is KeySize random bytes.
	Secret []byte
}

// Codec seals and opens cookie values. It is safe for concurrent use.
type Codec struct {
	sealID string
	seal   cipher.AEAD
	open   map[string]cipher.AEAD
}

// NewCodec returns a Codec that seals with keys[0] and opens with any of keys.
func NewCodec(keys ...Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("cookie: at least one key is required")
	}
	c := &Codec{open: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("cookie: key %d: the id must be 1-%d characters from [A-Za-z0-9_-]", i, maxKeyIDLen) // never echoed: it may be a misplaced secret
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("cookie: key %q: %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.open[k.ID]; dup {
			return nil, fmt.Errorf("cookie: key id %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("cookie: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("cookie: key %q: %w", k.ID, err)
		}
		c.open[k.ID] = aead
		if i == 0 {
			c.sealID, c.seal = k.ID, aead
		}
	}
	return c, nil
}

// GenerateKey returns a new random key named id.
func GenerateKey(id string) (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("cookie: generate key: %w", err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// ParseKeys parses "kid:base64key,kid:base64key,…" (standard or URL-safe base64, padded or
// not); the first key seals.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n++
		// Errors name the key by position, and by id only once the id is known to be one:
		// the value is secret material and must never reach a log or an init error.
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("cookie: key %d: want kid:base64key", n)
		}
		if !validKeyID(id) {
			return nil, fmt.Errorf("cookie: key %d: the id must be 1-%d characters from [A-Za-z0-9_-]", n, maxKeyIDLen)
		}
		secret, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("cookie: key %d (%s): %w", n, id, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("cookie: no keys")
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("%d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// SealingKeyID returns the id of the key that seals.
func (c *Codec) SealingKeyID() string { return c.sealID }

// Seal encrypts plaintext for the cookie called name. The result is "<kid>.<base64url>",
// safe as a cookie value.
func (c *Codec) Seal(name string, plaintext []byte) (string, error) {
	nonceSize := c.seal.NonceSize()
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+c.seal.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("cookie: nonce: %w", err)
	}
	sealed := c.seal.Seal(buf, buf[:nonceSize], plaintext, additionalData(name, c.sealID))
	out := make([]byte, 0, len(c.sealID)+1+base64.RawURLEncoding.EncodedLen(len(sealed)))
	out = append(out, c.sealID...)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, sealed)
	return string(out), nil
}

// Open decrypts a value Seal made for the cookie called name.
func (c *Codec) Open(name, value string) ([]byte, error) {
	id, b64, ok := strings.Cut(value, ".")
	if !ok || !validKeyID(id) {
		return nil, ErrInvalid
	}
	aead, ok := c.open[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	sealed, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrInvalid
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(ciphertext[:0:0], nonce, ciphertext, additionalData(name, id))
	if err != nil {
		return nil, ErrInvalid
	}
	return plaintext, nil
}

// additionalData binds a sealed value to its format version, cookie name and key id.
func additionalData(name, kid string) []byte {
	ad := make([]byte, 0, 16+len(name)+len(kid))
	ad = append(ad, "portico-cookie/1\x00"...)
	ad = append(ad, name...)
	ad = append(ad, 0)
	ad = append(ad, kid...)
	return ad
}
