package conversation

import (
	"encoding/base64"
	"strings"
)

// OwnerCount is what one owner keeps, in numbers: never a title, an id or content.
type OwnerCount struct {
	// Owner is the owner (the token subject).
	Owner string
	// Name is the user name the owner last created a conversation with (Turn.OwnerName);
	// empty when the store has none.
	Name string
	// Conversations is the number of conversations; Messages the number of messages in them.
	Conversations, Messages int64
	// Bytes is what the conversations hold, attachments included.
	Bytes int64
}

// MaxCountPageSize is the most owners one CountOwners page holds.
const MaxCountPageSize = 500

// EncodeCountToken returns a CountOwners page token for a store's position (parts joined;
// none may hold a NUL).
func EncodeCountToken(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
}

// DecodeCountToken reads a token EncodeCountToken made of n non-empty parts; any other is
// ErrBadPageToken.
func DecodeCountToken(token string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrBadPageToken
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n {
		return nil, ErrBadPageToken
	}
	for _, p := range parts {
		if p == "" {
			return nil, ErrBadPageToken
		}
	}
	return parts, nil
}
