package conversationtest

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/conversation"
)

// AllCounts reads every page of s.CountOwners with pages of size and returns the counts by
// owner, failing t on an error, an owner listed twice or more pages than owners.
func AllCounts(t testing.TB, s conversation.Store, size int) map[string]conversation.OwnerCount {
	t.Helper()
	out := map[string]conversation.OwnerCount{}
	token := ""
	for range 100 {
		page, next, err := s.CountOwners(context.Background(), size, token)
		if err != nil {
			t.Fatalf("count owners: %v", err)
		}
		if len(page) > size {
			t.Fatalf("count owners: %d owners on a page of %d", len(page), size)
		}
		for _, c := range page {
			if _, dup := out[c.Owner]; dup {
				t.Fatalf("count owners: %s on two pages", c.Owner)
			}
			out[c.Owner] = c
		}
		if next == "" {
			return out
		}
		token = next
	}
	t.Fatal("count owners: still a next page after 100 pages")
	return nil
}

// held sums what List and Get show of owner's conversations: the counts CountOwners must
// report.
func held(t *testing.T, s conversation.Store, owner string) conversation.OwnerCount {
	t.Helper()
	ctx := context.Background()
	page, _, err := s.List(ctx, owner, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	c := conversation.OwnerCount{Owner: owner}
	for _, sum := range page {
		_, msgs, err := s.Get(ctx, owner, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.Conversations++
		c.Messages += int64(len(msgs))
		for _, m := range msgs {
			c.Bytes += m.Bytes
		}
	}
	return c
}

func countOwners(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	if got := AllCounts(t, s, 10); len(got) != 0 {
		t.Fatalf("an empty store counts %+v", got)
	}
	Start(t, s, "alice", "first", "hello there", base)
	a2 := conversation.NewID(base.Add(time.Second))
	if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", OwnerName: "alice.a", NewConversationID: a2, Title: "second",
		Message: Text(conversation.NewID(base), "", inferencev1.Role_ROLE_USER, "a longer prompt of alice"), Now: base.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	_, msgs, err := s.Get(ctx, "alice", a2)
	if err != nil {
		t.Fatal(err)
	}
	answer := Text(conversation.NewID(base), msgs[0].ID(), inferencev1.Role_ROLE_ASSISTANT, "an answer")
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: a2, Message: answer, Now: base.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	Start(t, s, "bob", "bob's", "hi", base)
	gone := Start(t, s, "bob", "bob's gone", "bye", base)
	Start(t, s, "carol", "carol's", "hello", base)
	for _, owner := range []string{"dave", "erin"} {
		Start(t, s, owner, "x", "y", base)
	}
	if err := s.Delete(ctx, "bob", gone); err != nil {
		t.Fatal(err)
	}
	// carol deletes her only conversation: she keeps nothing and is not listed.
	page, _, _ := s.List(ctx, "carol", 10, "")
	if err := s.Delete(ctx, "carol", page[0].ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]conversation.OwnerCount{}
	for _, owner := range []string{"alice", "bob", "dave", "erin"} {
		want[owner] = held(t, s, owner)
	}
	// alice's name is the one she created a conversation with; the others gave none.
	w := want["alice"]
	w.Name = "alice.a"
	want["alice"] = w
	if w.Conversations != 2 || w.Messages != 3 || w.Bytes != int64(len("hello there")+len("a longer prompt of alice")+len("an answer")) {
		t.Fatalf("alice holds %+v", w)
	}
	for _, size := range []int{1, 2, 3, 500} {
		if got := AllCounts(t, s, size); !maps.Equal(got, want) {
			t.Errorf("pages of %d: counts %+v, want %+v", size, got, want)
		}
	}
	for _, token := range []string{"not a token", "AAAA", conversation.EncodeCountToken("", "")} {
		if _, _, err := s.CountOwners(ctx, 10, token); !errors.Is(err, conversation.ErrBadPageToken) {
			t.Errorf("token %q: %v, want ErrBadPageToken", token, err)
		}
	}
}
