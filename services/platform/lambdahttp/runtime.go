package lambdahttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Runtime API paths and headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimeAPIVersion   = "2018-06-01"
	headerRequestID     = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID       = "Lambda-Runtime-Trace-Id"
	headerResponseMode  = "Lambda-Runtime-Function-Response-Mode"
	headerErrorType     = "Lambda-Runtime-Function-Error-Type"
	trailerErrorType    = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody    = "Lambda-Runtime-Function-Error-Body"
	streamingMode       = "streaming"
	streamingContentTyp = "application/vnd.awslambda.http-integration-response"
)

// Invocation describes the Lambda invocation a request came from.
type Invocation struct {
	// RequestID is the Lambda request id (Lambda-Runtime-Aws-Request-Id).
	RequestID string
	// Deadline is when Lambda stops the invocation.
	Deadline time.Time
	// FunctionARN is the ARN the function was invoked with.
	FunctionARN string
	// TraceID is the X-Ray tracing header, when tracing is on.
	TraceID string

	payload []byte
}

type invocationKey struct{}

// InvocationFromContext returns the invocation of a request served through Serve.
func InvocationFromContext(ctx context.Context) (*Invocation, bool) {
	inv, ok := ctx.Value(invocationKey{}).(*Invocation)
	return inv, ok
}

// runtimeClient speaks the Lambda Runtime API.
type runtimeClient struct {
	base string
	http *http.Client
}

func newRuntimeClient(addr string) *runtimeClient {
	tr := http.DefaultTransport.(*http.Transport).Clone() //nolint:forcetypeassert // documented type
	tr.Proxy = nil                                        // the Runtime API is link-local: never proxy
	tr.DisableCompression = true
	return &runtimeClient{
		base: "http://" + addr + "/" + runtimeAPIVersion + "/runtime/",
		http: &http.Client{Transport: tr},
	}
}

// next waits for the next invocation.
func (c *runtimeClient) next(ctx context.Context) (*Invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"invocation/next", nil)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("runtime API: next: status %d", resp.StatusCode)
	}
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next: read event: %w", err)
	}
	inv := &Invocation{
		RequestID:   resp.Header.Get(headerRequestID),
		FunctionARN: resp.Header.Get(headerFunctionARN),
		TraceID:     resp.Header.Get(headerTraceID),
		payload:     payload,
	}
	if inv.RequestID == "" {
		return nil, fmt.Errorf("runtime API: next: no %s header", headerRequestID)
	}
	ms, err := strconv.ParseInt(resp.Header.Get(headerDeadlineMS), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next: bad %s: %w", headerDeadlineMS, err)
	}
	inv.Deadline = time.UnixMilli(ms)
	return inv, nil
}

// stream POSTs body as the invocation's streaming response. trailer is sent after the body;
// fill it before body returns EOF.
func (c *runtimeClient) stream(ctx context.Context, id string, body io.Reader, trailer http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"invocation/"+id+"/response", body)
	if err != nil {
		return fmt.Errorf("runtime API: response: %w", err)
	}
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", streamingContentTyp)
	req.Header.Set(headerResponseMode, streamingMode)
	req.Trailer = trailer
	return c.do(req, "response")
}

// errorPayload is the Runtime API's error document.
type errorPayload struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// fail reports an invocation error; initError reports a failed initialisation.
func (c *runtimeClient) fail(ctx context.Context, id, errorType, message string) error {
	return c.postError(ctx, c.base+"invocation/"+id+"/error", errorType, message)
}

func (c *runtimeClient) initError(ctx context.Context, errorType, message string) error {
	return c.postError(ctx, c.base+"init/error", errorType, message)
}

func (c *runtimeClient) postError(ctx context.Context, url, errorType, message string) error {
	body, err := json.Marshal(errorPayload{ErrorMessage: message, ErrorType: errorType})
	if err != nil {
		return fmt.Errorf("runtime API: error: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("runtime API: error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerErrorType, errorType)
	return c.do(req, "error")
}

func (c *runtimeClient) do(req *http.Request, what string) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API: %s: %w", what, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime API: %s: status %d", what, resp.StatusCode)
	}
	return nil
}
