package conversation

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// ListKey is the position of a conversation in the list order: pinned first, then Updated,
// newest first, then ID descending.
type ListKey struct {
	Pinned  bool      `json:"p"`
	Updated time.Time `json:"u"`
	ID      string    `json:"i"`
}

// EncodeListToken returns the page token that continues a list after c.
func EncodeListToken(c Summary) string {
	b, _ := json.Marshal(ListKey{Pinned: c.Pinned, Updated: c.Updated, ID: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeListToken reads a page token EncodeListToken made; any other is ErrBadPageToken.
func DecodeListToken(token string) (ListKey, error) {
	var k ListKey
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, &k) != nil || !ValidID(k.ID) {
		return ListKey{}, ErrBadPageToken
	}
	return k, nil
}

// Before reports whether c comes before k in the list order.
func (k ListKey) Before(c Summary) bool {
	if c.Pinned != k.Pinned {
		return c.Pinned
	}
	if !c.Updated.Equal(k.Updated) {
		return c.Updated.After(k.Updated)
	}
	return c.ID > k.ID
}
