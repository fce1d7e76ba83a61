// Package conversationtest is the contract suite every conversation.Store passes: run it
// from each implementation's tests with Run.
package conversationtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/conversation"
)

// Factory returns a new, empty store; the suite closes it.
type Factory func(t *testing.T) conversation.Store

// base is the suite's clock origin.
var base = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// Text returns a stored text message of role with the given id and parent.
func Text(id, parent string, role inferencev1.Role, text string) conversation.Message {
	return conversation.Message{Body: &conversationv1.ConversationMessage{
		Id: id, ParentId: parent, Role: role, State: conversationv1.MessageState_MESSAGE_STATE_COMPLETE,
		Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}},
	}, Bytes: int64(len(text))}
}

// Start stores the first turn of a new conversation of owner and returns its id.
func Start(t testing.TB, s conversation.Store, owner, title, prompt string, at time.Time) string {
	t.Helper()
	id := conversation.NewID(at)
	_, err := s.AddTurn(context.Background(), conversation.Turn{
		Owner: owner, NewConversationID: id, Title: title,
		Message: Text(conversation.NewID(at), "", inferencev1.Role_ROLE_USER, prompt), Now: at,
	})
	if err != nil {
		t.Fatalf("start %s: %v", title, err)
	}
	return id
}

// Run runs the contract suite against stores made by f.
func Run(t *testing.T, f Factory) {
	t.Run("TurnsAndAnswers", func(t *testing.T) { t.Parallel(); turnsAndAnswers(t, f(t)) })
	t.Run("ReplaceAfterParent", func(t *testing.T) { t.Parallel(); replaceAfterParent(t, f(t)) })
	t.Run("ListOrderAndPages", func(t *testing.T) { t.Parallel(); listOrder(t, f(t)) })
	t.Run("UpdateAndDelete", func(t *testing.T) { t.Parallel(); updateDelete(t, f(t)) })
	t.Run("OwnersAreApart", func(t *testing.T) { t.Parallel(); ownersApart(t, f(t)) })
	t.Run("Search", func(t *testing.T) { t.Parallel(); search(t, f(t)) })
	t.Run("Limits", func(t *testing.T) { t.Parallel(); limits(t, f(t)) })
	t.Run("AnswerAfterDelete", func(t *testing.T) { t.Parallel(); answerAfterDelete(t, f(t)) })
	t.Run("CountOwners", func(t *testing.T) { t.Parallel(); countOwners(t, f(t)) })
}

func closeAtEnd(t *testing.T, s conversation.Store) {
	t.Cleanup(func() { _ = s.Close() })
}

func turnsAndAnswers(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	id, u1 := conversation.NewID(base), conversation.NewID(base)
	exp := base.Add(30 * 24 * time.Hour)
	c, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", NewConversationID: id, Title: "Hello there",
		Message: Text(u1, "", inferencev1.Role_ROLE_USER, "hello there"), Now: base, Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Title != "Hello there" || c.MessageCount != 1 || !c.Created.Equal(base) || !c.Expires.Equal(exp) {
		t.Fatalf("after the first turn: %+v", c)
	}
	a1 := Text(conversation.NewID(base), u1, inferencev1.Role_ROLE_ASSISTANT, "general kenobi")
	a1.Body.ModelId = "amazon.nova-lite-v1:0"
	a1.Body.State = conversationv1.MessageState_MESSAGE_STATE_STOPPED
	at := base.Add(time.Minute)
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: a1, Now: at, Expires: exp.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, msgs, err := s.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageCount != 2 || got.ModelID != "amazon.nova-lite-v1:0" || !got.Updated.Equal(at) || got.Bytes != int64(len("hello there")+len("general kenobi")) || !got.Expires.Equal(exp.Add(time.Minute)) {
		t.Fatalf("summary: %+v", got)
	}
	if len(msgs) != 2 || msgs[0].ID() != u1 || msgs[1].ID() != a1.ID() || msgs[1].Body.GetState() != conversationv1.MessageState_MESSAGE_STATE_STOPPED ||
		msgs[1].Body.GetContent()[0].GetText() != "general kenobi" || msgs[1].Body.GetParentId() != u1 {
		t.Fatalf("messages: %v", msgs)
	}
	// A second turn after the answer.
	u2 := Text(conversation.NewID(at), a1.ID(), inferencev1.Role_ROLE_USER, "again")
	if c, err = s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: id, ParentID: a1.ID(), Message: u2, Now: at}); err != nil || c.MessageCount != 3 {
		t.Fatalf("second turn: %+v, %v", c, err)
	}
	// An answer to a message that is not there is refused.
	stray := Text(conversation.NewID(at), conversation.NewID(at), inferencev1.Role_ROLE_ASSISTANT, "x")
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: stray, Now: at}); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("answer to a missing message: %v", err)
	}
	// A parent that is not in the conversation is refused.
	if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: id, ParentID: conversation.NewID(at), Message: Text(conversation.NewID(at), "", inferencev1.Role_ROLE_USER, "x"), Now: at}); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("missing parent: %v", err)
	}
}

func replaceAfterParent(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	id := conversation.NewID(base)
	parent := ""
	var ids []string
	for i := range 3 {
		u := Text(conversation.NewID(base), parent, inferencev1.Role_ROLE_USER, fmt.Sprintf("question %d", i))
		tn := conversation.Turn{Owner: "alice", ConversationID: id, ParentID: parent, Message: u, Now: base}
		if i == 0 {
			tn.ConversationID, tn.NewConversationID, tn.Title = "", id, "q"
		}
		if _, err := s.AddTurn(ctx, tn); err != nil {
			t.Fatal(err)
		}
		a := Text(conversation.NewID(base), u.ID(), inferencev1.Role_ROLE_ASSISTANT, fmt.Sprintf("answer %d", i))
		if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: a, Now: base}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID(), a.ID())
		parent = a.ID()
	}
	// Answer again from the first answer: the second and third exchanges go.
	u := Text(conversation.NewID(base), ids[1], inferencev1.Role_ROLE_USER, "edited")
	c, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: id, ParentID: ids[1], Message: u, Now: base})
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, err := s.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if c.MessageCount != 3 || len(msgs) != 3 || msgs[2].ID() != u.ID() || msgs[1].ID() != ids[1] {
		t.Fatalf("after replacing: count %d, %d messages", c.MessageCount, len(msgs))
	}
	if c.Bytes != int64(len("question 0")+len("answer 0")+len("edited")) {
		t.Fatalf("bytes %d", c.Bytes)
	}
	// The replaced messages are not found by search either.
	hits, err := s.Search(ctx, "alice", []string{"answer", "2"}, 10)
	if err != nil || len(hits) != 0 {
		t.Fatalf("search for a replaced message: %v, %v", hits, err)
	}
	// From the start: every message goes.
	u0 := Text(conversation.NewID(base), "", inferencev1.Role_ROLE_USER, "fresh start")
	if c, err = s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: id, Message: u0, Now: base}); err != nil || c.MessageCount != 1 {
		t.Fatalf("from the start: %+v, %v", c, err)
	}
}

func listOrder(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		ids = append(ids, Start(t, s, "alice", fmt.Sprintf("c%d", i), "hi", base.Add(time.Duration(i)*time.Minute)))
	}
	pin := true
	if _, err := s.Update(ctx, "alice", ids[2], conversation.Patch{Pinned: &pin, Now: base}); err != nil {
		t.Fatal(err)
	}
	want := []string{ids[2], ids[6], ids[5], ids[4], ids[3], ids[1], ids[0]}
	var got []string
	token := ""
	for range 10 {
		page, next, err := s.List(ctx, "alice", 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			got = append(got, c.ID)
		}
		if next == "" {
			break
		}
		token = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("list order\n got %v\nwant %v", got, want)
	}
	if _, _, err := s.List(ctx, "alice", 3, "not-a-token"); !errors.Is(err, conversation.ErrBadPageToken) {
		t.Fatalf("bad token: %v", err)
	}
}

func updateDelete(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	id := Start(t, s, "alice", "old title", "hello", base)
	title := "Quarterly planning"
	c, err := s.Update(ctx, "alice", id, conversation.Patch{Title: &title, Now: base.Add(time.Hour)})
	if err != nil || c.Title != title || !c.Updated.Equal(base.Add(time.Hour)) {
		t.Fatalf("rename: %+v, %v", c, err)
	}
	hits, err := s.Search(ctx, "alice", []string{"quarter"}, 10)
	if err != nil || len(hits) != 1 || hits[0].MessageID != "" || hits[0].Text != title {
		t.Fatalf("search by the new title: %+v, %v", hits, err)
	}
	if hits, _ := s.Search(ctx, "alice", []string{"old"}, 10); len(hits) != 0 {
		t.Fatalf("the old title is still found: %+v", hits)
	}
	if err := s.Delete(ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "alice", id); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, "alice", id); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if hits, _ := s.Search(ctx, "alice", []string{"hello"}, 10); len(hits) != 0 {
		t.Fatalf("a deleted conversation is found: %+v", hits)
	}
	if page, _, _ := s.List(ctx, "alice", 10, ""); len(page) != 0 {
		t.Fatalf("a deleted conversation is listed: %+v", page)
	}
}

func ownersApart(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	id := Start(t, s, "alice", "secret plans", "the secret launch code", base)
	title := "mine now"
	pin := true
	for name, err := range map[string]error{
		"get": func() error { _, _, err := s.Get(ctx, "bob", id); return err }(),
		"update": func() error {
			_, err := s.Update(ctx, "bob", id, conversation.Patch{Title: &title, Pinned: &pin, Now: base})
			return err
		}(),
		"delete": s.Delete(ctx, "bob", id),
		"turn": func() error {
			_, err := s.AddTurn(ctx, conversation.Turn{Owner: "bob", ConversationID: id, Message: Text(conversation.NewID(base), "", inferencev1.Role_ROLE_USER, "x"), Now: base})
			return err
		}(),
	} {
		if !errors.Is(err, conversation.ErrNotFound) {
			t.Errorf("bob's %s of alice's conversation: %v", name, err)
		}
	}
	if hits, err := s.Search(ctx, "bob", []string{"secret"}, 10); err != nil || len(hits) != 0 {
		t.Fatalf("bob's search: %+v, %v", hits, err)
	}
	if page, _, err := s.List(ctx, "bob", 10, ""); err != nil || len(page) != 0 {
		t.Fatalf("bob's list: %+v, %v", page, err)
	}
	c, msgs, err := s.Get(ctx, "alice", id)
	if err != nil || c.Title != "secret plans" || c.Pinned || len(msgs) != 1 {
		t.Fatalf("alice's conversation changed: %+v %d %v", c, len(msgs), err)
	}
}

func search(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	a := Start(t, s, "alice", "Trip", "Plan a trip to Lisbon in spring", base)
	b := Start(t, s, "alice", "Lisbon food", "What should I eat?", base.Add(time.Minute))
	Start(t, s, "alice", "Other", "nothing to see", base.Add(2*time.Minute))
	hits, err := s.Search(ctx, "alice", []string{"lisb"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]conversation.Hit{}
	for _, h := range hits {
		found[h.Conversation.ID] = h
	}
	if len(hits) != 2 || found[a].MessageID == "" || found[a].Text != "Plan a trip to Lisbon in spring" || found[b].Text != "Lisbon food" || found[b].Conversation.Title != "Lisbon food" {
		t.Fatalf("search lisb: %+v", hits)
	}
	// Every term must match.
	if hits, _ := s.Search(ctx, "alice", []string{"lisbon", "spring"}, 10); len(hits) != 1 || hits[0].Conversation.ID != a {
		t.Fatalf("search lisbon spring: %+v", hits)
	}
	if hits, _ := s.Search(ctx, "alice", []string{"lisbon", "autumn"}, 10); len(hits) != 0 {
		t.Fatalf("search lisbon autumn: %+v", hits)
	}
	if hits, _ := s.Search(ctx, "alice", []string{"lisbon"}, 1); len(hits) != 1 {
		t.Fatalf("limit 1: %+v", hits)
	}
}

func limits(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	lim := conversation.Limits{ConversationsPerUser: 2, MessagesPerConversation: 4, MaxBytes: 100}
	var le *conversation.LimitError
	turn := func(convID, newID, parent, text string) (conversation.Summary, error) {
		return s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: convID, NewConversationID: newID, Title: "t", ParentID: parent,
			Message: Text(conversation.NewID(base), parent, inferencev1.Role_ROLE_USER, text), Limits: lim, Now: base})
	}
	id := conversation.NewID(base)
	c, err := turn("", id, "", "one")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := turn("", conversation.NewID(base), "", "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := turn("", conversation.NewID(base), "", "three"); !errors.As(err, &le) {
		t.Fatalf("a third conversation: %v", err)
	}
	if page, _, _ := s.List(ctx, "alice", 10, ""); len(page) != 2 {
		t.Fatalf("the refused conversation was kept: %d", len(page))
	}
	_, msgs, _ := s.Get(ctx, "alice", c.ID)
	a := Text(conversation.NewID(base), msgs[0].ID(), inferencev1.Role_ROLE_ASSISTANT, "ok")
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: a, Now: base}); err != nil {
		t.Fatal(err)
	}
	// 2 messages held: a turn and its answer fit (4), another turn would not.
	c, err = turn(id, "", a.ID(), "more")
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, _ = s.Get(ctx, "alice", id)
	a2 := Text(conversation.NewID(base), msgs[2].ID(), inferencev1.Role_ROLE_ASSISTANT, "fine")
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: a2, Now: base}); err != nil {
		t.Fatal(err)
	}
	if _, err := turn(id, "", a2.ID(), "and more"); !errors.As(err, &le) {
		t.Fatalf("a fifth message: %v", err)
	}
	// Replacing from the first answer frees room; bytes are checked too.
	if _, err := turn(id, "", a.ID(), string(make([]byte, 200))); !errors.As(err, &le) {
		t.Fatalf("too many bytes: %v", err)
	}
	if _, err := turn(id, "", a.ID(), "short"); err != nil {
		t.Fatalf("a replacing turn: %v", err)
	}
}

func answerAfterDelete(t *testing.T, s conversation.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	id := Start(t, s, "alice", "t", "hello", base)
	_, msgs, err := s.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	a := Text(conversation.NewID(base), msgs[0].ID(), inferencev1.Role_ROLE_ASSISTANT, "late")
	if err := s.AddAnswer(ctx, conversation.Answer{Owner: "alice", ConversationID: id, Message: a, Now: base}); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("an answer to a deleted conversation: %v", err)
	}
	if _, _, err := s.Get(ctx, "alice", id); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("the answer revived the conversation: %v", err)
	}
}
