package dynamostore

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
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
	// since caches the SINCE day of usage summaries once known (since.go); sinceMu
	// serialises this instance's first write of it.
	since   atomic.Pointer[string]
	sinceMu sync.Mutex
	// listed remembers the alert marks this instance knows to be listed (relist).
	listed keySet
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

// getCount reads a counter figure: 0 when absent. A figure that is not a whole number, or is
// negative, is corrupt (store.ErrCorrupt), never zero; one past the int64 range (DynamoDB
// numbers have 38 digits) saturates at math.MaxInt64, more than any limit.
func getCount(item map[string]types.AttributeValue, key, name string) (int64, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		if _, present := item[name]; present {
			return 0, store.Corrupt("counter %s: %s is not a number", key, name)
		}
		return 0, nil
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	switch {
	case err == nil:
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(n.Value, "-"):
		v = math.MaxInt64
	default:
		return 0, store.Corrupt("counter %s: %s %q is not a whole number", key, name, n.Value)
	}
	if v < 0 {
		return 0, store.Corrupt("counter %s: %s is negative (%d)", key, name, v)
	}
	return v, nil
}

// counterFigures reads a counter item's used and reserved figures (see getCount).
func counterFigures(item map[string]types.AttributeValue, key string) (used, reserved int64, err error) {
	if used, err = getCount(item, key, "used"); err != nil {
		return 0, 0, err
	}
	if reserved, err = getCount(item, key, "reserved"); err != nil {
		return 0, 0, err
	}
	if _, err = getCount(item, key, "consumed"); err != nil {
		return 0, 0, err
	}
	return used, reserved, nil
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
	"#u": "used", "#r": "reserved", "#c": "consumed", "#h": "holds", "#l": "lateSettled", "#x": "releasedFromSettling",
	"#ra": "resetsAt", "#ttl": attrTTL,
}

// names returns the expression attribute names for the placeholders given.
func names(placeholders ...string) map[string]string {
	m := make(map[string]string, len(placeholders))
	for _, p := range placeholders {
		m[p] = counterAttrs[p]
	}
	return m
}
