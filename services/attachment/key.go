package attachment

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// ErrInvalid is returned, wrapped, for a key or content type the package refuses: an empty
// owner, a conversation id or name outside [IDPattern], or a content type that is not one
// media type. Nothing is read or written for such a call.
var ErrInvalid = errors.New("attachment: invalid key or content type")

// IDPattern describes the conversation ids and attachment names a Key may hold: 1 to
// [MaxIDLength] characters from A–Z, a–z, 0–9, '-', '_' and '.', the first a letter or digit
// (so no id is ".", ".." or a hidden file, and none holds a slash, a NUL or a space).
const IDPattern = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}"

// MaxIDLength is the longest conversation id or attachment name a Key may hold.
const MaxIDLength = 128

// MaxOwnerLength is the longest owner (in bytes) a Key may hold; owners are never used as
// names, only hashed (see [Key.Segments]).
const MaxOwnerLength = 1024

// MaxContentTypeLength is the longest content type Put accepts.
const MaxContentTypeLength = 255

// Segments returns the three path segments the key is stored under: the owner's encoding
// (see [OwnerSegment]), the conversation id and the name, each safe as one element of a file
// path or an S3 key. An invalid key returns an error matching [ErrInvalid].
func (k Key) Segments() (owner, conversation, name string, err error) {
	owner, conversation, err = ConversationSegments(k.Owner, k.Conversation)
	if err != nil {
		return "", "", "", err
	}
	if err := checkID("name", k.Name); err != nil {
		return "", "", "", err
	}
	return owner, conversation, k.Name, nil
}

// ConversationSegments returns the first two segments of every key of the owner's
// conversation (see [Key.Segments]), or an error matching [ErrInvalid].
func ConversationSegments(owner, conversation string) (string, string, error) {
	o, err := OwnerSegment(owner)
	if err != nil {
		return "", "", err
	}
	if err := checkID("conversation", conversation); err != nil {
		return "", "", err
	}
	return o, conversation, nil
}

// OwnerSegment encodes an owner as a path segment: the unpadded base64url form of the
// SHA-256 of the owner (43 characters of A–Z, a–z, 0–9, '-' and '_'). A subject can hold any
// character, so it is never used as a name itself; nor does a stored key reveal it. An empty
// or over-long owner returns an error matching [ErrInvalid].
func OwnerSegment(owner string) (string, error) {
	switch {
	case owner == "":
		return "", fmt.Errorf("%w: empty owner", ErrInvalid)
	case len(owner) > MaxOwnerLength:
		return "", fmt.Errorf("%w: owner longer than %d bytes", ErrInvalid, MaxOwnerLength)
	}
	sum := sha256.Sum256([]byte(owner))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// CheckContentType reports whether contentType is one media type Put accepts ("image/png",
// "text/plain; charset=utf-8"), returning an error matching [ErrInvalid] if not.
func CheckContentType(contentType string) error {
	if contentType == "" || len(contentType) > MaxContentTypeLength {
		return fmt.Errorf("%w: content type empty or longer than %d bytes", ErrInvalid, MaxContentTypeLength)
	}
	for i := range len(contentType) {
		if c := contentType[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: content type holds a control or non-ASCII byte", ErrInvalid)
		}
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%w: content type: %v", ErrInvalid, err)
	}
	if typ, sub, ok := strings.Cut(mt, "/"); !ok || typ == "" || sub == "" || strings.Contains(sub, "/") {
		return fmt.Errorf("%w: content type is not type/subtype", ErrInvalid)
	}
	return nil
}

// checkID reports whether id matches IDPattern; what names the part in the error, which
// never repeats the value.
func checkID(what, id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrInvalid, what, MaxIDLength)
	}
	for i := range len(id) {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_' && c != '.') {
			return fmt.Errorf("%w: %s must match %s", ErrInvalid, what, IDPattern)
		}
	}
	return nil
}
