package smoke

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cerr := func(code connect.Code, msg string) error { return connect.NewError(code, errors.New(msg)) }
	quota := connect.NewError(connect.CodeResourceExhausted, errors.New("quota user_tokens_per_day exhausted"))
	if d, err := connect.NewErrorDetail(&typev1.QuotaExceeded{Requested: 10}); err == nil {
		quota.AddDetail(d)
	} else {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ""},
		// The services' own messages.
		{"not entitled", cerr(connect.CodePermissionDenied, "model amazon.nova-pro-v1:0 is not among your entitlements"), ClassAccessDenied},
		{"model access not enabled", cerr(connect.CodePermissionDenied, "access to this model is not enabled for Portico"), ClassAccessDenied},
		{"provider throttling", cerr(connect.CodeResourceExhausted, "the model provider is throttling requests; retry later"), ClassThrottled},
		{"portico quota", quota, ClassQuota},
		{"unknown model", cerr(connect.CodeNotFound, "the model provider does not know this model"), ClassNotFound},
		{"not ready", cerr(connect.CodeUnavailable, "the model is not ready yet; retry later"), ClassUnavailable},
		{"invalid", cerr(connect.CodeInvalidArgument, "the model provider rejected the request as invalid for this model"), ClassInvalid},
		{"provider internal", cerr(connect.CodeInternal, "the model provider had an internal error"), ClassInternal},
		{"gRPC through Lambda", cerr(connect.CodeUnimplemented, "gRPC is not served on Lambda"), ClassUnimplemented},
		{"bad token", cerr(connect.CodeUnauthenticated, "invalid bearer token"), ClassUnauthenticated},
		{"deadline code", cerr(connect.CodeDeadlineExceeded, "the model did not answer in time"), ClassTimeout},
		{"context deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), ClassTimeout},
		// AWS's wording, passed on: the cause is more precise than the code.
		{"marketplace", cerr(connect.CodePermissionDenied, "Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model."), ClassSubscription},
		{"anthropic form", cerr(connect.CodeNotFound, "Model use case details have not been submitted for this account. Fill out the Anthropic use case details form before using the model."), ClassSubscription},
		{"no on-demand in region", cerr(connect.CodeInvalidArgument, "Invocation of model ID amazon.nova-pro-v1:0 with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model."), ClassRegion},
		{"not in region", cerr(connect.CodeFailedPrecondition, "model ai21.jamba-1-5-mini-v1:0 does not run on demand in us-west-2"), ClassRegion},
		// A local error that happens to say "region" is not a region failure.
		{"local error mentioning region", errors.New("parse config: region missing"), ClassOther},
		// Token endpoint and network failures.
		{"invalid client", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 401}, ErrorCode: "invalid_client"}, ClassUnauthenticated},
		{"token endpoint down", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, ClassUnavailable},
		{"refused", fmt.Errorf("client: discovery: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), ClassUnavailable},
		{"own finding", &failure{ClassAccessDenied, "no model"}, ClassAccessDenied},
		{"anything else", errors.New("boom"), ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
