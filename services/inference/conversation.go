package inference

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/conversation"
)

// AnswerWriteTimeout bounds the write of an answer, which runs on after the client is
// answered (or gone).
const AnswerWriteTimeout = 10 * time.Second

// attachmentPart is an image or a document of the new user turn, to put in the attachment
// store.
type attachmentPart struct {
	name, contentType string
	data              []byte
}

// turn is one request that continues a server-kept conversation: what prepareTurn found and
// decided, and what is stored.
type turn struct {
	a           *admission
	owner       string
	convID      string // existing, or new when isNew
	isNew       bool
	title       string
	parentID    string // "" for the start of the conversation
	user        conversation.Message
	attachments []attachmentPart
	assistantID string
	request     *inferencev1.ConverseRequest // what is sent to the model
	dropped     int
	settings    *conversationv1.TurnSettings // what the user turn keeps of the request's settings
	stored      bool                         // the user turn is stored: an answer follows, whatever happens
}

// proto returns where the turn is stored.
func (t *turn) proto() *inferencev1.ConversationTurn {
	return &inferencev1.ConversationTurn{
		ConversationId: t.convID, UserMessageId: t.user.ID(), AssistantMessageId: t.assistantID,
		Title: t.title, DroppedTurns: int32(t.dropped), //nolint:gosec // G115: at most the messages limit
	}
}

// prepareTurn checks a request with a conversation reference, loads the conversation's
// history along its chain to the parent, and assembles what is sent to the model within its
// context window. Nothing is stored yet.
func (s *Service) prepareTurn(ctx context.Context, a *admission, msg *inferencev1.ConverseRequest, ref *inferencev1.ConversationRef) (*turn, error) {
	if a.p.APIKey != "" {
		// A key reaches inference only: it may neither read nor write its owner's kept
		// conversations (their history would come back through the answer).
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("an API key cannot use kept conversations; send the whole conversation without a conversation reference"))
	}
	if s.conversations == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("this deployment keeps no conversations; send the whole conversation without a conversation reference"))
	}
	if !a.ent.HistoryEnabled() {
		return nil, conversation.ErrHistoryOff()
	}
	msgs := msg.GetMessages()
	if len(msgs) != 1 || msgs[0].GetRole() != inferencev1.Role_ROLE_USER {
		return nil, invalid("with a conversation reference, messages must hold exactly the new user turn (the service supplies the history)")
	}
	now := s.now()
	t := &turn{a: a, owner: conversation.Owner(a.p), convID: ref.GetConversationId(), parentID: ref.GetParentMessageId(), assistantID: conversation.NewID(now)}
	var chain []conversation.Message
	switch {
	case t.convID == "":
		if t.parentID != "" {
			return nil, invalid("conversation.parent_message_id must be empty when conversation.conversation_id is (a new conversation)")
		}
		t.isNew, t.convID, t.title = true, conversation.NewID(now), conversation.TitleFrom(firstText(msgs[0]))
	default:
		if err := conversation.CheckID("conversation.conversation_id", t.convID); err != nil {
			return nil, err
		}
		if t.parentID != "" && t.parentID != t.convID {
			if err := conversation.CheckID("conversation.parent_message_id", t.parentID); err != nil {
				return nil, err
			}
		}
		c, stored, err := s.conversations.Get(ctx, t.owner, t.convID)
		if err != nil {
			return nil, conversation.StoreError(ctx, s.log, "read a conversation", err)
		}
		t.title = c.Title
		if chain, err = chainTo(stored, t.parentID, t.convID); err != nil {
			return nil, err
		}
		t.parentID = ""
		if len(chain) > 0 {
			t.parentID = chain[len(chain)-1].ID()
		}
	}
	// What is sent: the history that fits the context window, then the new turn.
	history, ids := conversation.History(chain)
	maxOut := bedrock.MaxTokens(msg, bedrock.Limits{MaxOutputTokens: clampInt32(a.model.MaxOutputTokens)})
	w := conversation.Window{MaxTurns: bedrock.MaxTurns}
	if a.model.ContextWindow > 0 {
		w.InputTokens = max(1, a.model.ContextWindow-maxOut)
	}
	sent, dropped := conversation.Fit(msg.GetSystemPrompt(), history, msgs[0], w)
	t.dropped = dropped
	kept := ids[dropped:]
	for i, m := range sent[:len(sent)-1] {
		if m.GetRole() != inferencev1.Role_ROLE_USER {
			continue
		}
		if err := conversation.FillAttachments(ctx, s.attachments, t.owner, t.convID, kept[i], m.GetContent()); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "an attachment of the history could not be read; it is left out", slog.String("conversation", t.convID), slog.Any("error", err))
		}
		withoutUnsendable(m, a.model.Capabilities.Images, a.model.Capabilities.Documents)
	}
	t.request = proto.CloneOf(msg)
	t.request.Messages = sent
	t.request.Conversation = nil
	t.settings = conversation.StoredSettings(conversation.SettingsOf(msg.GetModelId(), msg.GetSystemPrompt(), msg.GetInferenceConfig(),
		msg.GetKnowledgeBaseId()), conversation.LatestSettings(chain))
	return t, s.prepareUser(t, msgs[0], now)
}

// prepareUser makes the stored form of the new user turn: its images and documents go to the
// attachment store, the message keeps their format (and a document its name) only.
func (s *Service) prepareUser(t *turn, m *inferencev1.Message, now time.Time) error {
	id := conversation.NewID(now)
	body := &conversationv1.ConversationMessage{
		Id: id, ParentId: t.parentID, Role: inferencev1.Role_ROLE_USER,
		State: conversationv1.MessageState_MESSAGE_STATE_COMPLETE, CreateTime: timestamppb.New(now),
	}
	var size int64
	for i, b := range m.GetContent() {
		img, doc := b.GetImage(), b.GetDocument()
		if img == nil && doc == nil {
			body.Content = append(body.Content, proto.CloneOf(b))
			continue
		}
		if s.attachments == nil {
			return connect.NewError(connect.CodeFailedPrecondition, errors.New("this deployment keeps no attachments: images and documents cannot be kept in a conversation; send them without a conversation reference"))
		}
		part := attachmentPart{name: conversation.AttachmentName(id, i)}
		if img != nil {
			part.contentType, part.data = imageType(img.GetFormat()), img.GetData()
			body.Content = append(body.Content, &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: &inferencev1.Image{Format: img.GetFormat()}}})
		} else {
			part.contentType, part.data = documentType(doc.GetFormat()), doc.GetData()
			body.Content = append(body.Content, &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Document{Document: &inferencev1.DocumentBlock{Format: doc.GetFormat(), Name: doc.GetName()}}})
		}
		t.attachments = append(t.attachments, part)
		size += int64(len(part.data))
	}
	n := proto.Size(body)
	if n > conversation.MaxMessageBytes {
		return invalid("the new turn holds %d bytes of text; a kept conversation's message holds at most %d", n, conversation.MaxMessageBytes)
	}
	// The settings go with the turn; a system prompt that would take the message past its
	// size is not kept (the turn is still sent with it).
	body.Settings = t.settings
	if n = proto.Size(body); n > conversation.MaxMessageBytes && body.GetSettings().GetSystemPrompt() != "" {
		body.Settings = proto.CloneOf(t.settings)
		body.Settings.SystemPrompt, body.Settings.SystemPromptNotKept = "", true
		n = proto.Size(body)
	}
	t.user = conversation.Message{Body: body, Bytes: int64(n) + size}
	return nil
}

// chainTo returns the stored messages up to and including the parent the new turn follows:
// parent "" means the latest message (an unanswered user turn at the end is replaced), the
// conversation's own id its start.
func chainTo(stored []conversation.Message, parent, convID string) ([]conversation.Message, error) {
	switch parent {
	case convID:
		return nil, nil
	case "":
		if n := len(stored); n > 0 && stored[n-1].Body.GetRole() == inferencev1.Role_ROLE_USER {
			return stored[:n-1], nil
		}
		return stored, nil
	}
	i := slices.IndexFunc(stored, func(m conversation.Message) bool { return m.ID() == parent })
	if i < 0 {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("no such message in the conversation"))
	}
	if stored[i].Body.GetRole() != inferencev1.Role_ROLE_ASSISTANT {
		return nil, invalid("conversation.parent_message_id must name an answer (or the conversation id, for its start): a user turn follows an answer")
	}
	return stored[:i+1], nil
}

// storeUser stores the new user turn (and its attachments) before the model is called.
func (s *Service) storeUser(ctx context.Context, t *turn) error {
	for _, p := range t.attachments {
		if err := s.attachments.Put(ctx, attachment.Key{Owner: t.owner, Conversation: t.convID, Name: p.name}, p.contentType, p.data); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "an attachment could not be stored", slog.String("conversation", t.convID), slog.Any("error", err))
			return connect.NewError(connect.CodeUnavailable, errors.New("the attachment store is unavailable; retry later"))
		}
	}
	now := s.now()
	ct := conversation.Turn{
		Owner: t.owner, ParentID: t.parentID, Message: t.user, Limits: s.convLimits, Now: now, Expires: s.expiry(now),
	}
	if t.isNew {
		ct.NewConversationID, ct.Title, ct.OwnerName = t.convID, t.title, t.a.p.Account()
	} else {
		ct.ConversationID = t.convID
	}
	if _, err := s.conversations.AddTurn(ctx, ct); err != nil {
		return conversation.StoreError(ctx, s.log, "store the user turn", err)
	}
	t.stored = true
	return nil
}

// expiry is when a conversation written at now expires; zero without retention.
func (s *Service) expiry(now time.Time) time.Time {
	if s.retentionDays <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(s.retentionDays) * 24 * time.Hour)
}

// storeAnswer starts writing the answer of a stored user turn, however the call ended:
// complete, stopped by the client (partial text kept) or failed (with its code). The write
// runs apart from the request (not canceled with it, bounded by AnswerWriteTimeout); wait
// for it with the returned function before the handler returns.
func (s *Service) storeAnswer(ctx context.Context, t *turn, res *bedrock.Result, metrics *typev1.InvocationMetrics, callErr error) (wait func()) {
	if t == nil || !t.stored {
		return func() {}
	}
	a := t.a
	now := s.now()
	body := &conversationv1.ConversationMessage{
		Id: t.assistantID, ParentId: t.user.ID(), Role: inferencev1.Role_ROLE_ASSISTANT, ModelId: a.model.ID,
		State: conversationv1.MessageState_MESSAGE_STATE_COMPLETE, Metrics: metrics, CreateTime: timestamppb.New(now),
		RequestId: a.req.RequestID,
	}
	if res != nil {
		body.StopReason = res.StopReason
		if res.Output != nil {
			for _, b := range res.Output.GetContent() {
				if b.GetText() != "" {
					body.Content = append(body.Content, b)
				}
			}
		}
	}
	switch code := connect.CodeOf(callErr); {
	case callErr == nil:
	case code == connect.CodeCanceled:
		body.State = conversationv1.MessageState_MESSAGE_STATE_STOPPED
	default:
		body.State = conversationv1.MessageState_MESSAGE_STATE_FAILED
		body.ErrorCode = code.String()
	}
	ans := conversation.Answer{Owner: t.owner, ConversationID: t.convID, Now: now, Expires: s.expiry(now),
		Message: conversation.Message{Body: body, Bytes: int64(proto.Size(body))}}
	done := make(chan struct{})
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AnswerWriteTimeout)
	go func() {
		defer close(done)
		defer cancel()
		if err := s.conversations.AddAnswer(wctx, ans); err != nil {
			level := slog.LevelError
			if errors.Is(err, conversation.ErrNotFound) {
				level = slog.LevelInfo // deleted or replaced meanwhile
			}
			s.log.LogAttrs(wctx, level, "the answer could not be stored", slog.String("request_id", a.req.RequestID),
				slog.String("conversation", t.convID), slog.Any("error", err))
		}
	}()
	return func() { <-done }
}

// withTurn adds where the turn was stored to err as a ConversationTurn detail, so a client
// whose request failed still learns the conversation's and messages' ids.
func withTurn(err error, t *turn) error {
	var ce *connect.Error
	if t == nil || !t.stored || !errors.As(err, &ce) {
		return err
	}
	if d, derr := connect.NewErrorDetail(t.proto()); derr == nil {
		ce.AddDetail(d)
	}
	return err
}

func firstText(m *inferencev1.Message) string {
	for _, b := range m.GetContent() {
		if t := b.GetText(); t != "" {
			return t
		}
	}
	return ""
}

// withoutUnsendable replaces by a note the image and document blocks of a history message
// that the model cannot take (images, documents false) or whose bytes could not be read.
func withoutUnsendable(m *inferencev1.Message, images, documents bool) {
	for i, b := range m.GetContent() {
		if img := b.GetImage(); img != nil && (!images || len(img.GetData()) == 0) {
			m.Content[i] = &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Text{Text: "[image]"}}
		}
		if doc := b.GetDocument(); doc != nil && (!documents || len(doc.GetData()) == 0) {
			m.Content[i] = &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Text{Text: "[document: " + doc.GetName() + "]"}}
		}
	}
}

// documentType is the MIME type a document is kept under in the attachment store.
func documentType(f inferencev1.DocumentFormat) string {
	switch f {
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_PDF:
		return "application/pdf"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_CSV:
		return "text/csv"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOC:
		return "application/msword"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLS:
		return "application/vnd.ms-excel"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_HTML:
		return "text/html"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_TXT:
		return "text/plain"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_MD:
		return "text/markdown"
	}
	return "application/octet-stream"
}

func imageType(f inferencev1.ImageFormat) string {
	switch f {
	case inferencev1.ImageFormat_IMAGE_FORMAT_PNG:
		return "image/png"
	case inferencev1.ImageFormat_IMAGE_FORMAT_JPEG:
		return "image/jpeg"
	case inferencev1.ImageFormat_IMAGE_FORMAT_GIF:
		return "image/gif"
	case inferencev1.ImageFormat_IMAGE_FORMAT_WEBP:
		return "image/webp"
	}
	return "application/octet-stream"
}
