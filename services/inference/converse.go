package inference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

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

// Converse runs a conversation on a Bedrock model and returns the whole answer. With a
// conversation reference, the service supplies the history and stores the turn and its
// answer (the answer is written before the response is returned).
func (s *Service) Converse(ctx context.Context, msg *inferencev1.ConverseRequest) (*inferencev1.ConverseResponse, error) {
	a, res, metrics, t, wait, err := s.converse(ctx, msg, msg.GetConversation(), false, func(ctx context.Context, _ *admission, conv *bedrock.Conversation, _ *turn) (*bedrock.Result, error) {
		callCtx, cancel := unaryCallContext(ctx)
		defer cancel()
		return s.bedrock.ConverseChecked(callCtx, conv)
	})
	wait()
	if err != nil {
		return nil, err
	}
	setResponseHeader(ctx, a.req.RequestID)
	out := &inferencev1.ConverseResponse{
		RequestId: a.req.RequestID, Output: res.Output, StopReason: res.StopReason, Metrics: metrics,
		GuardrailId: res.GuardrailID, Citations: citationsOf(a, res),
	}
	if t != nil {
		out.Conversation = t.proto()
	}
	return out, nil
}

// ConverseStream runs a conversation on a Bedrock model and streams the answer: MessageStart
// with the request id, for a request with a conversation reference the ConversationTurn
// event, each delta as it arrives, MessageStop, then, once the usage is settled,
// StreamMetadata. A client that goes away cancels the upstream call at once; what was used
// until then is settled, and a kept conversation stores the partial answer as stopped. The
// answer is written while the final events are sent; the handler returns once it is written.
func (s *Service) ConverseStream(ctx context.Context, sm *inferencev1.ConverseStreamRequest, stream *connect.ServerStream[inferencev1.ConverseStreamResponse]) error {
	return s.ConverseStreamTo(ctx, sm, stream)
}

// ConverseStreamTo is ConverseStream for any sink of events: the same admission, metering
// and audit, for handlers other than Connect's (the OpenAI-compatible endpoint, which
// describes its call with WithCall).
func (s *Service) ConverseStreamTo(ctx context.Context, sm *inferencev1.ConverseStreamRequest, stream StreamSink[inferencev1.ConverseStreamResponse]) error {
	var fw *forwarder[inferencev1.ConverseStreamResponse]
	a, res, metrics, _, wait, err := s.converse(ctx, bedrock.StreamConversation(sm), sm.GetConversation(), true, func(ctx context.Context, a *admission, conv *bedrock.Conversation, t *turn) (*bedrock.Result, error) {
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
		if t != nil {
			fw.afterStart = &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Conversation{Conversation: t.proto()}}
		}
		res, err := s.bedrock.ConverseStreamChecked(ctx, conv, fw.send)
		return res, fw.callError(err)
	})
	defer wait()
	if err != nil {
		return err
	}
	// The sources, after MessageStop and before the metadata.
	if cs := citationsOf(a, res); len(cs) > 0 {
		if err := fw.send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Citations{
			Citations: &inferencev1.Citations{Citations: cs},
		}}); err != nil {
			return err
		}
	}
	return fw.finish(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Metadata{
		Metadata: &inferencev1.StreamMetadata{Metrics: metrics},
	}})
}

// converse runs a conversation as a metered call: msg is checked once (converseCall), its
// worst case reserved, and call runs the checked conversation. With a conversation reference
// (ref), the history is loaded and assembled first (prepareTurn), the user turn stored before
// call runs and the answer after; wait waits for the answer's write. With a knowledge base,
// the turn sent is grounded in its passages (ground); what is stored is the person's turn.
func (s *Service) converse(ctx context.Context, msg *inferencev1.ConverseRequest, ref *inferencev1.ConversationRef, stream bool,
	call func(context.Context, *admission, *bedrock.Conversation, *turn) (*bedrock.Result, error),
) (a *admission, res *bedrock.Result, metrics *typev1.InvocationMetrics, t *turn, wait func(), err error) {
	a, metrics, err = s.metered(ctx, msg.GetModelId(), catalog.ProviderBedrock, func(a *admission) (providerCall, error) {
		send := msg
		if ref != nil {
			var err error
			if t, err = s.prepareTurn(ctx, a, msg, ref); err != nil {
				return providerCall{}, err
			}
			send = t.request
		}
		send, sources, err := s.ground(ctx, a, send)
		if err != nil {
			return providerCall{}, err
		}
		a.sources = sources
		conv, err := s.converseCall(a, send, stream)
		if err != nil {
			return providerCall{}, err
		}
		return providerCall{
			tokens:    metering.EstimateConverse(send.GetSystemPrompt(), send.GetMessages()) + conv.MaxTokens(),
			maxOutput: conv.MaxTokens(),
			run: func(ctx context.Context) (metering.Usage, error) {
				if t != nil {
					if err := s.storeUser(ctx, t); err != nil {
						return metering.Usage{}, err
					}
				}
				var err error
				res, err = call(ctx, a, conv, t)
				return bedrockUsage(res), err
			},
		}, nil
	})
	wait = func() {}
	if t != nil {
		wait = s.storeAnswer(ctx, t, res, metrics, err)
	}
	return a, res, metrics, t, wait, withTurn(err, t)
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
	call.Limits = withDocuments(call.Limits, m)
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

// MaxUnaryCall bounds a unary Converse that runs on after its caller went away (a request
// with a deadline keeps it).
const MaxUnaryCall = 10 * time.Minute

// unaryCallContext is ctx without the caller's cancellation, keeping its deadline (or
// MaxUnaryCall). Once a unary Converse is sent, Bedrock generates, and bills, the whole
// answer whether or not the caller still waits for it: the call runs to its end so that it is
// settled with the usage Bedrock reports rather than an estimate of the input alone (a caller
// could otherwise cancel every call to be charged for its prompt only). A stream, which the
// person can stop, ends with its caller.
func unaryCallContext(ctx context.Context) (context.Context, context.CancelFunc) {
	c := context.WithoutCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(c, d)
	}
	return context.WithTimeout(c, MaxUnaryCall)
}
