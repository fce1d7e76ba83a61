package sagemaker

import (
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Payload is an endpoint request checked against its endpoint's Limits (Validate), with the
// content type it is sent with: what [Client.InvokeChecked] and [Client.InvokeStreamChecked]
// run. Make one with Check. A handler that must check a request before it reserves quota,
// and then runs it, so checks it once; Invoke and InvokeStream check their request
// themselves.
type Payload struct {
	req         request
	lim         Limits
	contentType string
}

// Check validates req (an InvokeEndpointRequest or InvokeEndpointStreamRequest) against lim
// and returns it as a Payload. Its error is Validate's: an INVALID_ARGUMENT
// *connect.Error naming the first broken rule.
func Check(req request, lim Limits) (*Payload, error) {
	contentType, err := Validate(req, lim)
	if err != nil {
		return nil, err
	}
	return &Payload{req: req, lim: lim, contentType: contentType}, nil
}

// ContentType returns the content type the payload is sent with: the request's, or the
// endpoint's default.
func (p *Payload) ContentType() string { return p.contentType }

// WithMaxOutputTokens returns a copy of p whose reported output counts are bounded by n
// (Limits.MaxOutputTokens: the most output tokens this request may generate, known once
// its body is read). Validate does not use that bound, so the copy stays checked.
func (p *Payload) WithMaxOutputTokens(n int64) *Payload {
	c := *p
	c.lim.MaxOutputTokens = n
	return &c
}

// checked reports an error for a Payload that Check did not make.
func (p *Payload) checked() error {
	if p == nil || p.req == nil {
		return invalid("the payload was not checked (use sagemaker.Check)")
	}
	return nil
}

// input holds the fields of the SDK's InvokeEndpointInput and
// InvokeEndpointWithResponseStreamInput a Payload sets (the two inputs differ only in their
// types).
type input struct {
	endpointName, contentType, accept, customAttributes *string
	body                                                []byte
}

func (p *Payload) input() input {
	return input{
		endpointName:     aws.String(p.req.GetEndpointName()),
		body:             p.req.GetBody(),
		contentType:      aws.String(p.contentType),
		accept:           optString(p.req.GetAccept()),
		customAttributes: optString(p.req.GetCustomAttributes()),
	}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
