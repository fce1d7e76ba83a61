package dynamostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/platform/dynamotable"
)

// Bounds of the store's reads and items.
const (
	// SearchReadPages is the most pages of the owner's messages one search reads.
	SearchReadPages = 4
	// SearchTextBytes is the most bytes of a message's text that search looks at.
	SearchTextBytes = 32 << 10
	// maxListPages bounds List's reads of summaries (a safety net: the conversations limit
	// keeps them to a few pages).
	maxListPages = 50
	// writeAttempts is how many times a write that lost a race with another is tried.
	writeAttempts = 4
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Store is a conversation.Store on one DynamoDB table (see the package documentation).
type Store struct {
	db    API
	table string
	now   func() time.Time
}

var _ conversation.Store = (*Store)(nil)

// New returns a store on table, which must exist with the package's key schema. now is the
// clock that decides expiry on reads; nil means time.Now.
func New(db API, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now}
}

// Close does nothing: the client is the caller's.
func (s *Store) Close() error { return nil }

// CreateTableInput returns the table's definition, for EnsureTable (the CDK app defines the
// same in AWS, with time-to-live on expiresAt).
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr("pk"), attr("sk")},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	}
}

// EnsureTable creates table unless it exists, for tests and development.
func EnsureTable(ctx context.Context, db dynamotable.API, table string) error {
	return dynamotable.Ensure(ctx, db, CreateTableInput(table))
}

type item = map[string]types.AttributeValue

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getStr(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getNum(it item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func pk(owner string) string             { return "u#" + owner }
func summaryKey(id string) string        { return "c#" + id }
func messagePrefix(id string) string     { return "m#" + id + "#" }
func messageKey(conv, msg string) string { return messagePrefix(conv) + msg }

func key(owner, sk string) item { return item{"pk": str(pk(owner)), "sk": str(sk)} }

// expiresAt is the attribute value of t, in epoch seconds.
func expiresAt(t time.Time) types.AttributeValue { return num(t.Unix()) }

// messageExpiry is when a message written at now expires: half a retention period after its
// conversation would (see the package documentation).
func messageExpiry(now, convExpires time.Time) time.Time {
	if convExpires.IsZero() {
		return time.Time{}
	}
	return convExpires.Add(convExpires.Sub(now) / 2)
}

func summaryOf(it item) conversation.Summary {
	c := conversation.Summary{
		ID:           strings.TrimPrefix(getStr(it, "sk"), "c#"),
		Title:        getStr(it, "title"),
		Created:      time.Unix(0, getNum(it, "created")).UTC(),
		Updated:      time.Unix(0, getNum(it, "updated")).UTC(),
		ModelID:      getStr(it, "model"),
		MessageCount: int(getNum(it, "count")),
		Bytes:        getNum(it, "bytes"),
	}
	if v, ok := it["pinned"].(*types.AttributeValueMemberBOOL); ok {
		c.Pinned = v.Value
	}
	if e := getNum(it, "expiresAt"); e > 0 {
		c.Expires = time.Unix(e, 0).UTC()
	}
	return c
}

// live reports whether a summary item is there and not past its expiry.
func (s *Store) live(it item) bool {
	if len(it) == 0 {
		return false
	}
	e := getNum(it, "expiresAt")
	return e == 0 || e > s.now().Unix()
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// queryAll runs a Query over every page, up to maxPages (0: no bound), calling each with the
// items of each page.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, maxPages int, each func([]item)) error {
	for page := 0; maxPages == 0 || page < maxPages; page++ {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return err
		}
		each(out.Items)
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return nil
}

func (s *Store) summaries(ctx context.Context, owner string) ([]conversation.Summary, error) {
	var out []conversation.Summary
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :c)"),
		ExpressionAttributeValues: item{":pk": str(pk(owner)), ":c": str("c#")},
	}, maxListPages, func(items []item) {
		for _, it := range items {
			if s.live(it) {
				out = append(out, summaryOf(it))
			}
		}
	})
	return out, err
}

// listOrder sorts summaries pinned first, then newest first, then by id descending.
func listOrder(a, b conversation.Summary) int {
	if a.Pinned != b.Pinned {
		if a.Pinned {
			return -1
		}
		return 1
	}
	if c := b.Updated.Compare(a.Updated); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

// List returns a page of the owner's conversations. See conversation.Store.
func (s *Store) List(ctx context.Context, owner string, size int, token string) ([]conversation.Summary, string, error) {
	var after *conversation.ListKey
	if token != "" {
		k, err := conversation.DecodeListToken(token)
		if err != nil {
			return nil, "", err
		}
		after = &k
	}
	all, err := s.summaries(ctx, owner)
	if err != nil {
		return nil, "", conversation.Unavailable("list", err)
	}
	slices.SortFunc(all, listOrder)
	if after != nil {
		i := slices.IndexFunc(all, func(c conversation.Summary) bool { return !after.Before(c) && !isKey(*after, c) })
		if i < 0 {
			i = len(all)
		}
		all = all[i:]
	}
	if len(all) > size {
		return all[:size], conversation.EncodeListToken(all[size-1]), nil
	}
	return all, "", nil
}

func isKey(k conversation.ListKey, c conversation.Summary) bool {
	return k.ID == c.ID && k.Pinned == c.Pinned && k.Updated.Equal(c.Updated)
}

func (s *Store) getSummary(ctx context.Context, owner, id string) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(owner, summaryKey(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if !s.live(out.Item) {
		return nil, conversation.ErrNotFound
	}
	return out.Item, nil
}

// stored is a message item as read back.
type stored struct {
	msg     conversation.Message
	expires int64
}

// chain reads a conversation's messages and returns the chain that ends at head (the
// summary's), oldest first, and every message not on it.
func (s *Store) chain(ctx context.Context, owner, id, head string) (chain, off []stored, err error) {
	var all []stored
	err = s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :m)"),
		ExpressionAttributeValues: item{":pk": str(pk(owner)), ":m": str(messagePrefix(id))},
		ProjectionExpression:      aws.String("b, #bytes, expiresAt"),
		ExpressionAttributeNames:  map[string]string{"#bytes": "bytes"},
		ConsistentRead:            aws.Bool(true),
	}, 0, func(items []item) {
		for _, it := range items {
			b, _ := it["b"].(*types.AttributeValueMemberB)
			if b == nil {
				continue
			}
			body := &conversationv1.ConversationMessage{}
			if proto.Unmarshal(b.Value, body) != nil {
				continue
			}
			all = append(all, stored{msg: conversation.Message{Body: body, Bytes: getNum(it, "bytes")}, expires: getNum(it, "expiresAt")})
		}
	})
	if err != nil || len(all) == 0 {
		return nil, nil, err
	}
	byID := make(map[string]int, len(all))
	for i, m := range all {
		byID[m.msg.ID()] = i
	}
	on := make([]bool, len(all))
	start, ok := byID[head]
	for i := start; ok; i, ok = byID[all[i].msg.Body.GetParentId()] {
		if on[i] {
			break // a cycle cannot be written; stop all the same
		}
		on[i] = true
		chain = append(chain, all[i])
	}
	slices.Reverse(chain)
	for i, m := range all {
		if !on[i] {
			off = append(off, m)
		}
	}
	return chain, off, nil
}

// Get returns a conversation with its messages. See conversation.Store.
func (s *Store) Get(ctx context.Context, owner, id string) (conversation.Summary, []conversation.Message, error) {
	it, err := s.getSummary(ctx, owner, id)
	if err != nil {
		return conversation.Summary{}, nil, wrap("get", err)
	}
	chain, _, err := s.chain(ctx, owner, id, getStr(it, "head"))
	if err != nil {
		return conversation.Summary{}, nil, conversation.Unavailable("get", err)
	}
	msgs := make([]conversation.Message, len(chain))
	for i, m := range chain {
		msgs[i] = m.msg
	}
	return summaryOf(it), msgs, nil
}

func wrap(op string, err error) error {
	var le *conversation.LimitError
	if errors.Is(err, conversation.ErrNotFound) || errors.As(err, &le) || errors.Is(err, conversation.ErrUnavailable) {
		return err
	}
	return conversation.Unavailable(op, err)
}

// Update renames or pins a conversation. See conversation.Store.
func (s *Store) Update(ctx context.Context, owner, id string, p conversation.Patch) (conversation.Summary, error) {
	set := []string{"updated = :now", "v = v + :one"}
	vals := item{":now": num(p.Now.UnixNano()), ":one": num(1), ":t": num(s.now().Unix())}
	if p.Title != nil {
		set = append(set, "title = :title")
		vals[":title"] = str(*p.Title)
	}
	if p.Pinned != nil {
		set = append(set, "pinned = :pinned")
		vals[":pinned"] = &types.AttributeValueMemberBOOL{Value: *p.Pinned}
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(owner, summaryKey(id)),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String("attribute_exists(sk) AND (attribute_not_exists(expiresAt) OR expiresAt > :t)"),
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return conversation.Summary{}, conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Summary{}, conversation.Unavailable("update", err)
	}
	return summaryOf(out.Attributes), nil
}

// Delete deletes a conversation and its messages. See conversation.Store. The summary goes
// first, then the owner's count, then the messages in batches: if that is cut short, what
// is left is never shown (it has no summary) and expires with retention.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(owner, summaryKey(id)),
		ConditionExpression:       aws.String("attribute_exists(sk) AND (attribute_not_exists(expiresAt) OR expiresAt > :t)"),
		ExpressionAttributeValues: item{":t": num(s.now().Unix())}})
	if isConditionFailed(err) {
		return conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Unavailable("delete", err)
	}
	if err := s.count(ctx, owner, -1, 0, ""); err != nil {
		return conversation.Unavailable("delete", err)
	}
	var keys []item
	err = s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :m)"),
		ExpressionAttributeValues: item{":pk": str(pk(owner)), ":m": str(messagePrefix(id))},
		ProjectionExpression:      aws.String("pk, sk"),
	}, 0, func(items []item) { keys = append(keys, items...) })
	if err == nil {
		err = s.deleteKeys(ctx, keys)
	}
	if err != nil {
		return conversation.Unavailable("delete messages", err)
	}
	return nil
}

// deleteKeys deletes items in batches of 25, retrying what DynamoDB left unprocessed.
func (s *Store) deleteKeys(ctx context.Context, keys []item) error {
	for len(keys) > 0 {
		n := min(25, len(keys))
		reqs := make([]types.WriteRequest, n)
		for i, k := range keys[:n] {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item{"pk": k["pk"], "sk": k["sk"]}}}
		}
		keys = keys[n:]
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending[s.table]) > 0; attempt++ {
			if attempt == 8 {
				return errors.New("batch delete: items left unprocessed")
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// messageItem is the item of message m of conversation conv.
func messageItem(owner, conv string, m conversation.Message, expires time.Time) (item, error) {
	body, err := proto.Marshal(m.Body)
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	it := key(owner, messageKey(conv, m.ID()))
	it["b"] = &types.AttributeValueMemberB{Value: body}
	it["bytes"] = num(m.Bytes)
	if t := strings.ToLower(conversation.SearchText(m.Body)); t != "" {
		if len(t) > SearchTextBytes {
			t = strings.ToValidUTF8(t[:SearchTextBytes], "")
		}
		it["t"] = str(t)
	}
	if !expires.IsZero() {
		it["expiresAt"] = expiresAt(expires)
	}
	return it, nil
}

// AddTurn stores a user message. See conversation.Store.
func (s *Store) AddTurn(ctx context.Context, t conversation.Turn) (conversation.Summary, error) {
	if t.ConversationID == "" {
		return s.create(ctx, t)
	}
	var err error
	for range writeAttempts {
		var c conversation.Summary
		c, err = s.addTurn(ctx, t)
		if !errors.Is(err, errConflict) {
			return c, err
		}
	}
	return conversation.Summary{}, conversation.Unavailable("add turn", err)
}

var errConflict = errors.New("the conversation changed meanwhile")

// count adds delta to the owner's count of conversations; with limit > 0, only while the
// count is below limit (else a condition failure). A non-empty name is kept on the item (the
// owner's user name, for the administrators' counts).
func (s *Store) count(ctx context.Context, owner string, delta int64, limit int, name string) error {
	in := &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(owner, "n"),
		UpdateExpression: aws.String("ADD conversations :d"), ExpressionAttributeValues: item{":d": num(delta)}}
	if name != "" {
		in.UpdateExpression = aws.String("ADD conversations :d SET #name = :name")
		in.ExpressionAttributeNames = map[string]string{"#name": "name"}
		in.ExpressionAttributeValues[":name"] = str(name)
	}
	if limit > 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(conversations) OR conversations < :lim")
		in.ExpressionAttributeValues[":lim"] = num(int64(limit))
	}
	_, err := s.db.UpdateItem(ctx, in)
	return err
}

// create stores a new conversation's first turn: the owner's count first (within the
// limit), then the message, then the summary that makes it visible.
func (s *Store) create(ctx context.Context, t conversation.Turn) (conversation.Summary, error) {
	if err := conversation.CheckTurn(t.Limits, 0, 0, t.Message.Bytes); err != nil {
		return conversation.Summary{}, err
	}
	msg, err := messageItem(t.Owner, t.NewConversationID, t.Message, messageExpiry(t.Now, t.Expires))
	if err != nil {
		return conversation.Summary{}, err
	}
	sum := key(t.Owner, summaryKey(t.NewConversationID))
	sum["title"] = str(t.Title)
	sum["pinned"] = &types.AttributeValueMemberBOOL{Value: false}
	sum["created"], sum["updated"] = num(t.Now.UnixNano()), num(t.Now.UnixNano())
	sum["model"], sum["head"] = str(""), str(t.Message.ID())
	sum["count"], sum["bytes"], sum["v"] = num(1), num(t.Message.Bytes), num(1)
	if !t.Expires.IsZero() {
		sum["expiresAt"] = expiresAt(t.Expires)
	}
	if err := s.count(ctx, t.Owner, 1, t.Limits.ConversationsPerUser, t.OwnerName); err != nil {
		if isConditionFailed(err) {
			return conversation.Summary{}, conversation.ConversationsLimit(t.Limits.ConversationsPerUser)
		}
		return conversation.Summary{}, conversation.Unavailable("create", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: msg})
	if err == nil {
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: sum, ConditionExpression: aws.String("attribute_not_exists(sk)")})
	}
	if err != nil {
		_ = s.count(context.WithoutCancel(ctx), t.Owner, -1, 0, "")
		return conversation.Summary{}, conversation.Unavailable("create", err)
	}
	return summaryOf(sum), nil
}

func (s *Store) addTurn(ctx context.Context, t conversation.Turn) (conversation.Summary, error) {
	it, err := s.getSummary(ctx, t.Owner, t.ConversationID)
	if err != nil {
		return conversation.Summary{}, wrap("add turn", err)
	}
	chain, off, err := s.chain(ctx, t.Owner, t.ConversationID, getStr(it, "head"))
	if err != nil {
		return conversation.Summary{}, conversation.Unavailable("add turn", err)
	}
	keep := 0
	if t.ParentID != "" {
		i := slices.IndexFunc(chain, func(m stored) bool { return m.msg.ID() == t.ParentID })
		if i < 0 {
			return conversation.Summary{}, conversation.ErrNotFound
		}
		keep = i + 1
	}
	var bytes int64
	for _, m := range chain[:keep] {
		bytes += m.msg.Bytes
	}
	if err := conversation.CheckTurn(t.Limits, keep, bytes, t.Message.Bytes); err != nil {
		return conversation.Summary{}, err
	}
	msgExp := messageExpiry(t.Now, t.Expires)
	msg, err := messageItem(t.Owner, t.ConversationID, t.Message, msgExp)
	if err != nil {
		return conversation.Summary{}, err
	}
	// The message first (not shown until the summary names it as head), then the summary,
	// on the condition that no other write came in between.
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: msg}); err != nil {
		return conversation.Summary{}, conversation.Unavailable("add turn", err)
	}
	set := "SET #count = :count, #bytes = :bytes, updated = :now, head = :head, v = v + :one"
	vals := item{":count": num(int64(keep + 1)), ":bytes": num(bytes + t.Message.Bytes), ":now": num(t.Now.UnixNano()),
		":head": str(t.Message.ID()), ":one": num(1), ":v": num(getNum(it, "v"))}
	if !t.Expires.IsZero() {
		set += ", expiresAt = :exp"
		vals[":exp"] = expiresAt(t.Expires)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(t.Owner, summaryKey(t.ConversationID)),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("v = :v"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#bytes": "bytes"}, ExpressionAttributeValues: vals})
	if err != nil {
		_ = s.deleteKeys(context.WithoutCancel(ctx), []item{msg})
		if isConditionFailed(err) {
			return conversation.Summary{}, errConflict
		}
		return conversation.Summary{}, conversation.Unavailable("add turn", err)
	}
	// The messages after the parent, and any left off the chain, go (they are off the chain
	// already: a failure here hides nothing and shows nothing).
	var gone []item
	for _, m := range append(slices.Clone(chain[keep:]), off...) {
		gone = append(gone, key(t.Owner, messageKey(t.ConversationID, m.msg.ID())))
	}
	if err := s.deleteKeys(ctx, gone); err != nil {
		return conversation.Summary{}, conversation.Unavailable("delete replaced messages", err)
	}
	if !t.Expires.IsZero() {
		s.refresh(ctx, t.Owner, t.ConversationID, chain[:keep], t.Expires, msgExp)
	}
	it["count"], it["bytes"], it["updated"], it["head"] = vals[":count"], vals[":bytes"], vals[":now"], vals[":head"]
	if !t.Expires.IsZero() {
		it["expiresAt"] = vals[":exp"]
	}
	return summaryOf(it), nil
}

// refresh moves the expiry of the messages that would expire less than a retention period
// from now to msgExp (see the package documentation). A failure is left to the next turn.
func (s *Store) refresh(ctx context.Context, owner, conv string, msgs []stored, convExp, msgExp time.Time) {
	for _, m := range msgs {
		if m.expires >= convExp.Unix() {
			continue
		}
		_, _ = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: key(owner, messageKey(conv, m.msg.ID())),
			UpdateExpression:          aws.String("SET expiresAt = :e"),
			ConditionExpression:       aws.String("attribute_exists(sk)"),
			ExpressionAttributeValues: item{":e": expiresAt(msgExp)},
		})
	}
}

// AddAnswer stores an answer. See conversation.Store.
func (s *Store) AddAnswer(ctx context.Context, a conversation.Answer) error {
	msg, err := messageItem(a.Owner, a.ConversationID, a.Message, messageExpiry(a.Now, a.Expires))
	if err != nil {
		return err
	}
	// The message first (not shown until the summary names it as head), then the summary,
	// on the condition that the user message it answers is still the head: an answer to a
	// turn that was replaced, or to a deleted conversation, is not kept.
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: msg}); err != nil {
		return conversation.Unavailable("add answer", err)
	}
	set := "SET #count = #count + :one, #bytes = #bytes + :bytes, updated = :now, model = :model, head = :head, v = v + :one"
	vals := item{":one": num(1), ":bytes": num(a.Message.Bytes), ":now": num(a.Now.UnixNano()), ":model": str(a.Message.Body.GetModelId()),
		":head": str(a.Message.ID()), ":parent": str(a.Message.Body.GetParentId())}
	if !a.Expires.IsZero() {
		set += ", expiresAt = :exp"
		vals[":exp"] = expiresAt(a.Expires)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(a.Owner, summaryKey(a.ConversationID)),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("head = :parent"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#bytes": "bytes"}, ExpressionAttributeValues: vals})
	if err != nil {
		_ = s.deleteKeys(context.WithoutCancel(ctx), []item{msg})
		if isConditionFailed(err) {
			return conversation.ErrNotFound
		}
		return conversation.Unavailable("add answer", err)
	}
	return nil
}

// Search finds the owner's conversations by title and message text, reading at most
// SearchReadPages pages of the owner's messages. See conversation.Store.
func (s *Store) Search(ctx context.Context, owner string, terms []string, limit int) ([]conversation.Hit, error) {
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	all, err := s.summaries(ctx, owner)
	if err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	byID := make(map[string]conversation.Summary, len(all))
	for _, c := range all {
		byID[c.ID] = c
	}
	type ranked struct {
		hit   conversation.Hit
		score int
	}
	best := map[string]*ranked{}
	for _, c := range all {
		if ok, n := conversation.Matches(c.Title, terms); ok {
			best[c.ID] = &ranked{hit: conversation.Hit{Conversation: c, Text: c.Title}, score: n}
		}
	}
	filter := make([]string, len(terms))
	vals := item{":pk": str(pk(owner)), ":m": str("m#")}
	for i, t := range terms {
		filter[i] = fmt.Sprintf("contains(t, :t%d)", i)
		vals[fmt.Sprintf(":t%d", i)] = str(t)
	}
	err = s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :m)"),
		FilterExpression:          aws.String(strings.Join(filter, " AND ")),
		ExpressionAttributeValues: vals,
		ProjectionExpression:      aws.String("sk, b"),
		ScanIndexForward:          aws.Bool(false),
	}, SearchReadPages, func(items []item) {
		for _, it := range items {
			conv, _, _ := strings.Cut(strings.TrimPrefix(getStr(it, "sk"), "m#"), "#")
			c, ok := byID[conv]
			b, _ := it["b"].(*types.AttributeValueMemberB)
			if !ok || b == nil {
				continue // a message of a deleted or expired conversation
			}
			body := &conversationv1.ConversationMessage{}
			if proto.Unmarshal(b.Value, body) != nil {
				continue
			}
			text := conversation.SearchText(body)
			match, n := conversation.Matches(text, terms)
			if !match {
				continue
			}
			if r, ok := best[conv]; ok && (r.hit.MessageID != "" && r.score >= n) {
				continue
			}
			score := n
			if r, ok := best[conv]; ok {
				score = max(score, r.score)
			}
			best[conv] = &ranked{hit: conversation.Hit{Conversation: c, MessageID: body.GetId(), Text: text}, score: score}
		}
	})
	if err != nil {
		return nil, conversation.Unavailable("search", err)
	}
	list := make([]*ranked, 0, len(best))
	for _, r := range best {
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b *ranked) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return listOrder(a.hit.Conversation, b.hit.Conversation)
	})
	out := make([]conversation.Hit, 0, min(limit, len(list)))
	for _, r := range list[:min(limit, len(list))] {
		out = append(out, r.hit)
	}
	return out, nil
}
