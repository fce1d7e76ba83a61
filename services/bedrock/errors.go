package bedrock

import (
	"context"
	"errors"
	"strings"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// errStreamEnded is the cause of an error when a stream ended without its final metadata.
var errStreamEnded = errors.New("bedrock: the answer stream ended before its final metadata")

// toConnect maps an error of the SDK (or of the context) to a *connect.Error with a precise
// code and a message safe to show users.
func (c *Client) toConnect(ctx context.Context, err error) *connect.Error {
	classifyCtx := func(err error) (connect.Code, string, bool) { return classify(ctx, err) }
	notReady := func(code connect.Code, err error) bool { return code == connect.CodeUnavailable && isNotReady(err) }
	return c.settings.ToConnect(err, classifyCtx, notReady)
}

func isNotReady(err error) bool {
	var e *types.ModelNotReadyException
	return errors.As(err, &e)
}

// mentions reports whether an AWS error message contains phrase, ignoring case.
func mentions(msg, phrase string) bool {
	return strings.Contains(strings.ToLower(msg), phrase)
}

// classify returns the connect code, the user-safe message and whether a RetryAfter hint
// applies. Three causes that need an operator keep their code but get their own message,
// so that callers (and `portico smoke`) can tell them apart: a missing AWS Marketplace
// subscription, a missing Anthropic first-use form, and a model that does not run on demand
// in the region.
func classify(ctx context.Context, err error) (connect.Code, string, bool) {
	var (
		accessDenied  *types.AccessDeniedException
		notFound      *types.ResourceNotFoundException
		throttling    *types.ThrottlingException
		quota         *types.ServiceQuotaExceededException
		timeout       *types.ModelTimeoutException
		notReady      *types.ModelNotReadyException
		modelErr      *types.ModelErrorException
		modelStream   *types.ModelStreamErrorException
		validation    *types.ValidationException
		unavailable   *types.ServiceUnavailableException
		internal      *types.InternalServerException
		conflict      *types.ConflictException
		apiErr        smithy.APIError
		deadlineError interface{ Timeout() bool }
	)
	// The caller's own cancellation wins over whatever the SDK saw as a consequence.
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return connect.CodeDeadlineExceeded, "the model did not answer in time", false
		}
		return connect.CodeCanceled, "the request was canceled", false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded, "the model did not answer in time", false
	case errors.As(err, &accessDenied):
		if mentions(accessDenied.ErrorMessage(), "marketplace") {
			return connect.CodePermissionDenied, "this model needs an AWS Marketplace subscription for the account, which could not be completed; an operator must enable the model", false
		}
		return connect.CodePermissionDenied, "access to this model is not enabled for Portico", false
	case errors.As(err, &notFound):
		if mentions(notFound.ErrorMessage(), "use case details") {
			return connect.CodeNotFound, "the model provider's first-use form (use case details) has not been submitted for this account", false
		}
		return connect.CodeNotFound, "the model provider does not know this model", false
	case errors.As(err, &throttling):
		return connect.CodeResourceExhausted, "the model provider is throttling requests; retry later", true
	case errors.As(err, &quota):
		return connect.CodeResourceExhausted, "the model provider's service quota is exhausted; retry later", true
	case errors.As(err, &timeout):
		return connect.CodeDeadlineExceeded, "the model took too long to answer", false
	case errors.As(err, &notReady):
		return connect.CodeUnavailable, "the model is not ready yet; retry later", true
	case errors.As(err, &modelErr):
		return connect.CodeInternal, "the model failed to process the request", false
	case errors.As(err, &modelStream):
		return connect.CodeUnavailable, "the model's answer stream failed; retry", true
	case errors.As(err, &validation):
		if mentions(validation.ErrorMessage(), "on-demand throughput") {
			return connect.CodeInvalidArgument, "this model does not run on demand in this region: the catalog must name an inference profile for it", false
		}
		return connect.CodeInvalidArgument, "the model provider rejected the request as invalid for this model", false
	case errors.As(err, &unavailable):
		return connect.CodeUnavailable, "the model provider is unavailable; retry later", true
	case errors.As(err, &internal):
		return connect.CodeInternal, "the model provider had an internal error", false
	case errors.As(err, &conflict):
		return connect.CodeAborted, "the model provider refused the request as conflicting", false
	case errors.Is(err, errStreamEnded):
		return connect.CodeUnavailable, "the answer stream was interrupted; retry", true
	case errors.As(err, &apiErr):
		return awsrt.ClassifyCode(apiErr.ErrorCode(), "the model provider")
	case errors.As(err, &deadlineError) && deadlineError.Timeout():
		return connect.CodeDeadlineExceeded, "the model provider did not answer in time", false
	}
	return connect.CodeUnavailable, "the model provider could not be reached; retry later", true
}
