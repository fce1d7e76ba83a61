package sagemaker

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/schemas"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// maxKeptBytes bounds how much of a streamed response is kept in Result.Body; bytes beyond
// it are forwarded and counted but not kept. An application/json stream longer than that
// carries no usage report Portico reads (it is estimated); a JSON Lines or server-sent-events
// stream's report is its last line, which is tracked whatever the length.
const maxKeptBytes = 1 << 20

// ownCodec gives one call a protocol (and so an event-stream decoder) of its own: the SDK's
// client-wide protocol shares one decoder and payload buffer between all its streams, so two
// concurrent streams on one client would race and corrupt each other's events (seen with the
// race detector on smithy-go v1.28.9).
func ownCodec(o *sagemakerruntime.Options) {
	o.Protocol = restjson1.New(schemas.AmazonSageMakerRuntime)
}

// SendFunc receives the events of a streamed response as soon as they arrive: one start
// (content type and production variant set, request_id left for the caller), then the
// payload parts. It never receives metadata: usage comes back in the Result. An error from
// SendFunc ends the stream at once and is returned (wrapped) by InvokeStream.
type SendFunc func(*inferencev1.InvokeEndpointStreamResponse) error

// InvokeStream validates req against lim, then calls InvokeEndpointWithResponseStream,
// calling send with each event as it arrives. When ctx is canceled or send fails, the SDK
// stream is closed at once and the usage so far is returned; when the connection is cut
// mid-way the error is UNAVAILABLE. The Result is never nil.
func (c *Client) InvokeStream(ctx context.Context, req *inferencev1.InvokeEndpointStreamRequest, lim Limits, send SendFunc) (*Result, error) {
	p, err := Check(req, lim)
	if err != nil {
		return &Result{}, err
	}
	return c.InvokeStreamChecked(ctx, p, send)
}

// InvokeStreamChecked runs a payload Check made with InvokeEndpointWithResponseStream, as
// InvokeStream does, without checking it again.
func (c *Client) InvokeStreamChecked(ctx context.Context, p *Payload, send SendFunc) (*Result, error) {
	res := &Result{}
	if err := p.checked(); err != nil {
		return res, err
	}
	req, lim := p.req, p.lim
	hctx, health := awsrt.WithReadHealth(ctx)
	in := p.input()
	out, err := c.rt.InvokeEndpointWithResponseStream(hctx, &sagemakerruntime.InvokeEndpointWithResponseStreamInput{
		EndpointName: in.endpointName, Body: in.body, ContentType: in.contentType,
		Accept: in.accept, CustomAttributes: in.customAttributes,
	}, ownCodec)
	if err != nil {
		return res, c.refused(ctx, res, p, err)
	}
	res.UpstreamRequestID, _ = middleware.GetRequestIDMetadata(out.ResultMetadata)
	res.ContentType = aws.ToString(out.ContentType)
	res.InvokedProductionVariant = aws.ToString(out.InvokedProductionVariant)
	res.CustomAttributes = aws.ToString(out.CustomAttributes)
	stream := out.GetStream()
	defer stream.Close()

	var kept bytes.Buffer
	total, truncated := 0, false
	mt, reads := reportType(res.ContentType, lim.Usage)
	var tail *lastLine
	if reads && mt != "application/json" {
		tail = newLastLine(mt)
	}
	finish := func(err error) (*Result, error) {
		res.Body = kept.Bytes()
		var rep Reported
		switch {
		case tail != nil:
			rep = readReport(tail.Doc(), lim.Usage.Format)
		case reads && !truncated:
			rep = readReport(res.Body, lim.Usage.Format)
		}
		res.Usage = UsageFrom(rep, lim, len(req.GetBody()), total)
		if err == nil {
			return res, nil
		}
		return res, c.toConnect(ctx, err)
	}
	start := &inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Start{Start: &inferencev1.EndpointStreamStart{
		ContentType: res.ContentType, InvokedProductionVariant: res.InvokedProductionVariant,
	}}}
	if err := send(start); err != nil {
		stream.Close()
		if ctx.Err() != nil {
			return finish(ctx.Err())
		}
		r, _ := finish(nil)
		return r, fmt.Errorf("sagemaker: forward stream event: %w", err)
	}
	events := stream.Events()
	for {
		ev, ok, err := awsrt.Next(ctx, events)
		if err != nil {
			stream.Close()
			return finish(err)
		}
		if !ok {
			break
		}
		part, isPart := ev.(*types.ResponseStreamMemberPayloadPart)
		if !isPart || len(part.Value.Bytes) == 0 {
			continue
		}
		b := part.Value.Bytes
		if total == 0 {
			res.FirstByteAt = time.Now()
		}
		total += len(b)
		if !truncated && kept.Len()+len(b) <= maxKeptBytes {
			kept.Write(b)
		} else {
			truncated = true
		}
		if tail != nil {
			tail.Write(b)
		}
		if err := send(&inferencev1.InvokeEndpointStreamResponse{Event: &inferencev1.InvokeEndpointStreamResponse_Part{Part: &inferencev1.PayloadPart{Bytes: b}}}); err != nil {
			stream.Close()
			if ctx.Err() != nil {
				return finish(ctx.Err())
			}
			r, _ := finish(nil)
			return r, fmt.Errorf("sagemaker: forward stream event: %w", err)
		}
	}
	if err := stream.Err(); err != nil {
		return finish(err)
	}
	if ctx.Err() != nil {
		return finish(ctx.Err())
	}
	if err := health.Err(); err != nil {
		return finish(fmt.Errorf("%w: %w", errStreamCut, err))
	}
	return finish(nil)
}
