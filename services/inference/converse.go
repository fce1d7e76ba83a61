package inference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
)

// MaxTextBytes is the most UTF-8 bytes of text (system prompt and every text block) one
// conversation may carry, whatever the model. A model with a smaller context window allows
// at most 4 bytes per token of its window, an average English text's worth: a longer text
// cannot fit.
const MaxTextBytes = 1 << 20

// Converse runs a conversation on a Bedrock model and returns the whole answer.
func (s *Service) Converse(ctx context.Context, msg *inferencev1.ConverseRequest) (*inferencev1.ConverseResponse, error) {
	a, res, metrics, err := s.converse(ctx, msg, false, func(ctx context.Context, _ *admission, conv *bedrock.Conversation) (*bedrock.Result, error) {
		return s.bedrock.ConverseChecked(ctx, conv)
	})
	if err != nil {
		return nil, err
	}
	setResponseHeader(ctx, a.req.RequestID)
	return &inferencev1.ConverseResponse{
		RequestId: a.req.RequestID, Output: res.Output, StopReason: res.StopReason, Metrics: metrics,
		GuardrailId: res.GuardrailID,
	}, nil
}

// ConverseStream runs a conversation on a Bedrock model and streams the answer: MessageStart
// with the request id, each delta as it arrives, MessageStop, then, once the usage is
// settled, StreamMetadata. A client that goes away cancels the upstream call at once; what
// was used until then is settled.
func (s *Service) ConverseStream(ctx context.Context, sm *inferencev1.ConverseStreamRequest, stream *connect.ServerStream[inferencev1.ConverseStreamResponse]) error {
	return s.ConverseStreamTo(ctx, sm, stream)
}

// ConverseStreamTo is ConverseStream for any sink of events: the same admission, metering
// and audit, for handlers other than Connect's (the OpenAI-compatible endpoint, which
// describes its call with WithCall).
func (s *Service) ConverseStreamTo(ctx context.Context, sm *inferencev1.ConverseStreamRequest, stream StreamSink[inferencev1.ConverseStreamResponse]) error {
	var fw *forwarder[inferencev1.ConverseStreamResponse]
	_, _, metrics, err := s.converse(ctx, bedrock.StreamConversation(sm), true, func(ctx context.Context, a *admission, conv *bedrock.Conversation) (*bedrock.Result, error) {
		start := &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Start{Start: &inferencev1.MessageStart{
			RequestId: a.req.RequestID, Role: inferencev1.Role_ROLE_ASSISTANT, ModelId: a.model.ID,
		}}}
		fw = newForwarder(stream, a.req.RequestID, start, func(ev *inferencev1.ConverseStreamResponse, rid string) bool {
			st := ev.GetStart()
			if st != nil {
				st.RequestId = rid
			}
			return st != nil
		})
		res, err := s.bedrock.ConverseStreamChecked(ctx, conv, fw.send)
		return res, fw.callError(err)
	})
	if err != nil {
		return err
	}
	return fw.finish(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Metadata{
		Metadata: &inferencev1.StreamMetadata{Metrics: metrics},
	}})
}

// converse runs a conversation as a metered call: msg is checked once (converseCall), its
// worst case reserved, and call runs the checked conversation.
func (s *Service) converse(ctx context.Context, msg *inferencev1.ConverseRequest, stream bool,
	call func(context.Context, *admission, *bedrock.Conversation) (*bedrock.Result, error),
) (*admission, *bedrock.Result, *typev1.InvocationMetrics, error) {
	var res *bedrock.Result
	a, metrics, err := s.metered(ctx, msg.GetModelId(), catalog.ProviderBedrock, func(a *admission) (providerCall, error) {
		conv, err := s.converseCall(a, msg, stream)
		if err != nil {
			return providerCall{}, err
		}
		return providerCall{
			tokens: metering.EstimateConverse(msg.GetSystemPrompt(), msg.GetMessages()) + conv.MaxTokens(),
			run: func(ctx context.Context) (metering.Usage, error) {
				var err error
				res, err = call(ctx, a, conv)
				return bedrockUsage(res), err
			},
		}, nil
	})
	return a, res, metrics, err
}

// converseCall checks a conversation for the admitted model, once: streaming on a model that
// streams, the model's limits (bedrock.Check), at most MaxTextBytes of text (less for a small
// context window), and a Bedrock configured. It returns the conversation to run, with the
// guardrail the policy names.
func (s *Service) converseCall(a *admission, msg *inferencev1.ConverseRequest, stream bool) (*bedrock.Conversation, error) {
	m := a.model
	// The id sent to Bedrock: the inference profile where the model is not on demand in
	// this region (catalog.Catalog.InRegion); the answer still names m.ID.
	call := bedrock.Call{ModelID: m.InvokeID(), Limits: bedrock.Limits{
		MaxOutputTokens: clampInt32(m.MaxOutputTokens),
		MaxInputTokens:  m.ContextWindow,
		SystemPrompt:    m.Capabilities.SystemPrompt,
		Images:          m.Capabilities.Images,
		MaxImages:       int(m.Capabilities.MaxImages),
		MaxImageBytes:   m.Capabilities.MaxImageBytes,
	}}
	if stream && !m.Capabilities.Streaming {
		return nil, invalid("model %q does not stream its answers; call Converse", m.ID)
	}
	if id, version, ok := a.ent.Guardrail(m.ID); ok {
		call.Guardrail = &bedrock.Guardrail{ID: id, Version: version}
	}
	conv, err := bedrock.Check(msg, call)
	if err != nil {
		return nil, err
	}
	limit := int64(MaxTextBytes)
	if m.ContextWindow > 0 {
		limit = min(limit, 4*m.ContextWindow)
	}
	if n := textBytes(msg); n > limit {
		return nil, invalid("the conversation holds %d bytes of text; at most %d are allowed for this model", n, limit)
	}
	if s.bedrock == nil {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("this deployment has no Bedrock configured"))
	}
	return conv, nil
}

// clampInt32 converts v to an int32, saturating at the type's bounds.
func clampInt32(v int64) int32 {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}

func textBytes(msg *inferencev1.ConverseRequest) int64 {
	n := int64(len(msg.GetSystemPrompt()))
	for _, m := range msg.GetMessages() {
		for _, b := range m.GetContent() {
			n += int64(len(b.GetText()))
		}
	}
	return n
}

func invalid(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}

// bedrockUsage converts a provider result to metered usage.
func bedrockUsage(res *bedrock.Result) metering.Usage {
	if res == nil {
		return metering.Usage{}
	}
	u := metering.Usage{
		InputTokens: res.Usage.InputTokens, OutputTokens: res.Usage.OutputTokens, Estimated: res.Usage.Estimated,
		Clamped: res.Usage.Clamped, UpstreamRequestID: res.UpstreamRequestID, FirstTokenAt: res.FirstTokenAt,
	}
	if res.StopReason != inferencev1.StopReason_STOP_REASON_UNSPECIFIED {
		u.StopReason = strings.ToLower(strings.TrimPrefix(res.StopReason.String(), "STOP_REASON_"))
	}
	return u
}
