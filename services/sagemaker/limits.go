package sagemaker

import (
	"fmt"
	"mime"
	"slices"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Limits of SageMaker real-time inference.
const (
	// MaxPayloadBytes is SageMaker's limit on a real-time request payload (6 MB).
	MaxPayloadBytes = 6 << 20
	// MaxCustomAttributes is the longest CustomAttributes value, in characters.
	MaxCustomAttributes = 1024
	// DefaultContentType is the request content type when neither the request nor the
	// endpoint's Limits name one.
	DefaultContentType = "application/json"
	bytesPerToken      = 4
)

// Limits are what one endpoint accepts, from the catalog.
type Limits struct {
	// ContentTypes are the request content types the endpoint accepts, first the default;
	// empty accepts any and defaults to application/json.
	ContentTypes []string
	// MaxPayloadBytes is the largest payload; 0 means MaxPayloadBytes.
	MaxPayloadBytes int64
	// Usage says where the container reports token usage; the zero value reads none, and
	// every count is estimated.
	Usage UsageReport
	// MaxInputTokens and MaxOutputTokens bound the counts a report may give: the endpoint's
	// context window, and the most output tokens this request may generate. A count outside
	// 0..bound is not believed (see Usage.Clamped); a bound <= 0 believes no count.
	MaxInputTokens, MaxOutputTokens int64
}

func invalid(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}

// request is the common shape of InvokeEndpointRequest and InvokeEndpointStreamRequest.
type request interface {
	GetEndpointName() string
	GetContentType() string
	GetAccept() string
	GetBody() []byte
	GetCustomAttributes() string
}

var (
	_ request = (*inferencev1.InvokeEndpointRequest)(nil)
	_ request = (*inferencev1.InvokeEndpointStreamRequest)(nil)
)

// Validate checks a request against SageMaker's rules and the endpoint's limits and returns
// the content type to send. Errors are INVALID_ARGUMENT *connect.Error values.
func Validate(req request, lim Limits) (contentType string, err error) {
	if req.GetEndpointName() == "" {
		return "", invalid("endpoint_name is required")
	}
	maxBytes := lim.MaxPayloadBytes
	if maxBytes == 0 {
		maxBytes = MaxPayloadBytes
	}
	switch n := len(req.GetBody()); {
	case n == 0:
		return "", invalid("body is empty")
	case int64(n) > maxBytes:
		return "", invalid("body has %d bytes; at most %d are allowed", n, maxBytes)
	}
	contentType = req.GetContentType()
	if contentType == "" {
		contentType = DefaultContentType
		if len(lim.ContentTypes) > 0 {
			contentType = lim.ContentTypes[0]
		}
	}
	mt, _, perr := mime.ParseMediaType(contentType)
	if perr != nil {
		return "", invalid("content_type %q is not a valid media type", contentType)
	}
	if len(lim.ContentTypes) > 0 && !slices.Contains(lim.ContentTypes, mt) {
		return "", invalid("content_type %q is not accepted by this endpoint; use one of %v", mt, lim.ContentTypes)
	}
	if a := req.GetAccept(); a != "" {
		if _, _, err := mime.ParseMediaType(a); err != nil {
			return "", invalid("accept %q is not a valid media type", a)
		}
	}
	ca := req.GetCustomAttributes()
	if len(ca) > MaxCustomAttributes {
		return "", invalid("custom_attributes has %d characters; at most %d are allowed", len(ca), MaxCustomAttributes)
	}
	for _, c := range ca {
		if c < 0x20 || c > 0x7e {
			return "", invalid("custom_attributes must be visible ASCII characters")
		}
	}
	return contentType, nil
}
