package smoke

import (
	"context"
	"errors"
	"net"
	"strings"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// Class is the kind of a failure, named for what to do about it.
type Class string

// The classes, from the most specific to the least.
const (
	// ClassRegion: the model does not run on demand in the deployment's region (use an
	// inference profile, or another region).
	ClassRegion Class = "region"
	// ClassSubscription: the model needs an AWS Marketplace subscription or the Anthropic
	// first-use form.
	ClassSubscription Class = "subscription"
	// ClassAccessDenied: the caller is not entitled, or AWS denies Portico access to the
	// model (model access not enabled, IAM).
	ClassAccessDenied Class = "access denied"
	// ClassUnauthenticated: no token, or the services refuse it.
	ClassUnauthenticated Class = "unauthenticated"
	// ClassQuota: a Portico quota is exhausted (a QuotaExceeded detail).
	ClassQuota Class = "quota"
	// ClassThrottled: the provider throttles requests or its service quota is exhausted.
	ClassThrottled Class = "throttled"
	// ClassNotFound: no such model or endpoint, in the catalog or at the provider.
	ClassNotFound Class = "not found"
	// ClassUnavailable: the services or the provider cannot be reached or are not ready.
	ClassUnavailable Class = "unavailable"
	// ClassTimeout: no answer in time.
	ClassTimeout Class = "timeout"
	// ClassInvalid: the request was refused as invalid for this model or endpoint.
	ClassInvalid Class = "invalid"
	// ClassUnimplemented: the method or protocol is not served (gRPC through Lambda).
	ClassUnimplemented Class = "unimplemented"
	// ClassInternal: the services or the provider failed.
	ClassInternal Class = "internal"
	// ClassOther: anything else.
	ClassOther Class = "error"
)

// Phrases of AWS error messages (and of Portico's, which pass them on) that name the cause
// more precisely than the code. Matched in lower case.
var (
	subscriptionPhrases = []string{"marketplace", "subscri", "use case details", "first-use", "first use"}
	regionPhrases       = []string{"region", "inference profile", "on-demand throughput", "on demand"}
)

// failure is a check's own finding, of a known class.
type failure struct {
	class Class
	msg   string
}

func (f *failure) Error() string { return f.msg }

// Classify returns the class of err ("" for nil).
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	if f := (*failure)(nil); errors.As(err, &f) {
		return f.class
	}
	msg := strings.ToLower(err.Error())
	code := connect.CodeOf(err)
	var (
		retrieve *oauth2.RetrieveError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || code == connect.CodeDeadlineExceeded:
		return ClassTimeout
	case containsAny(msg, subscriptionPhrases):
		return ClassSubscription
	case code != connect.CodeUnknown && containsAny(msg, regionPhrases):
		return ClassRegion
	case code == connect.CodePermissionDenied:
		return ClassAccessDenied
	case code == connect.CodeUnauthenticated:
		return ClassUnauthenticated
	case code == connect.CodeResourceExhausted:
		if hasQuotaExceeded(err) {
			return ClassQuota
		}
		return ClassThrottled
	case code == connect.CodeNotFound:
		return ClassNotFound
	case code == connect.CodeUnavailable:
		return ClassUnavailable
	case code == connect.CodeInvalidArgument, code == connect.CodeFailedPrecondition, code == connect.CodeOutOfRange:
		return ClassInvalid
	case code == connect.CodeUnimplemented:
		return ClassUnimplemented
	case code == connect.CodeInternal, code == connect.CodeDataLoss:
		return ClassInternal
	case errors.As(err, &retrieve):
		if retrieve.Response != nil && retrieve.Response.StatusCode >= 500 {
			return ClassUnavailable
		}
		return ClassUnauthenticated
	case errors.As(err, &netErr):
		if netErr.Timeout() {
			return ClassTimeout
		}
		return ClassUnavailable
	}
	return ClassOther
}

func hasQuotaExceeded(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if _, ok := v.(*typev1.QuotaExceeded); ok {
				return true
			}
		}
	}
	return false
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
