package conversation

import (
	"context"
	"errors"
	"fmt"
	"time"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
)

// ErrNotFound is returned when the owner has no conversation (or message) with the id: one
// that does not exist and one that belongs to someone else are the same to the caller.
var ErrNotFound = errors.New("conversation: not found")

// ErrBadPageToken is returned by List for a page token it did not make.
var ErrBadPageToken = errors.New("conversation: page_token is not one this service made")

// ErrUnavailable wraps every error of the backing store (an outage, a closed store).
var ErrUnavailable = errors.New("conversation: store unavailable")

// Unavailable wraps err as an ErrUnavailable of op.
func Unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// LimitError is a storage limit a write would break; the service answers
// RESOURCE_EXHAUSTED with its message.
type LimitError struct {
	// Message says which limit, in words meant for the person.
	Message string
}

// Error returns the message.
func (e *LimitError) Error() string { return e.Message }

// Limits bound what one person keeps. A zero field means no limit.
type Limits struct {
	// ConversationsPerUser is the most conversations one owner keeps.
	ConversationsPerUser int
	// MessagesPerConversation is the most messages one conversation holds.
	MessagesPerConversation int
	// MaxBytes is the most bytes one conversation holds, attachments included.
	MaxBytes int64
}

// Default limits (PORTICO_CONVERSATIONS_PER_USER, PORTICO_MESSAGES_PER_CONVERSATION,
// PORTICO_CONVERSATION_MAX_BYTES).
const (
	DefaultConversationsPerUser    = 5000
	DefaultMessagesPerConversation = 1000
	DefaultMaxBytes                = 20 << 20
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		ConversationsPerUser:    DefaultConversationsPerUser,
		MessagesPerConversation: DefaultMessagesPerConversation,
		MaxBytes:                DefaultMaxBytes,
	}
}

// MaxMessageBytes is the largest stored message (its encoded form, images excluded: they go
// to the attachment store). It keeps every message within one DynamoDB item (400 KB) with
// room for its search text.
const MaxMessageBytes = 256 << 10

// Summary is a conversation without its messages.
type Summary struct {
	// ID is the conversation's id (NewID).
	ID string
	// Title is the title.
	Title string
	// Pinned says the owner pinned it.
	Pinned bool
	// Created is when it was created; Updated when its latest message was written or it was
	// last renamed or pinned.
	Created, Updated time.Time
	// ModelID is the model of the latest answer.
	ModelID string
	// MessageCount is the number of messages.
	MessageCount int
	// Bytes is what the conversation holds, attachments included.
	Bytes int64
	// Expires is when retention deletes it; zero when never.
	Expires time.Time
}

// Message is one stored message. Messages of a conversation form one chain: each follows the
// one before it (a reply from an earlier message deletes those after it).
type Message struct {
	// Body is the message. Its image blocks hold the format and no data: their bytes are in
	// the attachment store under AttachmentName(Body.Id, i) for the i-th block.
	Body *conversationv1.ConversationMessage
	// Bytes is what the message counts against Limits.MaxBytes: its encoded body and its
	// attachments.
	Bytes int64
}

// ID returns the message's id.
func (m Message) ID() string { return m.Body.GetId() }

// Turn is a user message to store, in a new conversation or after a message of an existing one.
type Turn struct {
	// Owner is the person whose conversation it is.
	Owner string
	// OwnerName is the owner's user name, kept when a conversation is created (the last one
	// given wins) for the administrators' counts; empty keeps the name the store has.
	OwnerName string
	// ConversationID names an existing conversation; empty creates one with NewConversationID.
	ConversationID string
	// NewConversationID and Title are the id and title of the conversation to create.
	NewConversationID, Title string
	// ParentID is the message the turn follows; every message after it is deleted. Empty
	// means the start of the conversation (every message is deleted).
	ParentID string
	// Message is the user message; its ParentId must equal ParentID.
	Message Message
	// Limits are checked before writing: the owner's conversations (when one is created),
	// the conversation's messages (the turn and its answer must fit) and bytes.
	Limits Limits
	// Now is the time of the write; Expires the conversation's new expiry (zero: none).
	Now, Expires time.Time
}

// Answer is an assistant message to store after the user message it answers.
type Answer struct {
	// Owner and ConversationID name the conversation.
	Owner, ConversationID string
	// Message is the answer; its ParentId names the user message, which must still exist.
	Message Message
	// Now is the time of the write; Expires the conversation's new expiry (zero: none).
	Now, Expires time.Time
}

// Patch changes a conversation's title or pin; nil fields are left alone.
type Patch struct {
	Title  *string
	Pinned *bool
	// Now is the time of the change.
	Now time.Time
}

// Hit is one conversation a search found.
type Hit struct {
	// Conversation is the matching conversation.
	Conversation Summary
	// MessageID is the best-matching message; empty when only the title matched.
	MessageID string
	// Text is the matching message's text, or the title.
	Text string
}

// Store keeps conversations. Every method acts on one owner's data only. Implementations are
// safe for concurrent use; their errors are ErrNotFound, *LimitError or ErrUnavailable.
type Store interface {
	// List returns up to size of the owner's conversations, pinned first, then by Updated,
	// newest first, after the position token names ("" for the first page), and the token
	// of the next page ("" on the last).
	List(ctx context.Context, owner string, size int, token string) ([]Summary, string, error)
	// Get returns one of the owner's conversations with its messages, oldest first.
	Get(ctx context.Context, owner, id string) (Summary, []Message, error)
	// Update applies p to one of the owner's conversations and returns it.
	Update(ctx context.Context, owner, id string, p Patch) (Summary, error)
	// Delete deletes one of the owner's conversations and its messages.
	Delete(ctx context.Context, owner, id string) error
	// Search returns up to limit of the owner's conversations whose title or a message
	// matches every term (lower-case words, each matching a word's prefix), best first.
	Search(ctx context.Context, owner string, terms []string, limit int) ([]Hit, error)
	// AddTurn stores a user message (creating the conversation when t names none), deleting
	// the messages after its parent, within t.Limits, and returns the conversation.
	AddTurn(ctx context.Context, t Turn) (Summary, error)
	// AddAnswer stores an answer. It returns ErrNotFound when the conversation or the user
	// message it answers is gone (deleted, or replaced by a later turn).
	AddAnswer(ctx context.Context, a Answer) error
	// CountOwners returns up to size owners' counts (what each keeps, in numbers only), for
	// usage administrators, in an order of the store's choosing, after the position token
	// names ("" for the first page), and the token of the next page ("" on the last). Owners
	// holding no conversation are left out; a page may hold fewer than size owners (even
	// none) before the last. Unlike every other method it reads every owner's data, and
	// returns no title, id or content.
	CountOwners(ctx context.Context, size int, token string) ([]OwnerCount, string, error)
	// Close releases the store.
	Close() error
}

// Expired names a conversation retention deleted.
type Expired struct {
	// Owner and ID name the conversation.
	Owner, ID string
}

// Sweeper is a Store that deletes expired conversations itself when asked (SQLite; DynamoDB
// deletes them with its time-to-live).
type Sweeper interface {
	// DeleteExpired deletes up to limit conversations whose expiry is at or before now and
	// returns them.
	DeleteExpired(ctx context.Context, now time.Time, limit int) ([]Expired, error)
}
