package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// errStreamCut is the cause when a response stream's connection failed mid-way.
var errStreamCut = errors.New("sagemaker: the response stream was cut")

// toConnect maps an error of the SDK (or of the context) to a *connect.Error with a precise
// code and a user-safe message.
func (c *Client) toConnect(ctx context.Context, err error) *connect.Error {
	classifyCtx := func(err error) (connect.Code, string, bool) { return classify(ctx, err) }
	notReady := func(_ connect.Code, err error) bool { return isNotReady(err) }
	return c.settings.ToConnect(err, classifyCtx, notReady)
}

func isNotReady(err error) bool {
	var e *types.ModelNotReadyException
	return errors.As(err, &e)
}

// classify returns the connect code, the user-safe message and whether a RetryAfter hint
// applies.
func classify(ctx context.Context, err error) (connect.Code, string, bool) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return connect.CodeDeadlineExceeded, "the endpoint did not answer in time", false
		}
		return connect.CodeCanceled, "the request was canceled", false
	}
	var (
		modelErr    *types.ModelError
		notReady    *types.ModelNotReadyException
		validation  *types.ValidationError
		internal    *types.InternalFailure
		unavailable *types.ServiceUnavailable
		dependency  *types.InternalDependencyException
		streamErr   *types.ModelStreamError
		streamFail  *types.InternalStreamFailure
		apiErr      smithy.APIError
		timeoutErr  interface{ Timeout() bool }
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded, "the endpoint did not answer in time", false
	case errors.As(err, &modelErr):
		return modelErrorCode(int(aws.ToInt32(modelErr.OriginalStatusCode)))
	case errors.As(err, &notReady):
		return connect.CodeUnavailable, "the endpoint's model is not ready yet; retry later", true
	case errors.As(err, &validation):
		if strings.Contains(strings.ToLower(validation.ErrorMessage()), "not found") {
			return connect.CodeNotFound, "the endpoint does not exist", false
		}
		return connect.CodeInvalidArgument, "SageMaker rejected the request as invalid for this endpoint", false
	case errors.As(err, &internal):
		return connect.CodeInternal, "SageMaker had an internal failure", false
	case errors.As(err, &unavailable):
		return connect.CodeUnavailable, "SageMaker is unavailable; retry later", true
	case errors.As(err, &dependency):
		return connect.CodeUnavailable, "SageMaker could not reach an internal dependency; retry later", true
	case errors.As(err, &streamErr):
		return connect.CodeUnavailable, "the endpoint's model failed while streaming; retry", true
	case errors.As(err, &streamFail):
		return connect.CodeUnavailable, "SageMaker failed while streaming; retry", true
	case errors.Is(err, errStreamCut):
		return connect.CodeUnavailable, "the response stream was interrupted; retry", true
	case errors.As(err, &apiErr):
		if apiErr.ErrorCode() == "AccessDeniedException" {
			return connect.CodePermissionDenied, "Portico may not invoke this endpoint", false
		}
		return awsrt.ClassifyCode(apiErr.ErrorCode(), "SageMaker")
	case errors.As(err, &timeoutErr) && timeoutErr.Timeout():
		return connect.CodeDeadlineExceeded, "the endpoint did not answer in time", false
	}
	return connect.CodeUnavailable, "SageMaker could not be reached; retry later", true
}

// modelErrorCode maps a ModelError by the status the container answered with: the
// container's 4xx means the payload was wrong for the model, 429/503 that it is busy, other
// statuses that the model failed.
func modelErrorCode(status int) (connect.Code, string, bool) {
	msg := fmt.Sprintf("the endpoint's model answered with status %d", status)
	switch {
	case status == http.StatusTooManyRequests:
		return connect.CodeResourceExhausted, msg + " (busy); retry later", true
	case status == http.StatusServiceUnavailable:
		return connect.CodeUnavailable, msg + " (unavailable); retry later", true
	case status == http.StatusRequestEntityTooLarge:
		return connect.CodeInvalidArgument, msg + ": the payload is too large for the model", false
	case status == http.StatusUnsupportedMediaType:
		return connect.CodeInvalidArgument, msg + ": the content type is not supported by the model", false
	case status >= 400 && status < 500:
		return connect.CodeInvalidArgument, msg + ": the payload was rejected", false
	}
	return connect.CodeInternal, msg + ": the model failed", false
}
