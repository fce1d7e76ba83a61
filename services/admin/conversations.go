package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"connectrpc.com/connect"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/conversation"
)

// ConversationsAuditModel is the model_id of the audit records of refused reads of the
// conversation counts.
const ConversationsAuditModel = "conversations"

// DefaultCountPageSize is ListConversationCounts' page size when the request gives none.
const DefaultCountPageSize = 50

// errNoConversations answers ListConversationCounts where the service has no conversation
// store (in AWS, the admin function is not given the conversation table).
var errNoConversations = errors.New("this deployment's admin service has no conversation store (PORTICO_CONVERSATION_STORE is not set for it), so it cannot count conversations")

// countToken is the page token of ListConversationCounts: the store's position and the
// totals of the pages before it.
type countToken struct {
	Store         string `json:"s"`
	People        int64  `json:"p"`
	Conversations int64  `json:"c"`
	Messages      int64  `json:"m"`
	Bytes         int64  `json:"b"`
}

// ListConversationCounts returns a page of what the conversation store keeps per person, in
// numbers only: never a title, an id or content.
func (s *Service) ListConversationCounts(ctx context.Context, req *adminv1.ListConversationCountsRequest) (*adminv1.ListConversationCountsResponse, error) {
	p, err := authn.Principal(ctx)
	if err != nil {
		return nil, err
	}
	if !s.policy().IsUsageAdmin(p) {
		ce := connect.NewError(connect.CodePermissionDenied, errors.New("reading everyone's conversation counts needs a usage-admin group"))
		s.auditAs(ctx, p, ce, ConversationsAuditModel, "refused: conversation counts")
		return nil, ce
	}
	size := int(req.GetPageSize())
	if size < 0 || size > conversation.MaxCountPageSize {
		return nil, invalid("page_size %d is not from 1 to %d (0 means %d)", size, conversation.MaxCountPageSize, DefaultCountPageSize)
	}
	if size == 0 {
		size = DefaultCountPageSize
	}
	var tok countToken
	if t := req.GetPageToken(); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil || json.Unmarshal(b, &tok) != nil || tok.Store == "" {
			return nil, invalid("page_token is not one this service made")
		}
	}
	if s.conversations == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errNoConversations)
	}
	page, next, err := s.conversations.CountOwners(ctx, size, tok.Store)
	if errors.Is(err, conversation.ErrBadPageToken) {
		return nil, invalid("page_token is not one this service made")
	}
	if err != nil {
		return nil, conversation.StoreError(ctx, s.log, "count conversations", err)
	}
	out := &adminv1.ListConversationCountsResponse{}
	for _, c := range page {
		out.People = append(out.People, &adminv1.ConversationCount{
			Subject: c.Owner, User: c.Name, Conversations: c.Conversations, Messages: c.Messages, Bytes: c.Bytes, People: 1,
		})
		tok.People++
		tok.Conversations += c.Conversations
		tok.Messages += c.Messages
		tok.Bytes += c.Bytes
	}
	out.Totals = &adminv1.ConversationCount{People: tok.People, Conversations: tok.Conversations, Messages: tok.Messages, Bytes: tok.Bytes}
	if next != "" {
		tok.Store = next
		b, _ := json.Marshal(tok)
		out.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, nil
}
