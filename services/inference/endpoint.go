package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/sagemaker"
)

// SageMakerProvider invokes SageMaker endpoints; *sagemaker.Client is one.
type SageMakerProvider interface {
	Invoke(ctx context.Context, req *inferencev1.InvokeEndpointRequest, lim sagemaker.Limits) (*sagemaker.Result, error)
	InvokeStream(ctx context.Context, req *inferencev1.InvokeEndpointStreamRequest, lim sagemaker.Limits, send sagemaker.SendFunc) (*sagemaker.Result, error)
}

// endpointRequest is the common shape of InvokeEndpointRequest and
// InvokeEndpointStreamRequest.
type endpointRequest interface {
	GetEndpointName() string
	GetContentType() string
	GetAccept() string
	GetBody() []byte
	GetCustomAttributes() string
}

// InvokeEndpoint sends a payload to a SageMaker endpoint and returns its response.
func (s *Service) InvokeEndpoint(ctx context.Context, req *inferencev1.InvokeEndpointRequest) (*inferencev1.InvokeEndpointResponse, error) {
	arrived := s.now()
	a, err := s.admit(ctx, req.GetEndpointName(), catalog.ProviderSageMaker, arrived)
	if err != nil {
		return nil, err
	}
	lim, maxOut, err := s.endpointCall(a, req, false)
	if err != nil {
		return nil, s.refuse(ctx, a, err)
	}
	a.req.Tokens = metering.EstimatePayload(len(req.GetBody())) + maxOut
	mc, err := s.meter.Reserve(ctx, a.req)
	if err != nil {
		return nil, withRequestID(err, a.req.RequestID)
	}
	defer settleOnPanic(ctx, mc)
	res, callErr := s.sagemaker.Invoke(ctx, req, lim)
	callErr = normalize(ctx, callErr)
	metrics := mc.Settle(ctx, sagemakerUsage(res, false), callErr)
	if callErr != nil {
		s.logCallError(ctx, a, callErr)
		return nil, withRequestID(callErr, a.req.RequestID)
	}
	setResponseHeader(ctx, a.req.RequestID)
	return &inferencev1.InvokeEndpointResponse{
		RequestId: a.req.RequestID, Body: res.Body, ContentType: res.ContentType,
		InvokedProductionVariant: res.InvokedProductionVariant, CustomAttributes: res.CustomAttributes,
		Metrics: metrics,
	}, nil
}

// InvokeEndpointStream sends a payload to a SageMaker endpoint and streams its response:
// EndpointStreamStart with the request id, each part as it arrives, then, once the usage is
// settled, StreamMetadata.
func (s *Service) InvokeEndpointStream(ctx context.Context, req *inferencev1.InvokeEndpointStreamRequest, stream *connect.ServerStream[inferencev1.InvokeEndpointStreamResponse]) error {
	arrived := s.now()
	a, err := s.admit(ctx, req.GetEndpointName(), catalog.ProviderSageMaker, arrived)
	if err != nil {
		return err
	}
	lim, maxOut, err := s.endpointCall(a, req, true)
	if err != nil {
		return s.refuse(ctx, a, err)
	}
	a.req.Tokens = metering.EstimatePayload(len(req.GetBody())) + maxOut
	mc, err := s.meter.Reserve(ctx, a.req)
	if err != nil {
		return withRequestID(err, a.req.RequestID)
	}
	defer settleOnPanic(ctx, mc)
	stream.ResponseHeader().Set(RequestIDHeader, a.req.RequestID)
	started, clientGone := false, false
	start := &inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Start{
		Start: &inferencev1.EndpointStreamStart{RequestId: a.req.RequestID},
	}}
	send := func(ev *inferencev1.InvokeEndpointStreamResponse) error {
		if st := ev.GetStart(); st != nil {
			if started {
				return nil
			}
			started = true
			st.RequestId = a.req.RequestID
			return forward(stream, ev, &clientGone)
		}
		if !started {
			started = true
			if err := forward(stream, start, &clientGone); err != nil {
				return err
			}
		}
		return forward(stream, ev, &clientGone)
	}
	res, callErr := s.sagemaker.InvokeStream(ctx, req, lim, send)
	if callErr != nil && clientGone {
		callErr = errClientGone()
	}
	callErr = normalize(ctx, callErr)
	metrics := mc.Settle(ctx, sagemakerUsage(res, true), callErr)
	if callErr != nil {
		s.logCallError(ctx, a, callErr)
		return withRequestID(callErr, a.req.RequestID)
	}
	if !started {
		if err := stream.Send(start); err != nil {
			return err
		}
	}
	return stream.Send(&inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Metadata{
		Metadata: &inferencev1.StreamMetadata{Metrics: metrics},
	}})
}

// maxNewTokensParams are the generation-length parameters read from a JSON body.
type maxNewTokensParams struct {
	Parameters *struct {
		MaxNewTokens *int64 `json:"max_new_tokens"`
		MaxTokens    *int64 `json:"max_tokens"`
	} `json:"parameters"`
	MaxTokens *int64 `json:"max_tokens"`
}

// endpointCall validates a payload for the admitted endpoint and returns its limits and the
// most output tokens it may generate: parameters.max_new_tokens (or max_tokens) of a JSON
// body, else the endpoint's max_output_tokens.
func (s *Service) endpointCall(a *admission, req endpointRequest, stream bool) (sagemaker.Limits, int64, error) {
	m := a.model
	lim := sagemaker.Limits{ContentTypes: m.ContentTypes}
	if stream && !m.Capabilities.Streaming {
		return lim, 0, invalid("endpoint %q does not stream its responses; call InvokeEndpoint", m.ID)
	}
	contentType, err := sagemaker.Validate(req, lim)
	if err != nil {
		return lim, 0, err
	}
	maxOut := m.MaxOutputTokens
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		body := req.GetBody()
		if !json.Valid(body) {
			return lim, 0, invalid("body is not valid JSON, as content type %s requires", mt)
		}
		var p maxNewTokensParams
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &p) == nil {
			var n *int64
			switch {
			case p.Parameters != nil && p.Parameters.MaxNewTokens != nil:
				n = p.Parameters.MaxNewTokens
			case p.Parameters != nil && p.Parameters.MaxTokens != nil:
				n = p.Parameters.MaxTokens
			case p.MaxTokens != nil:
				n = p.MaxTokens
			}
			if n != nil {
				if *n < 1 || (m.MaxOutputTokens > 0 && *n > m.MaxOutputTokens) {
					return lim, 0, invalid("max_new_tokens must be from 1 to %d for this endpoint", m.MaxOutputTokens)
				}
				maxOut = *n
			}
		}
	}
	if s.sagemaker == nil {
		return lim, 0, connect.NewError(connect.CodeUnavailable, errors.New("this deployment has no SageMaker configured"))
	}
	return lim, maxOut, nil
}

// sagemakerUsage converts a provider result to metered usage.
func sagemakerUsage(res *sagemaker.Result, stream bool) metering.Usage {
	if res == nil {
		return metering.Usage{}
	}
	u := metering.Usage{
		InputTokens: res.Usage.InputTokens, OutputTokens: res.Usage.OutputTokens, Estimated: res.Usage.Estimated,
		UpstreamRequestID: res.UpstreamRequestID,
	}
	if stream {
		u.FirstTokenAt = res.FirstByteAt
	}
	return u
}
