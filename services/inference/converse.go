package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
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
	arrived := s.now()
	a, err := s.admit(ctx, msg.GetModelId(), catalog.ProviderBedrock, arrived)
	if err != nil {
		return nil, err
	}
	call, err := s.converseCall(a, msg, false)
	if err != nil {
		return nil, s.refuse(ctx, a, err)
	}
	a.req.Tokens = metering.EstimateConverse(msg.GetSystemPrompt(), msg.GetMessages()) + bedrock.MaxTokens(msg, call.Limits)
	mc, err := s.meter.Reserve(ctx, a.req)
	if err != nil {
		return nil, withRequestID(err, a.req.RequestID)
	}
	defer settleOnPanic(ctx, mc)
	res, callErr := s.bedrock.Converse(ctx, msg, call)
	callErr = normalize(ctx, callErr)
	metrics := mc.Settle(ctx, bedrockUsage(res), callErr)
	if callErr != nil {
		s.logCallError(ctx, a, callErr)
		return nil, withRequestID(callErr, a.req.RequestID)
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
	arrived := s.now()
	a, err := s.admit(ctx, sm.GetModelId(), catalog.ProviderBedrock, arrived)
	if err != nil {
		return err
	}
	msg := &inferencev1.ConverseRequest{ModelId: sm.GetModelId(), Messages: sm.GetMessages(), SystemPrompt: sm.GetSystemPrompt(), InferenceConfig: sm.GetInferenceConfig()}
	call, err := s.converseCall(a, msg, true)
	if err != nil {
		return s.refuse(ctx, a, err)
	}
	a.req.Tokens = metering.EstimateConverse(msg.GetSystemPrompt(), msg.GetMessages()) + bedrock.MaxTokens(msg, call.Limits)
	mc, err := s.meter.Reserve(ctx, a.req)
	if err != nil {
		return withRequestID(err, a.req.RequestID)
	}
	defer settleOnPanic(ctx, mc)
	stream.ResponseHeader().Set(RequestIDHeader, a.req.RequestID)
	started, clientGone := false, false
	start := &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Start{Start: &inferencev1.MessageStart{
		RequestId: a.req.RequestID, Role: inferencev1.Role_ROLE_ASSISTANT, ModelId: a.model.ID,
	}}}
	send := func(ev *inferencev1.ConverseStreamResponse) error {
		if st := ev.GetStart(); st != nil {
			if started {
				return nil
			}
			started = true
			st.RequestId = a.req.RequestID
			return forward(stream, ev, &clientGone)
		}
		if !started { // MessageStart always comes first, even if the provider skipped it
			started = true
			if err := forward(stream, start, &clientGone); err != nil {
				return err
			}
		}
		return forward(stream, ev, &clientGone)
	}
	res, callErr := s.bedrock.ConverseStream(ctx, sm, call, send)
	if callErr != nil && clientGone {
		callErr = errClientGone()
	}
	callErr = normalize(ctx, callErr)
	metrics := mc.Settle(ctx, bedrockUsage(res), callErr)
	if callErr != nil {
		s.logCallError(ctx, a, callErr)
		return withRequestID(callErr, a.req.RequestID)
	}
	if !started {
		if err := stream.Send(start); err != nil {
			return err
		}
	}
	return stream.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Metadata{
		Metadata: &inferencev1.StreamMetadata{Metrics: metrics},
	}})
}

// converseCall validates a conversation for the admitted model and returns the provider
// call: the model's limits and the guardrail the policy names.
func (s *Service) converseCall(a *admission, msg *inferencev1.ConverseRequest, stream bool) (bedrock.Call, error) {
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
		return call, invalid("model %q does not stream its answers; call Converse", m.ID)
	}
	if err := bedrock.Validate(msg, call.Limits); err != nil {
		return call, err
	}
	limit := int64(MaxTextBytes)
	if m.ContextWindow > 0 {
		limit = min(limit, 4*m.ContextWindow)
	}
	if n := textBytes(msg); n > limit {
		return call, invalid("the conversation holds %d bytes of text; at most %d are allowed for this model", n, limit)
	}
	if id, version, ok := a.ent.Guardrail(m.ID); ok {
		call.Guardrail = &bedrock.Guardrail{ID: id, Version: version}
	}
	if s.bedrock == nil {
		return call, connect.NewError(connect.CodeUnavailable, errors.New("this deployment has no Bedrock configured"))
	}
	return call, nil
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

// normalize makes every call error a *connect.Error with a user-safe message.
func normalize(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	if ctx.Err() != nil {
		return connect.NewError(connect.CodeCanceled, errors.New("the request was canceled"))
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// settleOnPanic settles a call whose provider panicked, then lets the panic go on (the
// server's recovery turns it into INTERNAL).
func settleOnPanic(ctx context.Context, mc *metering.Call) {
	if r := recover(); r != nil {
		mc.Settle(ctx, metering.Usage{}, connect.NewError(connect.CodeInternal, errors.New("internal error")))
		panic(r)
	}
}

func (s *Service) logCallError(ctx context.Context, a *admission, err error) {
	s.log.LogAttrs(ctx, slog.LevelWarn, "model call failed", slog.String("request_id", a.req.RequestID),
		slog.String("model", a.model.ID), slog.String("user", a.p.Username),
		slog.String("code", connect.CodeOf(err).String()), slog.String("cause", fmt.Sprint(errors.Unwrap(err))))
}

// setResponseHeader sets the request id header on a unary answer.
func setResponseHeader(ctx context.Context, id string) {
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		ci.ResponseHeader().Set(RequestIDHeader, id)
	}
}

// forward sends one event to the client, noting in gone when the client could not be
// reached (it went away: the provider stops at once, and the call counts as canceled).
func forward[T any](stream *connect.ServerStream[T], ev *T, gone *bool) error {
	err := stream.Send(ev)
	if err != nil {
		*gone = true
	}
	return err
}

func errClientGone() error {
	return connect.NewError(connect.CodeCanceled, errors.New("the client went away"))
}
