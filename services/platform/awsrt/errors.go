package awsrt

import (
	"errors"

	"connectrpc.com/connect"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"google.golang.org/protobuf/types/known/timestamppb"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// upstreamError carries a user-safe message while keeping the AWS error reachable through
// errors.As and errors.Unwrap (for logs; never send it to users).
type upstreamError struct {
	msg   string
	cause error
}

func (e *upstreamError) Error() string { return e.msg }
func (e *upstreamError) Unwrap() error { return e.cause }

// ToConnect maps err to a *connect.Error: nil for nil, a *connect.Error in err's chain as
// it is, otherwise one with the code and user-safe message of classify that keeps err as
// its cause. When classify says the call may be retried, the error carries a RetryAfter
// detail: s.NotReadyRetry from now when notReady(code, err), s.RetryAfter otherwise.
func (s Settings) ToConnect(err error, classify func(error) (code connect.Code, msg string, retry bool), notReady func(connect.Code, error) bool) *connect.Error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	code, msg, retry := classify(err)
	ue := connect.NewError(code, &upstreamError{msg: msg, cause: err})
	if retry {
		d := s.RetryAfter
		if notReady(code, err) {
			d = s.NotReadyRetry
		}
		if detail, derr := connect.NewErrorDetail(&typev1.RetryAfter{
			RetryAt: timestamppb.New(s.Now().Add(d)),
			DelayMs: d.Milliseconds(),
		}); derr == nil {
			ue.AddDetail(detail)
		}
	}
	return ue
}

// RequestID returns the upstream request id carried by an SDK error, if any.
func RequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// AuthFailure reports whether an AWS error code says the service refused the request's
// credentials or signature: Portico's own configuration failed, not the caller.
func AuthFailure(code string) bool {
	switch code {
	case "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException", "ExpiredTokenException", "IncompleteSignature":
		return true
	}
	return false
}

// Throttled reports whether an AWS error code, on an error none of the service's own
// exception types matched, says the request was throttled.
func Throttled(code string) bool {
	return code == "ThrottlingException" || code == "TooManyRequestsException"
}

// ClassifyCode classifies an AWS error by its code when none of the service's own exception
// types matched it: Portico's own credentials refused (INTERNAL), throttling
// (RESOURCE_EXHAUSTED, may be retried), anything else unexpected (INTERNAL). subject names
// the service in the user-safe message ("the model provider", "SageMaker").
func ClassifyCode(code, subject string) (connect.Code, string, bool) {
	switch {
	case AuthFailure(code):
		return connect.CodeInternal, "Portico could not authenticate to " + subject, false
	case Throttled(code):
		return connect.CodeResourceExhausted, subject + " is throttling requests; retry later", true
	}
	return connect.CodeInternal, subject + " answered with an unexpected error", false
}
