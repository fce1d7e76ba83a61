package dynamostore

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/services/store"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is a store.Store on one DynamoDB table (see the package documentation for its key
// schema).
type Store struct {
	db     API
	table  string
	opts   store.Options
	closed atomic.Bool
}

var _ store.Store = (*Store)(nil)

// New returns a store on table, which must exist with the package's key schema
// (EnsureTable creates it).
func New(db API, table string, opts store.Options) *Store {
	return &Store{db: db, table: table, opts: opts.WithDefaults()}
}

// Close marks the store closed; later calls fail with store.ErrUnavailable. The client is
// the caller's and stays open.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) ready(op string) error {
	if s.closed.Load() {
		return store.Unavailable(op, errors.New("store is closed"))
	}
	return nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func set(v string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: []string{v}} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}

func getNum(item map[string]types.AttributeValue, name string) int64 {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

func getStr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// tableName returns the table as the SDK wants it.
func (s *Store) tableName() *string { return aws.String(s.table) }

// counterAttrs names the counter attributes in expressions (several are reserved words).
var counterAttrs = map[string]string{
	"#u": "used", "#r": "reserved", "#c": "consumed", "#h": "holds", "#l": "lateSettled", "#ra": "resetsAt", "#ttl": attrTTL,
}

// names returns the expression attribute names for the placeholders given.
func names(placeholders ...string) map[string]string {
	m := make(map[string]string, len(placeholders))
	for _, p := range placeholders {
		m[p] = counterAttrs[p]
	}
	return m
}
