package bedrock

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// ownCodec gives one call a protocol (and so an event-stream decoder) of its own: the SDK's
// client-wide protocol shares one decoder and payload buffer between all its streams, so two
// concurrent streams on one client would race and corrupt each other's events (seen with the
// race detector on smithy-go v1.28.9). The protocol decodes text deltas itself
// (streamProtocol).
func ownCodec(o *bedrockruntime.Options) {
	o.Protocol = &streamProtocol{ClientProtocol: restjson1.New(schemas.AmazonBedrockFrontendService)}
}

// SendFunc receives the events of a streamed answer as soon as they arrive: one start (role
// and model id set, request_id left for the caller), text deltas, and one stop. It never
// receives metadata: usage comes back in the Result, for the caller to price and send. An
// error from SendFunc ends the stream at once and is returned (wrapped) by ConverseStream.
type SendFunc func(*inferencev1.ConverseStreamResponse) error

// ConverseStream validates req against call.Limits, then runs it with Bedrock's
// ConverseStream, calling send with each event as it arrives.
//
// When ctx is canceled, or send fails, the SDK stream is closed at once (the connection to
// Bedrock is dropped, so generation stops) and the usage so far is returned, estimated. When
// the stream ends without its final metadata (cut mid-way), the error is UNAVAILABLE and the
// usage estimated. The Result is never nil.
func (c *Client) ConverseStream(ctx context.Context, sreq *inferencev1.ConverseStreamRequest, call Call, send SendFunc) (*Result, error) {
	conv, err := Check(StreamConversation(sreq), call)
	if err != nil {
		return &Result{}, err
	}
	return c.ConverseStreamChecked(ctx, conv, send)
}

// StreamConversation returns the conversation a ConverseStreamRequest holds as a
// ConverseRequest (sharing its messages), the form Check, Validate and the estimates take.
func StreamConversation(sreq *inferencev1.ConverseStreamRequest) *inferencev1.ConverseRequest {
	return &inferencev1.ConverseRequest{
		ModelId:         sreq.GetModelId(),
		Messages:        sreq.GetMessages(),
		SystemPrompt:    sreq.GetSystemPrompt(),
		InferenceConfig: sreq.GetInferenceConfig(),
		KnowledgeBaseId: sreq.GetKnowledgeBaseId(),
	}
}

// ConverseStreamChecked runs a conversation Check made with Bedrock's ConverseStream, as
// ConverseStream does, without checking it again.
func (c *Client) ConverseStreamChecked(ctx context.Context, conv *Conversation, send SendFunc) (*Result, error) {
	res := &Result{}
	if err := conv.checked(); err != nil {
		return res, err
	}
	req, call := conv.req, conv.call
	res.GuardrailID = conv.guardrailID()
	out, err := c.rt.ConverseStream(ctx, conv.streamInput(), ownCodec)
	if err != nil {
		return res, c.refused(ctx, res, req, err)
	}
	res.UpstreamRequestID, _ = middleware.GetRequestIDMetadata(out.ResultMetadata)
	stream := out.GetStream()
	defer stream.Close()

	var text strings.Builder
	deltas := 0
	gotMetadata := false
	cites := newCiter()
	finish := func(err error) (*Result, error) {
		res.Output = textMessage(text.String())
		res.Citations = cites.citations()
		if !gotMetadata {
			res.Usage = estimatedUsage(req, deltas, text.String())
		}
		if err == nil {
			return res, nil
		}
		return res, c.toConnect(ctx, err)
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
		var msg *inferencev1.ConverseStreamResponse
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			msg = &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Start{Start: &inferencev1.MessageStart{
				Role: inferencev1.Role_ROLE_ASSISTANT, ModelId: req.GetModelId(),
			}}}
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if cd, isCitation := v.Value.Delta.(*types.ContentBlockDeltaMemberCitation); isCitation {
				cites.addDelta(aws.ToInt32(v.Value.ContentBlockIndex), cd.Value)
				continue
			}
			t, isText := v.Value.Delta.(*types.ContentBlockDeltaMemberText)
			if !isText {
				continue
			}
			if deltas == 0 {
				res.FirstTokenAt = time.Now()
			}
			deltas++
			text.WriteString(t.Value)
			msg = &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Delta{Delta: &inferencev1.ContentDelta{
				ContentBlockIndex: aws.ToInt32(v.Value.ContentBlockIndex), Text: t.Value,
			}}}
		case *types.ConverseStreamOutputMemberContentBlockStop:
			// The markers of the citations made in the block follow its text.
			block := aws.ToInt32(v.Value.ContentBlockIndex)
			m := cites.markers(block)
			if m == "" {
				continue
			}
			text.WriteString(m)
			msg = &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Delta{Delta: &inferencev1.ContentDelta{
				ContentBlockIndex: block, Text: m,
			}}}
		case *types.ConverseStreamOutputMemberMessageStop:
			res.StopReason = stopReason(v.Value.StopReason)
			msg = &inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Stop{Stop: &inferencev1.MessageStop{
				StopReason: res.StopReason, GuardrailId: res.GuardrailID,
			}}}
		case *types.ConverseStreamOutputMemberMetadata:
			if v.Value.Usage != nil {
				gotMetadata = true
				res.Usage = reportedUsage(v.Value.Usage, req, call.Limits, deltas, text.String())
			}
			if v.Value.Metrics != nil {
				res.ProviderLatency = time.Duration(aws.ToInt64(v.Value.Metrics.LatencyMs)) * time.Millisecond
			}
			continue
		default:
			continue
		}
		if err := send(msg); err != nil {
			stream.Close()
			if isCanceled(ctx, err) {
				return finish(ctx.Err())
			}
			r, _ := finish(nil)
			return r, fmt.Errorf("bedrock: forward stream event: %w", err)
		}
	}
	if err := stream.Err(); err != nil {
		return finish(err)
	}
	if ctx.Err() != nil {
		return finish(ctx.Err())
	}
	if !gotMetadata {
		return finish(errStreamEnded)
	}
	return finish(nil)
}
