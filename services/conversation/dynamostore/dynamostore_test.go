package dynamostore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	"github.com/portico-dev/portico/services/conversation/dynamostore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

func newStore(t testing.TB, now func() time.Time) (*dynamostore.Store, string) {
	t.Helper()
	srv := dynalitetest.Start(t)
	table := srv.Table("portico-conversations")
	if err := dynamostore.EnsureTable(context.Background(), srv.Client, table); err != nil {
		t.Fatal(err)
	}
	return dynamostore.New(srv.Client, table, now), table
}

func TestContract(t *testing.T) {
	t.Parallel()
	conversationtest.Run(t, func(t *testing.T) conversation.Store {
		s, _ := newStore(t, nil)
		return s
	})
}

// TestRetention checks the expiresAt attributes a write sets (DynamoDB's time-to-live
// deletes the items) and that a summary past its expiry is gone for reads before that.
func TestRetention(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	s, table := newStore(t, func() time.Time { return clock })
	ctx := context.Background()
	id := conversation.NewID(now)
	exp := now.Add(30 * 24 * time.Hour)
	if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", NewConversationID: id, Title: "t",
		Message: conversationtest.Text(conversation.NewID(now), "", 1, "hello"), Now: now, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	out, err := dynalitetest.Start(t).Client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "u#alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range out.Items {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		sk = sk[:min(2, len(sk))]
		if e, ok := it["expiresAt"].(*types.AttributeValueMemberN); ok {
			got[sk] = e.Value
		}
	}
	msgExp := now.Add(45 * 24 * time.Hour)
	if got["c#"] != strconv.FormatInt(exp.Unix(), 10) || got["m#"] != strconv.FormatInt(msgExp.Unix(), 10) {
		t.Fatalf("expiresAt %v", got)
	}
	clock = exp
	if _, _, err := s.Get(ctx, "alice", id); err != conversation.ErrNotFound {
		t.Fatalf("an expired conversation: %v", err)
	}
	if page, _, _ := s.List(ctx, "alice", 10, ""); len(page) != 0 {
		t.Fatalf("an expired conversation is listed")
	}
}

// TestCountOwnersSkipsExpired checks that the administrators' counts leave out a
// conversation past its expiry before DynamoDB's time-to-live deletes it (the owner's count
// item still counts it), as every other read does.
func TestCountOwnersSkipsExpired(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	s, _ := newStore(t, func() time.Time { return clock })
	ctx := context.Background()
	for i, exp := range []time.Time{now.Add(time.Hour), now.Add(48 * time.Hour)} {
		if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", NewConversationID: conversation.NewID(now), Title: "t",
			Message: conversationtest.Text(conversation.NewID(now), "", 1, strconv.Itoa(i)+"-hello"), Now: now, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if got := conversationtest.AllCounts(t, s, 10)["alice"]; got.Conversations != 2 || got.Messages != 2 || got.Bytes != 14 {
		t.Fatalf("before expiry: %+v", got)
	}
	clock = now.Add(2 * time.Hour)
	if got := conversationtest.AllCounts(t, s, 10)["alice"]; got.Conversations != 1 || got.Messages != 1 || got.Bytes != 7 {
		t.Fatalf("after the first expired: %+v", got)
	}
	clock = now.Add(72 * time.Hour)
	if got := conversationtest.AllCounts(t, s, 10); len(got) != 0 {
		t.Fatalf("after both expired: %+v", got)
	}
}
