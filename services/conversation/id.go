package conversation

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"time"
)

// IDLength is the length of every conversation and message id.
const IDLength = 26

// idEncoding is lower-case base32hex without padding: its order is the order of the bytes,
// so ids sort by the time they start with.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID returns a new id: 48 bits of the time in milliseconds, then 80 random bits, in
// IDLength characters of 0-9 and a-v. Ids made later sort after (to the millisecond).
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16) //nolint:gosec // G115: times after 1970
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("conversation: crypto/rand: %v", err)) // never fails on supported platforms
	}
	return idEncoding.EncodeToString(b[:])
}

// ValidID reports whether id has the form of an id NewID makes. Ids of any other form are
// refused before the store is asked.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'v') {
			return false
		}
	}
	return true
}

// AttachmentName is the name, within its conversation, of the attachment holding the bytes
// of the block-th content block of message id.
func AttachmentName(messageID string, block int) string {
	return fmt.Sprintf("%s-%d", messageID, block)
}
