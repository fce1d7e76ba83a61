package token

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxTokenSize is the largest token Parse accepts, in bytes. Cognito access tokens are about
// 1.1 KB; the bound keeps hostile input from costing more than a few decodes.
const MaxTokenSize = 8 << 10

// Header is the protected header of a compact JWS.
type Header struct {
	// Alg is the signature algorithm; only RS256 is ever accepted.
	Alg string `json:"alg"`
	// Kid names the key in the issuer's JWKS.
	Kid string `json:"kid"`
	// Typ is the media type of the token, when set.
	Typ string `json:"typ"`
	// Crit lists extensions the verifier must understand; any value is refused.
	Crit []string `json:"crit"`
}

// JWT is a compact JWS split into its parts. Its payload is not verified yet.
type JWT struct {
	// Header is the decoded protected header.
	Header Header
	// SigningInput is the first two parts, joined by a dot, as they were signed.
	SigningInput string
	// Payload is the decoded claims set (JSON).
	Payload []byte
	// Signature is the decoded signature.
	Signature []byte
}

// b64 decodes the parts of a compact JWS: base64url without padding, and strict, so that
// each token has exactly one spelling (unused low bits of the last character must be zero).
var b64 = base64.RawURLEncoding.Strict()

// Parse splits a compact JWS and decodes its header, payload and signature. It checks form
// only: it neither verifies the signature nor looks at the claims.
func Parse(raw string) (*JWT, error) {
	if raw == "" {
		return nil, ErrMissing
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(raw), MaxTokenSize)
	}
	for i := range len(raw) {
		if c := raw[i]; !isB64URL(c) && c != '.' {
			// The decoder would skip CR and LF: refuse them, and anything else, here.
			return nil, fmt.Errorf("%w: byte %d is not base64url", ErrMalformed, i)
		}
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS (three parts)", ErrMalformed)
	}
	h, rest, _ := strings.Cut(raw, ".")
	p, s, _ := strings.Cut(rest, ".")
	var t JWT
	hb, err := b64.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var header struct {
		Header
		Crit json.RawMessage `json:"crit"` // shadows Header.Crit, to tell absent from empty
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	t.Header = header.Header
	if header.Crit != nil {
		// RFC 7515 section 4.1.11: when present, crit is a non-empty array of names.
		if err := json.Unmarshal(header.Crit, &t.Header.Crit); err != nil || len(t.Header.Crit) == 0 {
			return nil, fmt.Errorf("%w: header: crit %s is not a non-empty array of names", ErrMalformed, header.Crit)
		}
	}
	if t.Payload, err = b64.DecodeString(p); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if t.Signature, err = b64.DecodeString(s); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	t.SigningInput = raw[:len(h)+1+len(p)]
	return &t, nil
}

func isB64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
