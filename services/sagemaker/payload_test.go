package sagemaker_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/sagemaker"
)

// TestPayloadCheckedOnce: Check refuses what Validate refuses; what it accepts runs with
// InvokeChecked and InvokeStreamChecked; a Payload Check did not make is refused before the
// call; WithMaxOutputTokens bounds the reported output of a copy, not of the original.
func TestPayloadCheckedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	ctx := context.Background()
	empty := jsonReq("x")
	empty.Body = nil
	if _, err := sagemaker.Check(empty, demoLimits); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("Check(empty body) = %v, want INVALID_ARGUMENT", err)
	}
	noop := func(*inferencev1.InvokeEndpointStreamResponse) error { return nil }
	for _, p := range []*sagemaker.Payload{nil, {}} {
		if res, err := f.client.InvokeChecked(ctx, p); connect.CodeOf(err) != connect.CodeInvalidArgument || res == nil {
			t.Errorf("InvokeChecked(%v) = %v, %v; want a Result and INVALID_ARGUMENT", p, res, err)
		}
		if res, err := f.client.InvokeStreamChecked(ctx, p, noop); connect.CodeOf(err) != connect.CodeInvalidArgument || res == nil {
			t.Errorf("InvokeStreamChecked(%v) = %v, %v; want a Result and INVALID_ARGUMENT", p, res, err)
		}
	}
	if n := f.srv.Stats().Requests.Load(); n != 0 {
		t.Fatalf("%d unchecked payloads reached the endpoint", n)
	}

	req := jsonReq("hello") // the container reports 12 generated tokens
	req.ContentType = ""
	p, err := sagemaker.Check(req, demoLimits)
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType() != "application/json" {
		t.Errorf("ContentType = %q, want the endpoint's default application/json", p.ContentType())
	}
	res, err := f.client.InvokeChecked(ctx, p)
	if err != nil || res.Usage.OutputTokens != 12 || res.Usage.Clamped {
		t.Errorf("InvokeChecked = %+v, %v; want 12 output tokens as reported", res, err)
	}
	res, err = f.client.InvokeChecked(ctx, p.WithMaxOutputTokens(5))
	if err != nil || !res.Usage.Clamped {
		t.Errorf("InvokeChecked(WithMaxOutputTokens(5)) = %+v, %v; want the report of 12 not believed", res.Usage, err)
	}
	parts := 0
	res, err = f.client.InvokeStreamChecked(ctx, p, func(ev *inferencev1.InvokeEndpointStreamResponse) error {
		if ev.GetPart() != nil {
			parts++
		}
		return nil
	})
	if err != nil || parts == 0 || res.Usage.OutputTokens == 0 {
		t.Errorf("InvokeStreamChecked = %+v, %v after %d parts", res, err, parts)
	}
}
