package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	"github.com/portico-dev/portico/services/conversation/sqlitestore"
)

func open(t testing.TB) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "conversations.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	conversationtest.Run(t, func(t *testing.T) conversation.Store { return open(t) })
}

func TestDeleteExpired(t *testing.T) {
	t.Parallel()
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	keep := conversationtest.Start(t, s, "alice", "kept", "hello", now)
	gone := conversation.NewID(now)
	if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", NewConversationID: gone, Title: "old",
		Message: conversationtest.Text(conversation.NewID(now), "", 1, "expiring words"), Now: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeleteExpired(ctx, now.Add(time.Hour), 10)
	if err != nil || len(got) != 1 || got[0] != (conversation.Expired{Owner: "alice", ID: gone}) {
		t.Fatalf("DeleteExpired: %v, %v", got, err)
	}
	if _, _, err := s.Get(ctx, "alice", keep); err != nil {
		t.Fatalf("the conversation without expiry: %v", err)
	}
	if hits, _ := s.Search(ctx, "alice", []string{"expiring"}, 10); len(hits) != 0 {
		t.Fatalf("expired messages are still found: %v", hits)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	t.Parallel()
	if _, err := sqlitestore.Open(context.Background(), ":memory:"); err == nil {
		t.Fatal("opened :memory:")
	}
}
