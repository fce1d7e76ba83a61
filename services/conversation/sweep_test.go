package conversation_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	"github.com/portico-dev/portico/services/conversation/sqlitestore"
)

// deletions is an attachment store that records the conversations whose attachments were
// deleted.
type deletions struct{ gone []string }

func (d *deletions) Put(context.Context, attachment.Key, string, []byte) error { return nil }

func (d *deletions) Get(context.Context, attachment.Key) (attachment.Object, error) {
	return attachment.Object{}, attachment.ErrNotFound
}

func (d *deletions) DeleteConversation(_ context.Context, owner, id string) error {
	d.gone = append(d.gone, owner+"/"+id)
	return nil
}

// TestSweepOnce deletes the expired conversations of a SQLite store with their attachments,
// and leaves the others.
func TestSweepOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	keep := conversationtest.Start(t, s, "alice", "kept", "hello", now)
	var expired []string
	for i := range 3 {
		id := conversation.NewID(now)
		if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "bob", NewConversationID: id, Title: "old",
			Message: conversationtest.Text(conversation.NewID(now), "", 1, "old words"), Now: now, Expires: now.Add(time.Duration(i+1) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		expired = append(expired, id)
	}
	atts := &deletions{}
	if n := conversation.SweepOnce(ctx, s, atts, now.Add(2*time.Hour), slog.New(slog.DiscardHandler)); n != 2 || len(atts.gone) != 2 {
		t.Fatalf("swept %d, attachments of %v", n, atts.gone)
	}
	if _, _, err := s.Get(ctx, "bob", expired[2]); err != nil {
		t.Fatalf("the conversation not yet expired: %v", err)
	}
	if _, _, err := s.Get(ctx, "bob", expired[0]); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("an expired conversation: %v", err)
	}
	if _, _, err := s.Get(ctx, "alice", keep); err != nil {
		t.Fatalf("a conversation without expiry: %v", err)
	}
}
