package apikey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
)

// Key is a stored key: never its secret, only the secret's hash.
type Key struct {
	// ID names the key in its owner's list (random, 16 hex characters).
	ID string
	// Owner is the user name (principal.Principal.Username) the key acts as.
	Owner string
	// Name is what the owner called it.
	Name string
	// Prefix is DisplayPrefix of the secret.
	Prefix string
	// Hash is Hash of the secret.
	Hash string
	// Models are the models the key may call, sorted; empty means all the owner's.
	Models []string
	// Created and Expires bound the key's life.
	Created, Expires time.Time
	// LastUsed is when it was last used (written at most every TouchInterval); zero if never.
	LastUsed time.Time
	// Revoked is when it was revoked, and RevokedBy who revoked it; zero and empty while not.
	Revoked   time.Time
	RevokedBy string
}

// Proto returns the key as the API's ApiKey.
func (k Key) Proto() *apikeyv1.ApiKey {
	out := &apikeyv1.ApiKey{
		Id: k.ID, Owner: k.Owner, Name: k.Name, Prefix: k.Prefix, ModelIds: slices.Clone(k.Models),
		CreateTime: timestamppb.New(k.Created), ExpireTime: timestamppb.New(k.Expires), RevokedBy: k.RevokedBy,
	}
	if !k.LastUsed.IsZero() {
		out.LastUsedTime = timestamppb.New(k.LastUsed)
	}
	if !k.Revoked.IsZero() {
		out.RevokeTime = timestamppb.New(k.Revoked)
	}
	return out
}

// Seen is a person's last sign-in as the services saw it: what their keys act with.
type Seen struct {
	// Owner is the user name.
	Owner string
	// Subject, Email, DisplayName and Department are the token's.
	Subject, Email, DisplayName, Department string
	// Groups are the person's groups (policy group names), sorted.
	Groups []string
	// At is when a sign-in token of theirs was last used (recorded every SeenInterval at most).
	At time.Time
}

// Errors of a Store.
var (
	// ErrNotFound: no such key (or no such owner's sign-in).
	ErrNotFound = errors.New("apikey: not found")
	// ErrExists: a key with the same id or hash exists.
	ErrExists = errors.New("apikey: already exists")
	// ErrUnavailable: the store cannot be reached; the request may be retried.
	ErrUnavailable = errors.New("apikey: store unavailable")
)

// Unavailable returns the failure err of a Store's backend during operation op, wrapped so
// that it matches ErrUnavailable and still unwraps to err.
func Unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// Store keeps keys and the owners' last sign-in. Implementations are safe for concurrent use
// and return errors that wrap ErrNotFound, ErrExists or ErrUnavailable.
type Store interface {
	// Create adds k; ErrExists when its id (for its owner) or hash is taken.
	Create(ctx context.Context, k Key) error
	// ByHash returns the key whose secret hashes to hash.
	ByHash(ctx context.Context, hash string) (Key, error)
	// List returns owner's keys, or everyone's when owner is empty, newest first.
	List(ctx context.Context, owner string) ([]Key, error)
	// Revoke marks owner's key id revoked at at by by, and returns it. A key already revoked
	// is returned as it is (its first revocation stands).
	Revoke(ctx context.Context, owner, id, by string, at time.Time) (Key, error)
	// Touch sets owner's key id last used at at (never moving it back).
	Touch(ctx context.Context, owner, id string, at time.Time) error
	// PutSeen records s as its owner's last sign-in (never moving At back).
	PutSeen(ctx context.Context, s Seen) error
	// Seen returns owner's last sign-in.
	Seen(ctx context.Context, owner string) (Seen, error)
	// Close releases the store.
	Close() error
}
