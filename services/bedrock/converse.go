package bedrock

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Usage is the token usage of one call.
type Usage struct {
	// InputTokens, OutputTokens and TotalTokens are as Bedrock reported them, or estimated.
	InputTokens, OutputTokens, TotalTokens int64
	// Estimated is true when Bedrock reported no usage (a failed, canceled or cut stream, a
	// canceled call) and the figures are Portico's estimate: input by EstimateInputTokens,
	// output as the larger of the number of text deltas received and their bytes / 4.
	Estimated bool
	// Clamped is true when Bedrock reported a count the request could not have used (see
	// Limits.MaxInputTokens): the figures are then Portico's estimate (Estimated is set too).
	Clamped bool
}

// Result is the outcome of a call. Converse and ConverseStream return a non-nil Result even
// with an error, so that usage so far and the upstream request id can be settled and audited.
type Result struct {
	// Output is the answer (role assistant, one text block). For a stream it is the text
	// received, complete or not.
	Output *inferencev1.Message
	// StopReason is why the model stopped; unspecified when the call failed.
	StopReason inferencev1.StopReason
	// Usage is the token usage.
	Usage Usage
	// UpstreamRequestID is Bedrock's request id, when an answer (or error) carried one.
	UpstreamRequestID string
	// GuardrailID is the guardrail applied, when the call had one.
	GuardrailID string
	// ProviderLatency is the latency Bedrock reported (metrics.latencyMs), 0 when absent.
	ProviderLatency time.Duration
	// FirstTokenAt is when the first text delta arrived (streams only; zero when none did).
	FirstTokenAt time.Time
	// Citations are the sources the model cited in its documents (Limits.Citations), by the
	// numbers of the markers ("[1]") appended to the cited text; nil when none.
	Citations []*inferencev1.Citation
}

func estimatedUsage(req *inferencev1.ConverseRequest, deltas int, text string) Usage {
	in := EstimateInputTokens(req)
	out := int64(max(deltas, (len(text)+bytesPerToken-1)/bytesPerToken))
	return Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out, Estimated: true}
}

// reportedUsage takes the usage Bedrock reported, checking each count against what the
// request could have used, like SageMaker's (the SDK's int32 today; the rule holds whatever
// the type): input within the model's context window (Limits.MaxInputTokens), output within
// the request's max tokens (MaxTokens). A count outside that, or negative, is not believed:
// the usage is then the estimate (deltas and text are what the answer held), marked Clamped.
func reportedUsage(u *types.TokenUsage, req *inferencev1.ConverseRequest, lim Limits, deltas int, text string) Usage {
	in, out := int64(aws.ToInt32(u.InputTokens)), int64(aws.ToInt32(u.OutputTokens))
	inMax, outMax := lim.MaxInputTokens, MaxTokens(req, lim)
	if inMax <= 0 {
		inMax = math.MaxInt32
	}
	if outMax <= 0 {
		outMax = math.MaxInt32
	}
	if in < 0 || in > inMax || out < 0 || out > outMax {
		est := estimatedUsage(req, deltas, text)
		est.Clamped = true
		return est
	}
	total := int64(aws.ToInt32(u.TotalTokens))
	if total < in+out {
		total = in + out
	}
	return Usage{InputTokens: in, OutputTokens: out, TotalTokens: total}
}

// Converse validates req against call.Limits, then runs it with Bedrock's Converse and
// returns the whole answer. Errors are *connect.Error (see package doc); the Result is
// non-nil even then. When ctx is canceled the usage is an estimate of the input alone.
func (c *Client) Converse(ctx context.Context, req *inferencev1.ConverseRequest, call Call) (*Result, error) {
	conv, err := Check(req, call)
	if err != nil {
		return &Result{}, err
	}
	return c.ConverseChecked(ctx, conv)
}

// ConverseChecked runs a conversation Check made with Bedrock's Converse, as Converse does,
// without checking it again.
func (c *Client) ConverseChecked(ctx context.Context, conv *Conversation) (*Result, error) {
	res := &Result{}
	if err := conv.checked(); err != nil {
		return res, err
	}
	req, call := conv.req, conv.call
	res.GuardrailID = conv.guardrailID()
	out, err := c.rt.Converse(ctx, conv.converseInput())
	if err != nil {
		return res, c.refused(ctx, res, req, err)
	}
	res.UpstreamRequestID, _ = middleware.GetRequestIDMetadata(out.ResultMetadata)
	var text strings.Builder
	cites := newCiter()
	if msg, ok := out.Output.(*types.ConverseOutputMemberMessage); ok {
		for i, b := range msg.Value.Content {
			switch v := b.(type) {
			case *types.ContentBlockMemberText:
				text.WriteString(v.Value)
			case *types.ContentBlockMemberCitationsContent:
				text.WriteString(cites.citationsText(int32(i), v.Value)) //nolint:gosec // G115: few blocks
			}
		}
	}
	res.Citations = cites.citations()
	res.Output = textMessage(text.String())
	res.StopReason = stopReason(out.StopReason)
	if out.Usage != nil {
		res.Usage = reportedUsage(out.Usage, req, call.Limits, 0, text.String())
	} else {
		res.Usage = estimatedUsage(req, 0, text.String())
	}
	if out.Metrics != nil {
		res.ProviderLatency = time.Duration(aws.ToInt64(out.Metrics.LatencyMs)) * time.Millisecond
	}
	return res, nil
}

// refused fills res for a call Bedrock did not start (its request id, and when ctx ended,
// the estimate of the input alone) and returns err as a *connect.Error.
func (c *Client) refused(ctx context.Context, res *Result, req *inferencev1.ConverseRequest, err error) *connect.Error {
	res.UpstreamRequestID = awsrt.RequestID(err)
	if ctx.Err() != nil {
		res.Usage = estimatedUsage(req, 0, "")
		res.Usage.OutputTokens, res.Usage.TotalTokens = 0, res.Usage.InputTokens
	}
	return c.toConnect(ctx, err)
}

// isCanceled reports whether err is the caller's own cancellation.
func isCanceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || connect.CodeOf(err) == connect.CodeCanceled)
}
