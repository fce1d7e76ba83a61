// Package dynamokeys is the DynamoDB apikey.Store (PORTICO_KEY_STORE=dynamodb:<table>).
//
// The table has a string partition key "pk" and a string sort key "sk", and no index:
//
//	item          pk                sk            attributes
//	key           OWNER#<owner>     KEY#<id>      id, owner, name, prefix, hash, models (list),
//	                                              createdNs, expiresNs, lastUsedNs, revokedNs, revokedBy
//	hash guard    HASH#<sha256 hex> HASH          owner, id
//	last sign-in  OWNER#<owner>     SEEN          subject, email, displayName, department,
//	                                              groups (list), atNs
//
// A secret is looked up with two strongly consistent GetItem calls (the hash guard, then
// the key), so a revocation is read as soon as it is written; the hash guard also makes
// hashes unique (conditional put). Owners' keys are a Query on their partition; everyone's
// (administrators only) a Scan. Times are Unix nanoseconds, 0 for none. Secrets are never
// stored, only their SHA-256.
//
// IAM: GetItem, PutItem, UpdateItem, DeleteItem, Query and Scan on the table.
package dynamokeys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/internal/unixnano"
	"github.com/portico-dev/portico/services/platform/dynamotable"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client is one.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store is the DynamoDB apikey.Store.
type Store struct {
	db    API
	table string
}

var _ apikey.Store = (*Store)(nil)

// New returns the store on table; the client stays the caller's.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// Close does nothing: the client is the caller's.
func (s *Store) Close() error { return nil }

// EnsureTable creates the table (pk, sk; on-demand) unless it exists, for tests and
// development; in AWS the infrastructure code owns it.
func EnsureTable(ctx context.Context, db dynamotable.API, table string) error {
	return dynamotable.Ensure(ctx, db, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
}

type keyItem struct {
	PK         string   `dynamodbav:"pk"`
	SK         string   `dynamodbav:"sk"`
	ID         string   `dynamodbav:"id"`
	Owner      string   `dynamodbav:"owner"`
	Name       string   `dynamodbav:"name"`
	Prefix     string   `dynamodbav:"prefix"`
	Hash       string   `dynamodbav:"hash"`
	Models     []string `dynamodbav:"models"`
	CreatedNs  int64    `dynamodbav:"createdNs"`
	ExpiresNs  int64    `dynamodbav:"expiresNs"`
	LastUsedNs int64    `dynamodbav:"lastUsedNs"`
	RevokedNs  int64    `dynamodbav:"revokedNs"`
	RevokedBy  string   `dynamodbav:"revokedBy"`
}

type hashItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Owner string `dynamodbav:"owner"`
	ID    string `dynamodbav:"id"`
}

type seenItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	Subject     string   `dynamodbav:"subject"`
	Email       string   `dynamodbav:"email"`
	DisplayName string   `dynamodbav:"displayName"`
	Department  string   `dynamodbav:"department"`
	Groups      []string `dynamodbav:"groups"`
	AtNs        int64    `dynamodbav:"atNs"`
}

func ownerPK(owner string) string { return "OWNER#" + owner }
func keySK(id string) string      { return "KEY#" + id }
func hashPK(hash string) string   { return "HASH#" + hash }

const (
	hashSK = "HASH"
	seenSK = "SEEN"
)

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func (it keyItem) key() apikey.Key {
	models := it.Models
	if len(models) == 0 {
		models = nil
	}
	return apikey.Key{ID: it.ID, Owner: it.Owner, Name: it.Name, Prefix: it.Prefix, Hash: it.Hash, Models: models,
		Created: unixnano.Time(it.CreatedNs), Expires: unixnano.Time(it.ExpiresNs), LastUsed: unixnano.Time(it.LastUsedNs),
		Revoked: unixnano.Time(it.RevokedNs), RevokedBy: it.RevokedBy}
}

// Create adds k: its hash guard, then the key. See apikey.Store.
func (s *Store) Create(ctx context.Context, k apikey.Key) error {
	guard, err := attributevalue.MarshalMap(hashItem{PK: hashPK(k.Hash), SK: hashSK, Owner: k.Owner, ID: k.ID})
	if err != nil {
		return fmt.Errorf("marshal hash guard: %w", err)
	}
	notExists := aws.String("attribute_not_exists(pk)")
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: guard, ConditionExpression: notExists}); err != nil {
		if conditionFailed(err) {
			return fmt.Errorf("%w: hash of key %s", apikey.ErrExists, k.ID)
		}
		return apikey.Unavailable("create key", err)
	}
	models := k.Models
	if models == nil {
		models = []string{}
	}
	item, err := attributevalue.MarshalMap(keyItem{PK: ownerPK(k.Owner), SK: keySK(k.ID), ID: k.ID, Owner: k.Owner, Name: k.Name,
		Prefix: k.Prefix, Hash: k.Hash, Models: models, CreatedNs: unixnano.Of(k.Created), ExpiresNs: unixnano.Of(k.Expires),
		LastUsedNs: unixnano.Of(k.LastUsed), RevokedNs: unixnano.Of(k.Revoked), RevokedBy: k.RevokedBy})
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: notExists})
	if err == nil {
		return nil
	}
	// The guard is ours: take it back so that the hash is free again.
	_, derr := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: itemKey(hashPK(k.Hash), hashSK)})
	if conditionFailed(err) {
		return errors.Join(fmt.Errorf("%w: key %s of %s", apikey.ErrExists, k.ID, k.Owner), derr)
	}
	return errors.Join(apikey.Unavailable("create key", err), derr)
}

// ByHash returns the key of hash. See apikey.Store.
func (s *Store) ByHash(ctx context.Context, hash string) (apikey.Key, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey(hashPK(hash), hashSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apikey.Key{}, apikey.Unavailable("read key", err)
	}
	if out.Item == nil {
		return apikey.Key{}, apikey.ErrNotFound
	}
	var g hashItem
	if err := attributevalue.UnmarshalMap(out.Item, &g); err != nil {
		return apikey.Key{}, apikey.Unavailable("read key", err)
	}
	k, err := s.get(ctx, g.Owner, g.ID)
	if err == nil && k.Hash != hash {
		return apikey.Key{}, apikey.ErrNotFound
	}
	return k, err
}

func (s *Store) get(ctx context.Context, owner, id string) (apikey.Key, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey(ownerPK(owner), keySK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apikey.Key{}, apikey.Unavailable("read key", err)
	}
	if out.Item == nil {
		return apikey.Key{}, apikey.ErrNotFound
	}
	var it keyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return apikey.Key{}, apikey.Unavailable("read key", err)
	}
	return it.key(), nil
}

// List returns owner's keys (a Query), or everyone's (a Scan). See apikey.Store.
func (s *Store) List(ctx context.Context, owner string) ([]apikey.Key, error) {
	var out []apikey.Key
	var start map[string]types.AttributeValue
	for {
		var items []map[string]types.AttributeValue
		if owner != "" {
			res, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName:              &s.table,
				KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :key)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: ownerPK(owner)}, ":key": &types.AttributeValueMemberS{Value: "KEY#"},
				},
				ExclusiveStartKey: start,
			})
			if err != nil {
				return nil, apikey.Unavailable("list keys", err)
			}
			items, start = res.Items, res.LastEvaluatedKey
		} else {
			res, err := s.db.Scan(ctx, &dynamodb.ScanInput{
				TableName:                 &s.table,
				FilterExpression:          aws.String("begins_with(sk, :key)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":key": &types.AttributeValueMemberS{Value: "KEY#"}},
				ExclusiveStartKey:         start,
			})
			if err != nil {
				return nil, apikey.Unavailable("list keys", err)
			}
			items, start = res.Items, res.LastEvaluatedKey
		}
		for _, item := range items {
			var it keyItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, apikey.Unavailable("list keys", err)
			}
			out = append(out, it.key())
		}
		if len(start) == 0 {
			break
		}
	}
	slices.SortFunc(out, func(a, b apikey.Key) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// Revoke revokes owner's key id; the first revocation stands. See apikey.Store.
func (s *Store) Revoke(ctx context.Context, owner, id, by string, at time.Time) (apikey.Key, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 itemKey(ownerPK(owner), keySK(id)),
		UpdateExpression:    aws.String("SET revokedNs = :at, revokedBy = :by"),
		ConditionExpression: aws.String("attribute_exists(pk) AND revokedNs = :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": &types.AttributeValueMemberN{Value: fmt.Sprint(unixnano.Of(at))}, ":by": &types.AttributeValueMemberS{Value: by},
			":zero": &types.AttributeValueMemberN{Value: "0"},
		},
	})
	if err != nil && !conditionFailed(err) {
		return apikey.Key{}, apikey.Unavailable("revoke key", err)
	}
	return s.get(ctx, owner, id) // not found, revoked now, or revoked before
}

// Touch records a use of owner's key id, never moving it back. See apikey.Store.
func (s *Store) Touch(ctx context.Context, owner, id string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       itemKey(ownerPK(owner), keySK(id)),
		UpdateExpression:          aws.String("SET lastUsedNs = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND lastUsedNs < :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberN{Value: fmt.Sprint(unixnano.Of(at))}},
	})
	if conditionFailed(err) {
		if _, gerr := s.get(ctx, owner, id); gerr != nil {
			return gerr // not found (or unreachable)
		}
		return nil // a later use is recorded already
	}
	if err != nil {
		return apikey.Unavailable("touch key", err)
	}
	return nil
}

// PutSeen records an owner's sign-in, never moving it back. See apikey.Store.
func (s *Store) PutSeen(ctx context.Context, v apikey.Seen) error {
	groups := v.Groups
	if groups == nil {
		groups = []string{}
	}
	item, err := attributevalue.MarshalMap(seenItem{PK: ownerPK(v.Owner), SK: seenSK, Subject: v.Subject, Email: v.Email,
		DisplayName: v.DisplayName, Department: v.Department, Groups: groups, AtNs: unixnano.Of(v.At)})
	if err != nil {
		return fmt.Errorf("marshal sign-in: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR atNs <= :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberN{Value: fmt.Sprint(unixnano.Of(v.At))}},
	})
	if err != nil && !conditionFailed(err) {
		return apikey.Unavailable("record sign-in", err)
	}
	return nil
}

// Seen returns owner's last sign-in. See apikey.Store.
func (s *Store) Seen(ctx context.Context, owner string) (apikey.Seen, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey(ownerPK(owner), seenSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apikey.Seen{}, apikey.Unavailable("read sign-in", err)
	}
	if out.Item == nil {
		return apikey.Seen{}, apikey.ErrNotFound
	}
	var it seenItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return apikey.Seen{}, apikey.Unavailable("read sign-in", err)
	}
	groups := it.Groups
	if len(groups) == 0 {
		groups = nil
	}
	return apikey.Seen{Owner: owner, Subject: it.Subject, Email: it.Email, DisplayName: it.DisplayName,
		Department: it.Department, Groups: groups, At: unixnano.Time(it.AtNs)}, nil
}
