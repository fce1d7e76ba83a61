// Package attachment keeps the bytes people attach to their conversations (images, and
// documents later) outside the conversation store: in Amazon S3 in AWS and in a local folder
// under .data/ in development. Conversation records hold only an attachment's Key.
//
// An attachment belongs to one owner and one conversation; deleting the conversation deletes
// every attachment under it with [Store.DeleteConversation]. Keys are made by the package from
// validated parts, so no caller-supplied string ever becomes a path or an S3 key unchecked.
package attachment

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get when there is no attachment under the key.
var ErrNotFound = errors.New("attachment: not found")

// ErrUnavailable wraps every error of the backing store (an outage, a denied call).
var ErrUnavailable = errors.New("attachment: store unavailable")

// Key names one attachment.
type Key struct {
	// Owner is the subject of the person who owns the conversation.
	Owner string
	// Conversation is the conversation's id.
	Conversation string
	// Name is the attachment's id within the conversation, made by the conversation store.
	Name string
}

// Object is a stored attachment.
type Object struct {
	// ContentType is the MIME type given to Put.
	ContentType string
	// Data is the attachment's bytes.
	Data []byte
}

// Store keeps attachments. Implementations are safe for concurrent use. Every method refuses
// a key that [Key.Segments] refuses, and Put a content type that [CheckContentType] refuses,
// with an error matching ErrInvalid, before touching the backing store.
type Store interface {
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key Key, contentType string, data []byte) error
	// Get returns the attachment under key, or an error matching ErrNotFound.
	Get(ctx context.Context, key Key) (Object, error)
	// DeleteConversation deletes every attachment of the owner's conversation; deleting
	// none is not an error.
	DeleteConversation(ctx context.Context, owner, conversation string) error
}
