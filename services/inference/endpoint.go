package inference

import (
	"context"
	"errors"
	"mime"
	"slices"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/sagemaker"
)

// SageMakerProvider invokes SageMaker endpoints with payloads the service has checked
// (sagemaker.Check), without checking them again; *sagemaker.Client is one.
type SageMakerProvider interface {
	InvokeChecked(ctx context.Context, p *sagemaker.Payload) (*sagemaker.Result, error)
	InvokeStreamChecked(ctx context.Context, p *sagemaker.Payload, send sagemaker.SendFunc) (*sagemaker.Result, error)
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
	a, res, metrics, err := s.invoke(ctx, req, false, func(ctx context.Context, _ *admission, p *sagemaker.Payload) (*sagemaker.Result, error) {
		return s.sagemaker.InvokeChecked(ctx, p)
	})
	if err != nil {
		return nil, err
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
	var fw *forwarder[inferencev1.InvokeEndpointStreamResponse]
	_, _, metrics, err := s.invoke(ctx, req, true, func(ctx context.Context, a *admission, p *sagemaker.Payload) (*sagemaker.Result, error) {
		start := &inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Start{
			Start: &inferencev1.EndpointStreamStart{RequestId: a.req.RequestID},
		}}
		fw = newForwarder(stream, a.req.RequestID, start, func(ev *inferencev1.InvokeEndpointStreamResponse, rid string) bool {
			st := ev.GetStart()
			if st != nil {
				st.RequestId = rid
			}
			return st != nil
		})
		res, err := s.sagemaker.InvokeStreamChecked(ctx, p, fw.send)
		return res, fw.callError(err)
	})
	if err != nil {
		return err
	}
	return fw.finish(&inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Metadata{
		Metadata: &inferencev1.StreamMetadata{Metrics: metrics},
	}})
}

// invoke runs an endpoint request as a metered call: req is checked once (endpointCall), its
// worst case reserved, and call runs the checked payload.
func (s *Service) invoke(ctx context.Context, req endpointRequest, stream bool,
	call func(context.Context, *admission, *sagemaker.Payload) (*sagemaker.Result, error),
) (*admission, *sagemaker.Result, *typev1.InvocationMetrics, error) {
	var res *sagemaker.Result
	a, metrics, err := s.metered(ctx, req.GetEndpointName(), catalog.ProviderSageMaker, func(a *admission) (providerCall, error) {
		p, maxOut, err := s.endpointCall(a, req, stream)
		if err != nil {
			return providerCall{}, err
		}
		return providerCall{
			tokens:    metering.EstimatePayload(len(req.GetBody())) + maxOut,
			maxOutput: maxOut,
			run: func(ctx context.Context) (metering.Usage, error) {
				var err error
				res, err = call(ctx, a, p)
				return sagemakerUsage(res, stream), err
			},
		}, nil
	})
	return a, res, metrics, err
}

// endpointCall checks a payload once for the admitted endpoint (sagemaker.Check) and returns
// it with the most output tokens it may generate: the largest length parameter of a JSON
// body (sagemaker.ReadMaxTokens, which refuses a body Portico and the container could read
// differently), else the endpoint's max_output_tokens. The payload's limits carry where the
// catalog says the container reports usage, and the bounds a reported count must stay
// within: the endpoint's context window for input, this request's max output for output.
func (s *Service) endpointCall(a *admission, req endpointRequest, stream bool) (*sagemaker.Payload, int64, error) {
	m := a.model
	if stream && !m.Capabilities.Streaming {
		return nil, 0, invalid("endpoint %q does not stream its responses; call InvokeEndpoint", m.ID)
	}
	p, err := sagemaker.Check(req, sagemaker.Limits{
		ContentTypes: m.ContentTypes, Usage: usageReport(m.Usage), MaxInputTokens: m.ContextWindow,
	})
	if err != nil {
		return nil, 0, err
	}
	maxOut := m.MaxOutputTokens
	if mt, _, _ := mime.ParseMediaType(p.ContentType()); mt == "application/json" {
		n, err := sagemaker.ReadMaxTokens(req.GetBody(), m.MaxOutputTokens)
		if err != nil {
			return nil, 0, err
		}
		if n > 0 {
			maxOut = n
		}
	}
	if s.sagemaker == nil {
		return nil, 0, connect.NewError(connect.CodeUnavailable, errors.New("this deployment has no SageMaker configured"))
	}
	return p.WithMaxOutputTokens(maxOut), maxOut, nil
}

// usageReport converts the catalog's description of an endpoint's usage report.
func usageReport(u catalog.Usage) sagemaker.UsageReport {
	var f sagemaker.ReportFormat
	switch u.Format {
	case catalog.UsageOpenAI:
		f = sagemaker.ReportOpenAI
	case catalog.UsageTGIDetails:
		f = sagemaker.ReportTGIDetails
	default:
		return sagemaker.UsageReport{}
	}
	return sagemaker.UsageReport{Format: f, ContentTypes: slices.Clone(u.ContentTypes)}
}

// sagemakerUsage converts a provider result to metered usage.
func sagemakerUsage(res *sagemaker.Result, stream bool) metering.Usage {
	if res == nil {
		return metering.Usage{}
	}
	u := metering.Usage{
		InputTokens: res.Usage.InputTokens, OutputTokens: res.Usage.OutputTokens, Estimated: res.Usage.Estimated,
		Clamped: res.Usage.Clamped, UpstreamRequestID: res.UpstreamRequestID,
	}
	if stream {
		u.FirstTokenAt = res.FirstByteAt
	}
	return u
}
