package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// Page sizes of ListConversations and SearchConversations.
const (
	DefaultPageSize   = 50
	MaxPageSize       = 200
	DefaultSearchSize = 20
	MaxSearchSize     = 50
)

// Config configures a Service.
type Config struct {
	// Store keeps the conversations; required.
	Store Store
	// Attachments keeps their images; nil when the deployment keeps none (deleting a
	// conversation then deletes no attachment, and images are not returned).
	Attachments attachment.Store
	// Policy returns the current policy (it decides whether history is kept); required.
	Policy func() *policy.Policy
	// RetentionDays is how long a conversation is kept after its latest message; 0 keeps it.
	RetentionDays int
	// Logger receives structured logs, never content; nil discards them.
	Logger *slog.Logger
}

// Service is the ConversationService handler. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
}

var _ conversationv1connect.ConversationServiceHandler = (*Service)(nil)

// NewService returns a ConversationService for cfg. Mount it with
// conversationv1connect.NewConversationServiceHandler behind the authn middleware.
func NewService(cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log}
}

// Owner returns the owner of p's conversations (its token subject).
func Owner(p *principal.Principal) string { return p.Subject }

// caller returns the verified caller and whether history is kept for it.
func (s *Service) caller(ctx context.Context) (*principal.Principal, bool, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeInference)
	if err != nil {
		return nil, false, err
	}
	return p, s.cfg.Policy().Entitlements(p).HistoryEnabled(), nil
}

// ErrHistoryOff is the refusal of a request that needs history when the policy keeps none.
func ErrHistoryOff() *connect.Error {
	return connect.NewError(connect.CodeFailedPrecondition, errors.New("conversation history is off for your groups: nothing is kept on the server; send the whole conversation with each request"))
}

// ListConversations lists the caller's conversations, pinned first, then newest first.
func (s *Service) ListConversations(ctx context.Context, req *conversationv1.ListConversationsRequest) (*conversationv1.ListConversationsResponse, error) {
	p, on, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &conversationv1.ListConversationsResponse{History: &conversationv1.HistorySettings{Enabled: on, RetentionDays: int32(s.cfg.RetentionDays)}} //nolint:gosec // G115: validated at start-up
	if !on {
		return out, nil
	}
	size, err := pageSize(req.GetPageSize(), DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	list, next, err := s.cfg.Store.List(ctx, Owner(p), size, req.GetPageToken())
	if err != nil {
		return nil, s.storeError(ctx, "list conversations", err)
	}
	for _, c := range list {
		out.Conversations = append(out.Conversations, SummaryProto(c))
	}
	out.NextPageToken = next
	return out, nil
}

// GetConversation returns one of the caller's conversations with its messages.
func (s *Service) GetConversation(ctx context.Context, req *conversationv1.GetConversationRequest) (*conversationv1.GetConversationResponse, error) {
	p, on, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, ErrHistoryOff()
	}
	if err := checkID("conversation_id", req.GetConversationId()); err != nil {
		return nil, err
	}
	c, msgs, err := s.cfg.Store.Get(ctx, Owner(p), req.GetConversationId())
	if err != nil {
		return nil, s.storeError(ctx, "read a conversation", err)
	}
	out := &conversationv1.GetConversationResponse{Conversation: SummaryProto(c), Settings: LatestSettings(msgs)}
	for _, m := range msgs {
		body := m.Body
		body.Settings = nil // in the response's settings, whole
		if err := FillAttachments(ctx, s.cfg.Attachments, Owner(p), c.ID, body.GetId(), body.GetContent()); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "an attachment of a conversation could not be read", slog.String("conversation", c.ID), slog.Any("error", err))
		}
		out.Messages = append(out.Messages, body)
	}
	return out, nil
}

// UpdateConversation renames or pins one of the caller's conversations.
func (s *Service) UpdateConversation(ctx context.Context, req *conversationv1.UpdateConversationRequest) (*conversationv1.UpdateConversationResponse, error) {
	p, on, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, ErrHistoryOff()
	}
	in := req.GetConversation()
	if err := checkID("conversation.id", in.GetId()); err != nil {
		return nil, err
	}
	patch := Patch{Now: time.Now()}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, invalid("update_mask must name \"title\", \"pinned\" or both")
	}
	for _, path := range paths {
		switch path {
		case "title":
			title := strings.TrimSpace(in.GetTitle())
			if err := checkTitle(title); err != nil {
				return nil, err
			}
			patch.Title = &title
		case "pinned":
			pinned := in.GetPinned()
			patch.Pinned = &pinned
		default:
			return nil, invalid("update_mask may name \"title\" and \"pinned\" only, not %q", path)
		}
	}
	c, err := s.cfg.Store.Update(ctx, Owner(p), in.GetId(), patch)
	if err != nil {
		return nil, s.storeError(ctx, "change a conversation", err)
	}
	return &conversationv1.UpdateConversationResponse{Conversation: SummaryProto(c)}, nil
}

// DeleteConversation deletes one of the caller's conversations, its messages and its
// attachments. It works with history off too, so that what was kept before can go.
func (s *Service) DeleteConversation(ctx context.Context, req *conversationv1.DeleteConversationRequest) (*conversationv1.DeleteConversationResponse, error) {
	p, _, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.GetConversationId()
	if err := checkID("conversation_id", id); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.Delete(ctx, Owner(p), id); err != nil {
		return nil, s.storeError(ctx, "delete a conversation", err)
	}
	if s.cfg.Attachments != nil {
		if err := s.cfg.Attachments.DeleteConversation(ctx, Owner(p), id); err != nil {
			// The messages are gone and nothing names the attachments any more; retention
			// (the bucket's lifecycle) removes them. Say so in the log, not to the caller.
			s.log.LogAttrs(ctx, slog.LevelError, "the attachments of a deleted conversation could not be deleted",
				slog.String("conversation", id), slog.Any("error", err))
		}
	}
	return &conversationv1.DeleteConversationResponse{}, nil
}

// SearchConversations finds the caller's conversations by title and message text.
func (s *Service) SearchConversations(ctx context.Context, req *conversationv1.SearchConversationsRequest) (*conversationv1.SearchConversationsResponse, error) {
	p, on, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, ErrHistoryOff()
	}
	q := req.GetQuery()
	if n := utf8.RuneCountInString(q); n > MaxQueryChars || !utf8.ValidString(q) {
		return nil, invalid("query must have at most %d characters of valid UTF-8", MaxQueryChars)
	}
	terms := Terms(q)
	if len(terms) == 0 {
		return nil, invalid("query must hold at least one word")
	}
	size, err := pageSize(req.GetPageSize(), DefaultSearchSize, MaxSearchSize)
	if err != nil {
		return nil, err
	}
	hits, err := s.cfg.Store.Search(ctx, Owner(p), terms, size)
	if err != nil {
		return nil, s.storeError(ctx, "search conversations", err)
	}
	out := &conversationv1.SearchConversationsResponse{}
	for _, h := range hits {
		sn := MakeSnippet(h.Text, terms)
		ps := &conversationv1.Snippet{Text: sn.Text}
		for _, r := range sn.Highlights {
			ps.Highlights = append(ps.Highlights, &conversationv1.Highlight{Start: int32(r[0]), End: int32(r[1])}) //nolint:gosec // G115: a snippet is short
		}
		out.Results = append(out.Results, &conversationv1.SearchResult{Conversation: SummaryProto(h.Conversation), MessageId: h.MessageID, Snippet: ps})
	}
	return out, nil
}

// SummaryProto returns c as the API's Conversation.
func SummaryProto(c Summary) *conversationv1.Conversation {
	out := &conversationv1.Conversation{
		Id: c.ID, Title: c.Title, Pinned: c.Pinned, CreateTime: timestamppb.New(c.Created), UpdateTime: timestamppb.New(c.Updated),
		ModelId: c.ModelID, MessageCount: int32(c.MessageCount), //nolint:gosec // G115: bounded by the messages limit
	}
	if !c.Expires.IsZero() {
		out.ExpireTime = timestamppb.New(c.Expires)
	}
	return out
}

// FillAttachments reads from the attachment store the bytes of the image and document blocks
// of a stored message (blocks, changed in place). Without a store, they stay without data.
func FillAttachments(ctx context.Context, st attachment.Store, owner, conv, messageID string, blocks []*inferencev1.ContentBlock) error {
	var errs []error
	for i, b := range blocks {
		img, doc := b.GetImage(), b.GetDocument()
		if st == nil || (img == nil && doc == nil) || len(img.GetData()) > 0 || len(doc.GetData()) > 0 {
			continue
		}
		obj, err := st.Get(ctx, attachment.Key{Owner: owner, Conversation: conv, Name: AttachmentName(messageID, i)})
		if err != nil {
			errs = append(errs, fmt.Errorf("attachment %d of %s: %w", i, messageID, err))
			continue
		}
		if img != nil {
			img.Data = obj.Data
		} else {
			doc.Data = obj.Data
		}
	}
	return errors.Join(errs...)
}

// StoreError returns the Connect error for a store error: NOT_FOUND, RESOURCE_EXHAUSTED
// (a limit), INVALID_ARGUMENT (a page token), UNAVAILABLE (logged) or INTERNAL (logged).
func StoreError(ctx context.Context, log *slog.Logger, op string, err error) *connect.Error {
	var le *LimitError
	switch {
	case errors.Is(err, ErrNotFound):
		return connect.NewError(connect.CodeNotFound, errors.New("no such conversation"))
	case errors.As(err, &le):
		return connect.NewError(connect.CodeResourceExhausted, le)
	case errors.Is(err, ErrBadPageToken):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, ErrUnavailable):
		log.LogAttrs(ctx, slog.LevelError, op+": conversation store unavailable", slog.Any("error", err))
		return connect.NewError(connect.CodeUnavailable, errors.New("conversation store unavailable; retry later"))
	}
	log.LogAttrs(ctx, slog.LevelError, op+" failed", slog.Any("error", err))
	return connect.NewError(connect.CodeInternal, fmt.Errorf("could not %s", op))
}

func (s *Service) storeError(ctx context.Context, op string, err error) *connect.Error {
	return StoreError(ctx, s.log, op, err)
}

func invalid(format string, args ...any) *connect.Error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}

// checkID refuses an id that is not of the form NewID makes: INVALID_ARGUMENT, whoever's
// it might be (the form is public, so this tells nothing about anyone's data).
func checkID(field, id string) error {
	if id == "" {
		return invalid("%s is required", field)
	}
	if !ValidID(id) {
		return invalid("%s is not a conversation id", field)
	}
	return nil
}

// CheckID is checkID for other packages: INVALID_ARGUMENT for an empty or malformed id.
func CheckID(field, id string) error { return checkID(field, id) }

func checkTitle(title string) error {
	n := utf8.RuneCountInString(title)
	if n == 0 || n > MaxTitleChars || !utf8.ValidString(title) {
		return invalid("title must have 1 to %d characters", MaxTitleChars)
	}
	if strings.IndexFunc(title, unicode.IsControl) >= 0 {
		return invalid("title must not hold control characters")
	}
	return nil
}

func pageSize(n, def, maxSize int32) (int, error) {
	switch {
	case n == 0:
		return int(def), nil
	case n < 0 || n > maxSize:
		return 0, invalid("page_size must be 0 to %d", maxSize)
	}
	return int(n), nil
}
