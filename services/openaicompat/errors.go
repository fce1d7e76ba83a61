package openaicompat

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"connectrpc.com/connect"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// throttleRetryAfter is the Retry-After sent when the provider throttles (it says no time).
const throttleRetryAfter = 2 * time.Second

// apiError is an error in OpenAI's shape with its HTTP status.
type apiError struct {
	status     int
	Message    string  `json:"message"`
	Type       string  `json:"type"`
	Param      *string `json:"param"`
	Code       *string `json:"code"`
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.Message }

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// badRequest is a 400 naming param.
func badRequest(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, Message: msg, Type: "invalid_request_error", Param: ptr(param)}
}

func unsupported(param string) *apiError {
	e := badRequest(param, "the parameter "+param+" is not supported by Portico's OpenAI-compatible endpoint")
	e.Code = ptr("unsupported_parameter")
	return e
}

func modelNotFound(model string) *apiError {
	return &apiError{status: http.StatusNotFound, Type: "invalid_request_error", Param: ptr("model"), Code: ptr("model_not_found"),
		Message: "The model `" + model + "` does not exist or you do not have access to it."}
}

// fromConnect maps an inference error onto OpenAI's shape and statuses.
func fromConnect(err error, model string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeOutOfRange:
		return &apiError{status: http.StatusBadRequest, Message: msg, Type: "invalid_request_error"}
	case connect.CodeUnauthenticated:
		return unauthenticated("invalid credentials")
	case connect.CodePermissionDenied, connect.CodeNotFound:
		// Inference refuses a model the caller may not use, or that the catalog lacks:
		// OpenAI answers both with 404 model_not_found.
		return modelNotFound(model)
	case connect.CodeResourceExhausted:
		// A Portico quota carries QuotaExceeded; the provider's throttling does not. Both
		// say when to retry (RetryAfter).
		e := &apiError{status: http.StatusTooManyRequests, Message: msg, Type: "rate_limit_error", Code: ptr("rate_limit_exceeded"), retryAfter: throttleRetryAfter}
		if ce != nil {
			for _, d := range ce.Details() {
				v, derr := d.Value()
				if derr != nil {
					continue
				}
				switch v := v.(type) {
				case *typev1.QuotaExceeded:
					e.Type, e.Code = "insufficient_quota", ptr("insufficient_quota")
				case *typev1.RetryAfter:
					e.retryAfter = time.Duration(v.GetDelayMs()) * time.Millisecond
				}
			}
		}
		return e
	case connect.CodeUnavailable:
		return &apiError{status: http.StatusServiceUnavailable, Message: msg, Type: "server_error", retryAfter: throttleRetryAfter}
	case connect.CodeDeadlineExceeded:
		return &apiError{status: http.StatusGatewayTimeout, Message: msg, Type: "server_error"}
	case connect.CodeCanceled:
		return &apiError{status: 499, Message: "the request was canceled", Type: "server_error"}
	}
	return &apiError{status: http.StatusInternalServerError, Message: "internal error", Type: "server_error"}
}

func unauthenticated(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, Message: msg, Type: "invalid_request_error", Code: ptr("invalid_api_key")}
}

// retryAfterSeconds is Retry-After's value: whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// writeError writes e as OpenAI's error body.
func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.status == http.StatusTooManyRequests || (e.status == http.StatusServiceUnavailable && e.retryAfter > 0) {
		h.Set("Retry-After", retryAfterSeconds(e.retryAfter))
	}
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="portico"`)
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]*apiError{"error": e})
}
