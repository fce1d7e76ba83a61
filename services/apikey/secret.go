package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// Prefix starts every secret; secret scanners recognise keys by it.
const Prefix = "portico_sk_"

const (
	// secretBytes is the secret's randomness: 256 bits.
	secretBytes = 32
	// bodyLen is the base64url length of the random bytes and their CRC-32C.
	bodyLen = (secretBytes + 4) * 4 / 3
	// SecretLen is the length of a secret.
	SecretLen = len(Prefix) + bodyLen
	// prefixChars is how many characters of the body a key's displayed prefix keeps.
	prefixChars = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrMalformed is returned for a string that is not a well-formed secret (wrong length,
// alphabet or checksum): it cannot be a key, and no store is read for it.
var ErrMalformed = errors.New("apikey: malformed key")

// NewSecret returns a new secret drawn from random (crypto/rand.Reader when nil).
func NewSecret(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, secretBytes, secretBytes+4)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("apikey: random: %w", err)
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IsKey reports whether raw is meant as a personal API key (starts with Prefix), well formed
// or not; a bearer token that is not is a JWT.
func IsKey(raw string) bool { return strings.HasPrefix(raw, Prefix) }

// Check returns nil when secret is well formed: Prefix, then 48 base64url characters whose
// last four bytes are the CRC-32C of the first 32. Otherwise ErrMalformed.
func Check(secret string) error {
	if len(secret) != SecretLen || !IsKey(secret) {
		return ErrMalformed
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(secret[len(Prefix):])
	if err != nil || len(b) != secretBytes+4 {
		return ErrMalformed
	}
	if binary.BigEndian.Uint32(b[secretBytes:]) != crc32.Checksum(b[:secretBytes], castagnoli) {
		return ErrMalformed
	}
	return nil
}

// Hash returns the SHA-256 of secret in lower-case hex, the only form a store keeps.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix returns the part of secret shown in lists and recorded in audit records:
// Prefix and the first six characters of the body (36 of its 256 bits).
func DisplayPrefix(secret string) string {
	n := min(len(secret), len(Prefix)+prefixChars)
	return secret[:n]
}
