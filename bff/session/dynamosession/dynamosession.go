// Package dynamosession is a session.Store on a DynamoDB table, so that server-side sessions
// are shared by every BFF instance (Lambda or not) and survive cold starts.
//
// The table has a string partition key `pk` and no sort key; turn on time-to-live on the
// number attribute `ttl`. Each session is one item:
//
//	pk   S  session.StoreKey(ticket): a hash of the ticket, never the ticket itself
//	s    S  the session sealed with the BFF's cookie keys, the item's pk bound in as
//	        associated data (so a table reader cannot lift the refresh token, and a sealed
//	        value copied to another item does not open)
//	exp  N  the session's end, Unix milliseconds (what Update's condition compares)
//	ttl  N  the session's end, Unix seconds rounded up, for DynamoDB time-to-live
//
// DynamoDB deletes expired items only eventually, so Load, Create and Update compare the
// end themselves. Updates are conditional on the item existing and not having ended: a
// refresh that finishes after logout deleted the session fails instead of reviving it.
package dynamosession

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/bff/session"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Options configure a Store.
type Options struct {
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Store is a session.Store on one DynamoDB table. It is safe for concurrent use.
type Store struct {
	db     API
	table  string
	sealer session.Sealer
	now    func() time.Time
}

var _ session.Store = (*Store)(nil)

// New returns a store on table (which must exist with the package's schema; EnsureTable
// creates one for development and tests). sealer (the BFF's *cookie.Codec) seals the
// stored sessions.
func New(db API, table string, sealer session.Sealer, opts Options) *Store {
	s := &Store{db: db, table: table, sealer: sealer, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, id string) (*session.Session, error) {
	key := session.StoreKey(id)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"pk": str(key)},
		ConsistentRead: aws.Bool(true), // a revoked session must not load from a stale replica
	})
	if err != nil {
		return nil, fmt.Errorf("dynamosession: load: %w", err)
	}
	sealed, ok := out.Item["s"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, session.ErrNotFound
	}
	sess, err := session.OpenStored(s.sealer, key, sealed.Value)
	if err != nil {
		return nil, fmt.Errorf("dynamosession: %w", err)
	}
	if sess.ID != id || !s.now().Before(sess.Expires) {
		return nil, session.ErrNotFound
	}
	return sess, nil
}

// Create implements session.Store: the put succeeds only when no live item has the key.
func (s *Store) Create(ctx context.Context, sess *session.Session) error {
	in, err := s.put(sess)
	if err != nil {
		return err
	}
	in.ConditionExpression = aws.String("attribute_not_exists(pk) OR #exp <= :now")
	if _, err := s.db.PutItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return session.ErrExists
		}
		return fmt.Errorf("dynamosession: create: %w", err)
	}
	return nil
}

// Update implements session.Store: the put succeeds only when the item exists and has not
// ended, so it never brings back a deleted (revoked) or expired session.
func (s *Store) Update(ctx context.Context, sess *session.Session) error {
	in, err := s.put(sess)
	if err != nil {
		return err
	}
	in.ConditionExpression = aws.String("attribute_exists(pk) AND #exp > :now")
	if _, err := s.db.PutItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return session.ErrNotFound
		}
		return fmt.Errorf("dynamosession: update: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{"pk": str(session.StoreKey(id))},
	})
	if err != nil {
		return fmt.Errorf("dynamosession: delete: %w", err)
	}
	return nil
}

// put returns the PutItem of sess, without its condition.
func (s *Store) put(sess *session.Session) (*dynamodb.PutItemInput, error) {
	key := session.StoreKey(sess.ID)
	sealed, err := session.SealStored(s.sealer, key, sess)
	if err != nil {
		return nil, fmt.Errorf("dynamosession: %w", err)
	}
	ttl := sess.Expires.Unix()
	if sess.Expires.After(time.Unix(ttl, 0)) {
		ttl++ // round up: DynamoDB must not delete the item before the session ends
	}
	return &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"pk":  str(key),
			"s":   str(sealed),
			"exp": num(sess.Expires.UnixMilli()),
			"ttl": num(ttl),
		},
		ExpressionAttributeNames:  map[string]string{"#exp": "exp"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.now().UnixMilli())},
	}, nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
