package sagemaker

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Result is the outcome of an invocation. Invoke and InvokeStream return a non-nil Result
// even with an error, so that usage so far and the upstream request id can be settled and
// audited.
type Result struct {
	// Body is the response payload (for a stream, the bytes received; it may be partial).
	Body []byte
	// ContentType is the MIME type of Body.
	ContentType string
	// InvokedProductionVariant is the production variant that answered.
	InvokedProductionVariant string
	// CustomAttributes are the attributes the container returned, if any.
	CustomAttributes string
	// Usage is the token usage, reported by the container or estimated.
	Usage Usage
	// UpstreamRequestID is SageMaker's request id, when an answer (or error) carried one.
	UpstreamRequestID string
	// FirstByteAt is when the first payload part arrived (streams only).
	FirstByteAt time.Time
}

// Invoke validates req against lim, then calls InvokeEndpoint. Errors are *connect.Error;
// the Result is never nil (on error its usage is zero, or the input estimate when ctx was
// canceled).
func (c *Client) Invoke(ctx context.Context, req *inferencev1.InvokeEndpointRequest, lim Limits) (*Result, error) {
	p, err := Check(req, lim)
	if err != nil {
		return &Result{}, err
	}
	return c.InvokeChecked(ctx, p)
}

// InvokeChecked runs a payload Check made with InvokeEndpoint, as Invoke does, without
// checking it again.
func (c *Client) InvokeChecked(ctx context.Context, p *Payload) (*Result, error) {
	res := &Result{}
	if err := p.checked(); err != nil {
		return res, err
	}
	in := p.input()
	out, err := c.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: in.endpointName, Body: in.body, ContentType: in.contentType,
		Accept: in.accept, CustomAttributes: in.customAttributes,
	})
	if err != nil {
		return res, c.refused(ctx, res, p, err)
	}
	res.UpstreamRequestID, _ = middleware.GetRequestIDMetadata(out.ResultMetadata)
	res.Body = out.Body
	res.ContentType = aws.ToString(out.ContentType)
	res.InvokedProductionVariant = aws.ToString(out.InvokedProductionVariant)
	res.CustomAttributes = aws.ToString(out.CustomAttributes)
	res.Usage = UsageFrom(ReadUsage(out.Body, res.ContentType, p.lim.Usage), p.lim, len(in.body), len(out.Body))
	return res, nil
}

// refused fills res for a call SageMaker did not start (its request id, and when ctx ended,
// the estimate of the input alone) and returns err as a *connect.Error.
func (c *Client) refused(ctx context.Context, res *Result, p *Payload, err error) *connect.Error {
	res.UpstreamRequestID = awsrt.RequestID(err)
	if ctx.Err() != nil {
		in := EstimateTokens(len(p.req.GetBody()))
		res.Usage = Usage{InputTokens: in, TotalTokens: in, Estimated: true}
	}
	return c.toConnect(ctx, err)
}
