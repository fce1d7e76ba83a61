package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/retrieval"
	"github.com/portico-dev/portico/services/store"
)

// knowledgeBase returns the knowledge base a request names, checked like a model: the caller
// must be entitled to it (else PERMISSION_DENIED, whether or not it exists, as for models),
// this deployment must be able to reach it (the catalog's entry is in its account and region,
// else PERMISSION_DENIED), and the request must name the model that answers from it.
func (s *Service) knowledgeBase(a *admission, id string) (catalog.KnowledgeBase, error) {
	if !a.ent.AllowsKnowledgeBase(id) {
		return catalog.KnowledgeBase{}, connect.NewError(connect.CodePermissionDenied, fmt.Errorf("knowledge base %q is not available to you", id))
	}
	kb, ok := s.kbs[id]
	if !ok {
		if _, known := s.catalog.KnowledgeBase(id); known {
			return catalog.KnowledgeBase{}, connect.NewError(connect.CodePermissionDenied,
				fmt.Errorf("knowledge base %q is in another AWS account or region than this deployment; Portico does not call it", id))
		}
		return catalog.KnowledgeBase{}, connect.NewError(connect.CodeNotFound, fmt.Errorf("knowledge base %q is not in the catalog", id))
	}
	if kb.ModelID != a.model.ID {
		return catalog.KnowledgeBase{}, invalid("knowledge base %q answers with model %q; set model_id to it", id, kb.ModelID)
	}
	if s.retriever == nil {
		return catalog.KnowledgeBase{}, connect.NewError(connect.CodeUnavailable, errors.New("this deployment has no knowledge-base retrieval configured"))
	}
	return kb, nil
}

// ground retrieves the passages of the knowledge base msg names, if any, and returns the
// conversation to run instead: msg with the numbered sources put before the last user
// turn's content, and the citations to return. Retrieval happens before the reservation, so
// the passages are part of the estimate, and a failed retrieval is a refusal that costs the
// caller nothing. The retrieval is logged and audited with the knowledge base, the number of
// passages and its latency, never their text.
func (s *Service) ground(ctx context.Context, a *admission, msg *inferencev1.ConverseRequest) (*inferencev1.ConverseRequest, []*inferencev1.Citation, error) {
	id := msg.GetKnowledgeBaseId()
	if id == "" {
		return msg, nil, nil
	}
	kb, err := s.knowledgeBase(a, id)
	if err != nil {
		return nil, nil, err
	}
	msgs := msg.GetMessages()
	if len(msgs) == 0 {
		return msg, nil, nil // bedrock.Check refuses it
	}
	last := msgs[len(msgs)-1]
	var q strings.Builder
	for _, b := range last.GetContent() {
		if t, ok := b.GetBlock().(*inferencev1.ContentBlock_Text); ok {
			q.WriteString(t.Text)
			q.WriteByte('\n')
		}
	}
	query := strings.TrimSpace(q.String())
	if query == "" {
		return nil, nil, invalid("a question to a knowledge base needs text in the last user turn")
	}
	passages, took, err := retrieval.Timed(ctx, s.retriever, kb.ID, query, retrieval.DefaultPassages)
	// The audit record notes the retrieval (refused or settled alike), never the passages.
	a.req.Retrieval = store.Retrieval{KnowledgeBaseID: kb.ID, Passages: len(passages), Latency: took}
	s.log.LogAttrs(ctx, slog.LevelInfo, "knowledge base retrieval", slog.String("knowledge_base", kb.ID), slog.Int("passages", len(passages)), slog.Int64("retrieval_ms", took.Milliseconds()),
		slog.String("code", codeName(err)))
	if err != nil {
		return nil, nil, normalize(ctx, err)
	}
	grounded := &inferencev1.Message{Role: last.GetRole(), Content: append(
		[]*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: retrieval.Prompt(kb.Name, passages)}}},
		last.GetContent()...)}
	out := &inferencev1.ConverseRequest{
		ModelId: msg.GetModelId(), SystemPrompt: msg.GetSystemPrompt(), InferenceConfig: msg.GetInferenceConfig(),
		Conversation: msg.GetConversation(), KnowledgeBaseId: id,
		Messages: append(append([]*inferencev1.Message(nil), msgs[:len(msgs)-1]...), grounded),
	}
	return out, retrieval.Citations(passages), nil
}

func codeName(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

// knowledgeBases returns the knowledge bases the caller may use in this deployment.
func (s *Service) knowledgeBasesFor(a interface{ AllowsKnowledgeBase(string) bool }) []*inferencev1.KnowledgeBase {
	var out []*inferencev1.KnowledgeBase
	for _, kb := range s.kbList {
		if a.AllowsKnowledgeBase(kb.ID) {
			out = append(out, kb.Proto())
		}
	}
	return out
}

// citationsOf returns the citations of an answer: the knowledge base's passages when the
// request named one, else those the model made of its documents.
func citationsOf(a *admission, res *bedrock.Result) []*inferencev1.Citation {
	if a != nil && a.sources != nil {
		return a.sources
	}
	if res == nil {
		return nil
	}
	return res.Citations
}
