package inference_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/inference"
)

// memAttachments is an attachment.Store in memory, for these tests.
type memAttachments struct {
	mu   sync.Mutex
	objs map[attachment.Key]attachment.Object
}

func newMemAttachments() *memAttachments {
	return &memAttachments{objs: map[attachment.Key]attachment.Object{}}
}

func (m *memAttachments) Put(_ context.Context, k attachment.Key, ct string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[k] = attachment.Object{ContentType: ct, Data: append([]byte(nil), data...)}
	return nil
}

func (m *memAttachments) Get(_ context.Context, k attachment.Key) (attachment.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[k]
	if !ok {
		return o, attachment.ErrNotFound
	}
	return o, nil
}

func (m *memAttachments) DeleteConversation(_ context.Context, owner, conv string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.objs {
		if k.Owner == owner && k.Conversation == conv {
			delete(m.objs, k)
		}
	}
	return nil
}

func (m *memAttachments) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objs)
}

// sentRecorder keeps what each Bedrock call was given.
type sentRecorder struct {
	inference.BedrockProvider
	mu   sync.Mutex
	sent [][]*inferencev1.Message
}

func (r *sentRecorder) note(conv *bedrock.Conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, conv.Request().GetMessages())
}

func (r *sentRecorder) ConverseChecked(ctx context.Context, conv *bedrock.Conversation) (*bedrock.Result, error) {
	r.note(conv)
	return r.BedrockProvider.ConverseChecked(ctx, conv)
}

func (r *sentRecorder) ConverseStreamChecked(ctx context.Context, conv *bedrock.Conversation, send bedrock.SendFunc) (*bedrock.Result, error) {
	r.note(conv)
	return r.BedrockProvider.ConverseStreamChecked(ctx, conv, send)
}

func (r *sentRecorder) last() []*inferencev1.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[len(r.sent)-1]
}

func (h *harness) conversations(who string) conversationv1connect.ConversationServiceClient {
	hc := &http.Client{Transport: bearer{token: tokenFor(h.t, who), next: http.DefaultTransport}}
	return conversationv1connect.NewConversationServiceClient(hc, h.url)
}

// messagesOf waits (up to 10 s) until alice's conversation holds n messages and returns them.
func (h *harness) messagesOf(who, id string, n int) []*conversationv1.ConversationMessage {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := h.conversations(who).GetConversation(context.Background(), &conversationv1.GetConversationRequest{ConversationId: id})
		if err != nil {
			h.t.Fatalf("GetConversation: %v", err)
		}
		if len(res.GetMessages()) == n {
			return res.GetMessages()
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("conversation %s holds %d messages, want %d", id, len(res.GetMessages()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ref(conv, parent string) *inferencev1.ConversationRef {
	return &inferencev1.ConversationRef{ConversationId: conv, ParentMessageId: parent}
}

// TestConversationTurns continues a conversation three times (unary and streamed): each
// turn is stored with its answer, the history goes to the model, and a reply from an earlier
// answer replaces what followed it.
func TestConversationTurns(t *testing.T) {
	t.Parallel()
	rec := &sentRecorder{}
	h := newHarness(t, options{conversations: true, wrapBedrock: func(b inference.BedrockProvider) inference.BedrockProvider {
		rec.BedrockProvider = b
		return rec
	}})
	ctx := context.Background()
	c := h.client("alice")
	first := ask(novaL, "Plan a   trip to Lisbon in spring, with the museums worth seeing and where to eat")
	first.Conversation = ref("", "")
	res, err := c.Converse(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	turn := res.GetConversation()
	if turn.GetConversationId() == "" || turn.GetUserMessageId() == "" || turn.GetAssistantMessageId() == "" ||
		turn.GetTitle() != "Plan a trip to Lisbon in spring, with the museums worth…" || turn.GetDroppedTurns() != 0 {
		t.Fatalf("turn = %v", turn)
	}
	msgs := h.messagesOf("alice", turn.GetConversationId(), 2)
	if msgs[0].GetId() != turn.GetUserMessageId() || msgs[1].GetId() != turn.GetAssistantMessageId() ||
		msgs[1].GetState() != conversationv1.MessageState_MESSAGE_STATE_COMPLETE || msgs[1].GetContent()[0].GetText() != res.GetOutput().GetContent()[0].GetText() ||
		msgs[1].GetModelId() != novaL || msgs[1].GetMetrics().GetOutputTokens() == 0 || msgs[1].GetRequestId() != res.GetRequestId() ||
		msgs[1].GetStopReason() != inferencev1.StopReason_STOP_REASON_END_TURN {
		t.Fatalf("stored messages %v", msgs)
	}
	// The new conversation keeps its owner's user name for the administrators' counts.
	if counts, _, err := h.conv.CountOwners(ctx, 10, ""); err != nil || len(counts) != 1 || counts[0].Name != "alice" || counts[0].Conversations != 1 {
		t.Fatalf("owner counts %+v, %v", counts, err)
	}
	// The second turn, streamed: the conversation event follows start; the history is sent.
	second := streamOf(ask(novaL, "And in autumn?"))
	second.Conversation = ref(turn.GetConversationId(), "")
	s, err := c.ConverseStream(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 4 || evs[0].GetStart() == nil || evs[1].GetConversation().GetConversationId() != turn.GetConversationId() {
		t.Fatalf("events %v", evs)
	}
	turn2 := evs[1].GetConversation()
	if sent := rec.last(); len(sent) != 3 || sent[0].GetContent()[0].GetText() != first.GetMessages()[0].GetContent()[0].GetText() || sent[2].GetContent()[0].GetText() != "And in autumn?" {
		t.Fatalf("sent %v", sent)
	}
	msgs = h.messagesOf("alice", turn.GetConversationId(), 4)
	if msgs[2].GetParentId() != msgs[1].GetId() || msgs[3].GetId() != turn2.GetAssistantMessageId() {
		t.Fatalf("after the second turn: %v", msgs)
	}
	// A reply from the first answer replaces the second exchange.
	edit := ask(novaL, "And in winter?")
	edit.Conversation = ref(turn.GetConversationId(), turn.GetAssistantMessageId())
	if _, err := c.Converse(ctx, edit); err != nil {
		t.Fatal(err)
	}
	msgs = h.messagesOf("alice", turn.GetConversationId(), 4)
	if msgs[2].GetContent()[0].GetText() != "And in winter?" {
		t.Fatalf("after the edit: %v", msgs)
	}
	// From the start (the conversation's own id): one exchange is left.
	restart := ask(novaL, "Start over")
	restart.Conversation = ref(turn.GetConversationId(), turn.GetConversationId())
	if _, err := c.Converse(ctx, restart); err != nil {
		t.Fatal(err)
	}
	if sent := rec.last(); len(sent) != 1 {
		t.Fatalf("a restart sent %d messages", len(sent))
	}
	h.messagesOf("alice", turn.GetConversationId(), 2)
}

// TestConversationStopped cancels a streamed answer: it is stored as stopped with its
// partial text.
func TestConversationStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true, aws: localaws.Config{TokensPerSecond: 100}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := streamOf(ask(haiku, "a very long answer please"))
	req.Conversation = ref("", "")
	s, err := h.client("alice").ConverseStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var turn *inferencev1.ConversationTurn
	for s.Receive() {
		if c := s.Msg().GetConversation(); c != nil {
			turn = c
		}
		if s.Msg().GetDelta() != nil {
			break
		}
	}
	if turn == nil {
		t.Fatalf("no conversation event before the first delta: %v", s.Err())
	}
	cancel()
	_ = s.Close()
	msgs := h.messagesOf("alice", turn.GetConversationId(), 2)
	a := msgs[1]
	full := localaws.AnswerFor("a very long answer please")
	if a.GetState() != conversationv1.MessageState_MESSAGE_STATE_STOPPED || len(a.GetContent()) != 1 ||
		!strings.HasPrefix(full, a.GetContent()[0].GetText()) || len(a.GetContent()[0].GetText()) >= len(full) {
		t.Fatalf("stopped answer %v", a)
	}
}

// TestConversationFailed stores a failed answer with the error's code, and the error carries
// where the turn was stored.
func TestConversationFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	bothWays(t, "throttled", func(t *testing.T, streamed bool) {
		req := ask(haiku, "fail please [[fault:throttle]]")
		req.Conversation = ref("", "")
		var err error
		if streamed {
			sr := streamOf(req)
			sr.Conversation = req.Conversation
			s, serr := h.client("alice").ConverseStream(context.Background(), sr)
			if serr != nil {
				t.Fatal(serr)
			}
			_, err = drain(s)
		} else {
			_, err = h.client("alice").Converse(context.Background(), req)
		}
		if connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Fatalf("err = %v", err)
		}
		var turn *inferencev1.ConversationTurn
		var ce *connect.Error
		if errors.As(err, &ce) {
			for _, d := range ce.Details() {
				if m, derr := d.Value(); derr == nil {
					if ct, ok := m.(*inferencev1.ConversationTurn); ok {
						turn = ct
					}
				}
			}
		}
		if turn == nil {
			t.Fatal("the error carries no ConversationTurn")
		}
		msgs := h.messagesOf("alice", turn.GetConversationId(), 2)
		if msgs[1].GetState() != conversationv1.MessageState_MESSAGE_STATE_FAILED || msgs[1].GetErrorCode() != "resource_exhausted" {
			t.Fatalf("failed answer %v", msgs[1])
		}
		// The next turn leaves the failed exchange out of what is sent, and replaces it.
		next := ask(haiku, "try again")
		next.Conversation = ref(turn.GetConversationId(), "")
		if _, err := h.client("alice").Converse(context.Background(), next); err != nil {
			t.Fatal(err)
		}
		h.messagesOf("alice", turn.GetConversationId(), 4)
	})
}

// TestConversationDroppedTurns fits a long history to a small context window.
func TestConversationDroppedTurns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	ctx := context.Background()
	// Titan Text Express: an 8k context window; max_tokens 3000 leaves ~5,000 tokens of input.
	req := ask(titan, strings.Repeat("long words ", 1200))
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr(int32(3000))}
	req.Conversation = ref("", "")
	res, err := h.client("alice").Converse(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetConversation().GetConversationId()
	var dropped int32
	for range 4 {
		next := ask(titan, strings.Repeat("more words ", 1200))
		next.InferenceConfig = req.InferenceConfig
		next.Conversation = ref(id, "")
		r, err := h.client("alice").Converse(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		dropped = r.GetConversation().GetDroppedTurns()
	}
	if dropped == 0 || dropped%2 != 0 {
		t.Fatalf("dropped_turns = %d, want an even number above 0", dropped)
	}
}

// TestConversationRefusals is a table of bad conversation requests, each with its code;
// nothing is stored.
func TestConversationRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true, convLimits: conversation.Limits{ConversationsPerUser: 1}})
	ctx := context.Background()
	start := ask(novaL, "mine")
	start.Conversation = ref("", "")
	res, err := h.client("alice").Converse(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	alices := res.GetConversation().GetConversationId()
	userID := res.GetConversation().GetUserMessageId()
	two := ask(novaL, "x")
	two.Messages = append([]*inferencev1.Message{user(text("a")), assistant(text("b"))}, two.Messages...)
	for _, tt := range []struct {
		name string
		who  string
		req  *inferencev1.ConverseRequest
		ref  *inferencev1.ConversationRef
		code connect.Code
	}{
		{"another person continues alice's conversation", "dana", ask(novaL, "hi"), ref(alices, ""), connect.CodeNotFound},
		{"a malformed conversation id", "alice", ask(novaL, "hi"), ref("../../etc", ""), connect.CodeInvalidArgument},
		{"a malformed parent id", "alice", ask(novaL, "hi"), ref(alices, "x'; DROP"), connect.CodeInvalidArgument},
		{"an unknown parent", "alice", ask(novaL, "hi"), ref(alices, conversation.NewID(time.Now())), connect.CodeNotFound},
		{"a user turn as parent", "alice", ask(novaL, "hi"), ref(alices, userID), connect.CodeInvalidArgument},
		{"a parent without a conversation", "alice", ask(novaL, "hi"), ref("", alices), connect.CodeInvalidArgument},
		{"the whole history with a reference", "alice", two, ref(alices, ""), connect.CodeInvalidArgument},
		{"a second conversation over the limit", "alice", ask(novaL, "another"), ref("", ""), connect.CodeResourceExhausted},
		{"history off (carol, Contractors)", "carol", ask(novaL, "hi"), ref("", ""), connect.CodeFailedPrecondition},
		{"a machine client", "machine", ask(novaL, "hi"), ref("", ""), connect.CodeFailedPrecondition},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Conversation = tt.ref
			_, err := h.client(tt.who).Converse(ctx, tt.req)
			if connect.CodeOf(err) != tt.code {
				t.Fatalf("err = %v, want %v", err, tt.code)
			}
		})
	}
	h.messagesOf("alice", alices, 2)
	// carol's chat without a reference works, and keeps nothing.
	if _, err := h.client("carol").Converse(ctx, ask(novaL, "hi")); err != nil {
		t.Fatalf("carol's stateless chat: %v", err)
	}
	list, err := h.conversations("carol").ListConversations(ctx, &conversationv1.ListConversationsRequest{})
	if err != nil || list.GetHistory().GetEnabled() || len(list.GetConversations()) != 0 {
		t.Fatalf("carol's list: %v, %v", list, err)
	}
}

// TestConversationImages keeps an image of a user turn in the attachment store, returns it
// with the conversation, and deletes it with the conversation.
func TestConversationImages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	req := &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(text("what is this?"),
		&inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: &inferencev1.Image{Format: inferencev1.ImageFormat_IMAGE_FORMAT_PNG, Data: png}}})},
		Conversation: ref("", "")}
	res, err := h.client("alice").Converse(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetConversation().GetConversationId()
	msgs := h.messagesOf("alice", id, 2)
	if img := msgs[0].GetContent()[1].GetImage(); string(img.GetData()) != string(png) || h.atts.count() != 1 {
		t.Fatalf("stored image %v, %d attachments", img, h.atts.count())
	}
	if _, err := h.conversations("alice").DeleteConversation(ctx, &conversationv1.DeleteConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	if h.atts.count() != 0 {
		t.Fatalf("%d attachments left after the delete", h.atts.count())
	}
}

// TestConversationPrivacy is a table of attacks on alice's conversation by another person
// (dana) and a machine client, and of malformed ids: each gets its precise refusal, and
// alice's conversation is unchanged.
func TestConversationPrivacy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	ctx := context.Background()
	start := ask(novaL, "my secret plan for Lisbon")
	start.Conversation = ref("", "")
	res, err := h.client("alice").Converse(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetConversation().GetConversationId()
	h.messagesOf("alice", id, 2)
	never := conversation.NewID(time.Now())
	mask := func(paths ...string) *conversationv1.UpdateConversationRequest {
		r := &conversationv1.UpdateConversationRequest{Conversation: &conversationv1.Conversation{Id: id, Title: "stolen", Pinned: true}}
		r.UpdateMask = &fieldmaskpb.FieldMask{Paths: paths}
		return r
	}
	withID := func(r *conversationv1.UpdateConversationRequest, id string) *conversationv1.UpdateConversationRequest {
		r.Conversation.Id = id
		return r
	}
	for _, tt := range []struct {
		name string
		who  string
		call func(c conversationv1connect.ConversationServiceClient) error
		code connect.Code
	}{
		{"dana gets alice's", "dana", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id})
			return err
		}, connect.CodeNotFound},
		{"dana renames alice's", "dana", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.UpdateConversation(ctx, mask("title", "pinned"))
			return err
		}, connect.CodeNotFound},
		{"dana deletes alice's", "dana", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.DeleteConversation(ctx, &conversationv1.DeleteConversationRequest{ConversationId: id})
			return err
		}, connect.CodeNotFound},
		// Machine clients have no scope for the service (authn.DefaultServiceScopes).
		{"a machine deletes alice's", "machine", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.DeleteConversation(ctx, &conversationv1.DeleteConversationRequest{ConversationId: id})
			return err
		}, connect.CodePermissionDenied},
		{"alice gets an id that never was", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: never})
			return err
		}, connect.CodeNotFound},
		{"a malformed id", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: "../" + id})
			return err
		}, connect.CodeInvalidArgument},
		{"an empty id", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.DeleteConversation(ctx, &conversationv1.DeleteConversationRequest{})
			return err
		}, connect.CodeInvalidArgument},
		{"an upper-case id", "dana", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.UpdateConversation(ctx, withID(mask("title"), strings.ToUpper(id)))
			return err
		}, connect.CodeInvalidArgument},
		{"a mask naming another field", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.UpdateConversation(ctx, mask("title", "model_id"))
			return err
		}, connect.CodeInvalidArgument},
		{"an empty mask", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.UpdateConversation(ctx, mask())
			return err
		}, connect.CodeInvalidArgument},
		{"a forged page token", "dana", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.ListConversations(ctx, &conversationv1.ListConversationsRequest{PageToken: "eyJwIjpmYWxzZX0"})
			return err
		}, connect.CodeInvalidArgument},
		{"a page too large", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.ListConversations(ctx, &conversationv1.ListConversationsRequest{PageSize: 201})
			return err
		}, connect.CodeInvalidArgument},
		{"a query without words", "alice", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.SearchConversations(ctx, &conversationv1.SearchConversationsRequest{Query: `"*" AND OR(`[:3]})
			return err
		}, connect.CodeInvalidArgument},
		{"carol (history off) reads", "carol", func(c conversationv1connect.ConversationServiceClient) error {
			_, err := c.GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id})
			return err
		}, connect.CodeFailedPrecondition},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(h.conversations(tt.who)); connect.CodeOf(err) != tt.code {
				t.Fatalf("err = %v, want %v", err, tt.code)
			}
		})
	}
	// dana's search and list find nothing of alice's.
	found, err := h.conversations("dana").SearchConversations(ctx, &conversationv1.SearchConversationsRequest{Query: "secret lisbon"})
	if err != nil || len(found.GetResults()) != 0 {
		t.Fatalf("dana's search: %v, %v", found, err)
	}
	list, err := h.conversations("dana").ListConversations(ctx, &conversationv1.ListConversationsRequest{})
	if err != nil || len(list.GetConversations()) != 0 || !list.GetHistory().GetEnabled() {
		t.Fatalf("dana's list: %v, %v", list, err)
	}
	// alice's is unchanged, and she finds it, with the match highlighted.
	got, err := h.conversations("alice").GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id})
	if err != nil || got.GetConversation().GetTitle() != "my secret plan for Lisbon" || got.GetConversation().GetPinned() || len(got.GetMessages()) != 2 {
		t.Fatalf("alice's conversation: %v, %v", got, err)
	}
	found, err = h.conversations("alice").SearchConversations(ctx, &conversationv1.SearchConversationsRequest{Query: "LISB"})
	if err != nil || len(found.GetResults()) != 1 {
		t.Fatalf("alice's search: %v, %v", found, err)
	}
	sn := found.GetResults()[0].GetSnippet()
	if len(sn.GetHighlights()) == 0 || sn.GetText()[sn.GetHighlights()[0].GetStart():sn.GetHighlights()[0].GetEnd()] != "Lisbon" {
		t.Fatalf("snippet %v", sn)
	}
	// alice renames and pins it; the list shows it.
	upd, err := h.conversations("alice").UpdateConversation(ctx, &conversationv1.UpdateConversationRequest{
		Conversation: &conversationv1.Conversation{Id: id, Title: "  Trip  ", Pinned: true}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title", "pinned"}}})
	if err != nil || upd.GetConversation().GetTitle() != "Trip" || !upd.GetConversation().GetPinned() {
		t.Fatalf("rename: %v, %v", upd, err)
	}
}

// heldAnswers is a conversation store whose AddAnswer waits for release.
type heldAnswers struct {
	conversation.Store
	writing chan struct{}
	release chan struct{}
}

func (h *heldAnswers) AddAnswer(ctx context.Context, a conversation.Answer) error {
	close(h.writing)
	<-h.release
	return h.Store.AddAnswer(ctx, a)
}

// TestAnswerWriteOffTheLastChunk holds the answer's write: the stream's stop and metadata
// events still reach the client while it is pending, and the write completes after.
func TestAnswerWriteOffTheLastChunk(t *testing.T) {
	t.Parallel()
	held := &heldAnswers{writing: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, options{conversations: true, wrapConv: func(s conversation.Store) conversation.Store {
		held.Store = s
		return held
	}})
	req := streamOf(ask(novaL, "hello"))
	req.Conversation = ref("", "")
	s, err := h.client("alice").ConverseStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var turn *inferencev1.ConversationTurn
	for s.Receive() {
		if c := s.Msg().GetConversation(); c != nil {
			turn = c
		}
		if s.Msg().GetMetadata() != nil {
			break
		}
	}
	if turn == nil || s.Err() != nil {
		t.Fatalf("no conversation event or metadata: %v", s.Err())
	}
	<-held.writing // the write began, and is held: the client has its last event all the same
	close(held.release)
	if _, err := drain(s); err != nil {
		t.Fatal(err)
	}
	msgs := h.messagesOf("alice", turn.GetConversationId(), 2)
	if msgs[1].GetState() != conversationv1.MessageState_MESSAGE_STATE_COMPLETE {
		t.Fatalf("answer %v", msgs[1])
	}
}

// TestConversationDocuments keeps a document of a kept turn in the attachment store (the
// stored message holds its name and format only), gives it back with GetConversation, sends it
// to the model again with the next turn, and deletes it with the conversation.
func TestConversationDocuments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	ctx := context.Background()
	notes := []byte("region,revenue\nnorth,12\n")
	doc := &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Document{Document: &inferencev1.DocumentBlock{
		Format: inferencev1.DocumentFormat_DOCUMENT_FORMAT_CSV, Name: "sales", Data: notes}}}
	first, err := h.client("alice").Converse(ctx, &inferencev1.ConverseRequest{ModelId: novaL,
		Messages: []*inferencev1.Message{user(text("sum the revenue"), doc)}, Conversation: ref("", "")})
	if err != nil {
		t.Fatal(err)
	}
	id := first.GetConversation().GetConversationId()
	msgs := h.messagesOf("alice", id, 2)
	if d := msgs[0].GetContent()[1].GetDocument(); string(d.GetData()) != string(notes) || d.GetName() != "sales" || h.atts.count() != 1 {
		t.Fatalf("stored document %v, %d attachments", d, h.atts.count())
	}
	next := ask(novaL, "and per region?")
	next.Conversation = ref(id, first.GetConversation().GetAssistantMessageId())
	res, err := h.client("alice").Converse(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.GetOutput().GetContent()[0].GetText(); !strings.Contains(got, "sales (csv") {
		t.Fatalf("the next turn's answer %q: the document was not sent again", got)
	}
	if _, err := h.conversations("alice").DeleteConversation(ctx, &conversationv1.DeleteConversationRequest{ConversationId: id}); err != nil {
		t.Fatal(err)
	}
	if h.atts.count() != 0 {
		t.Fatalf("%d attachments left after the delete", h.atts.count())
	}
}

// TestConversationSettings: each kept user turn keeps what it was sent with (the system
// prompt once while it does not change), GetConversation returns the latest whole, and the
// messages it returns carry none.
func TestConversationSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{conversations: true})
	ctx := context.Background()
	c := h.client("alice")
	first := ask(novaL, "Summarise the plan")
	first.SystemPrompt = "Answer as a travel agent."
	first.InferenceConfig = &inferencev1.InferenceConfig{Temperature: proto.Float32(0.2), MaxTokens: proto.Int32(300)}
	first.Conversation = ref("", "")
	res, err := c.Converse(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetConversation().GetConversationId()
	second := streamOf(ask(novaL, "Shorter, please"))
	second.SystemPrompt = first.SystemPrompt
	second.InferenceConfig = &inferencev1.InferenceConfig{Temperature: proto.Float32(0.7)}
	second.Conversation = ref(id, "")
	s, err := c.ConverseStream(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(s); err != nil {
		t.Fatal(err)
	}
	h.messagesOf("alice", id, 4)
	got, err := h.conversations("alice").GetConversation(ctx, &conversationv1.GetConversationRequest{ConversationId: id})
	if err != nil {
		t.Fatal(err)
	}
	want := &conversationv1.TurnSettings{ModelId: novaL, SystemPrompt: "Answer as a travel agent.",
		InferenceConfig: &inferencev1.InferenceConfig{Temperature: proto.Float32(0.7)}}
	if !proto.Equal(got.GetSettings(), want) {
		t.Errorf("settings %v, want %v", got.GetSettings(), want)
	}
	for _, m := range got.GetMessages() {
		if m.GetSettings() != nil {
			t.Errorf("message %s carries settings in the response", m.GetId())
		}
	}
	// As stored: the second turn does not repeat the system prompt.
	owners, _, err := h.conv.CountOwners(ctx, 10, "")
	if err != nil || len(owners) != 1 {
		t.Fatalf("owners %v, %v", owners, err)
	}
	_, stored, err := h.conv.Get(ctx, owners[0].Owner, id)
	if err != nil {
		t.Fatal(err)
	}
	if s0, s2 := stored[0].Body.GetSettings(), stored[2].Body.GetSettings(); s0.GetSystemPrompt() != first.SystemPrompt || s0.GetInferenceConfig().GetMaxTokens() != 300 ||
		s2.GetSystemPrompt() != "" || !s2.GetSystemPromptAsBefore() {
		t.Errorf("stored settings %v and %v", s0, s2)
	}
}
