package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Event is the shape of the events a function receives.
type Event string

const (
	// EventFunctionURL is a Lambda Function URL (payload format 2.0) in RESPONSE_STREAM mode.
	EventFunctionURL Event = "function-url"
	// EventAPIGateway is an API Gateway REST API Lambda proxy integration (payload format
	// 1.0) with responseTransferMode STREAM.
	EventAPIGateway Event = "api-gateway"
)

// ParseEvent parses a PORTICO_LAMBDA_EVENT value; "" means EventFunctionURL.
func ParseEvent(s string) (Event, error) {
	switch Event(strings.TrimSpace(s)) {
	case "", EventFunctionURL:
		return EventFunctionURL, nil
	case EventAPIGateway:
		return EventAPIGateway, nil
	default:
		return "", fmt.Errorf("lambdahttp: unknown event %q (want %s or %s)", s, EventFunctionURL, EventAPIGateway)
	}
}

type functionURLKey struct{}

type apiGatewayKey struct{}

// FunctionURLRequestFromContext returns the Function URL event a request came from.
func FunctionURLRequestFromContext(ctx context.Context) (*events.LambdaFunctionURLRequest, bool) {
	ev, ok := ctx.Value(functionURLKey{}).(*events.LambdaFunctionURLRequest)
	return ev, ok
}

// APIGatewayRequestFromContext returns the API Gateway proxy event a request came from.
func APIGatewayRequestFromContext(ctx context.Context) (*events.APIGatewayProxyRequest, bool) {
	ev, ok := ctx.Value(apiGatewayKey{}).(*events.APIGatewayProxyRequest)
	return ev, ok
}

// newRequest decodes an event payload into an HTTP request carrying ctx.
func (e Event) newRequest(ctx context.Context, payload []byte) (*http.Request, error) {
	if e == EventAPIGateway {
		return apiGatewayRequest(ctx, payload)
	}
	return functionURLRequest(ctx, payload)
}

func functionURLRequest(ctx context.Context, payload []byte) (*http.Request, error) {
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("lambdahttp: function URL event: %w", err)
	}
	if ev.RequestContext.HTTP.Method == "" || !strings.HasPrefix(ev.RawPath, "/") {
		return nil, fmt.Errorf("lambdahttp: function URL event: no method or path")
	}
	body, err := eventBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	req, err := newHTTPRequest(context.WithValue(ctx, functionURLKey{}, &ev), ev.RequestContext.HTTP.Method,
		ev.RequestContext.DomainName, target, body)
	if err != nil {
		return nil, err
	}
	// Function URLs join repeated headers with commas, and move cookies to their own field.
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	req.Header.Del("Host")
	req.RemoteAddr = remoteAddr(ev.RequestContext.HTTP.SourceIP)
	return req, nil
}

func apiGatewayRequest(ctx context.Context, payload []byte) (*http.Request, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("lambdahttp: API Gateway event: %w", err)
	}
	if ev.HTTPMethod == "" || !strings.HasPrefix(ev.Path, "/") {
		return nil, fmt.Errorf("lambdahttp: API Gateway event: no method or path")
	}
	body, err := eventBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	query := url.Values{}
	for k, vs := range ev.MultiValueQueryStringParameters {
		query[k] = vs
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := query[k]; !ok {
			query.Set(k, v)
		}
	}
	target := (&url.URL{Path: ev.Path}).EscapedPath()
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	host := ev.RequestContext.DomainName
	req, err := newHTTPRequest(context.WithValue(ctx, apiGatewayKey{}, &ev), ev.HTTPMethod, host, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if _, ok := req.Header[http.CanonicalHeaderKey(k)]; !ok {
			req.Header.Set(k, v)
		}
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h // as net/http does, the host lives in req.Host, not in the header map
	}
	req.Header.Del("Host")
	req.RemoteAddr = remoteAddr(ev.RequestContext.Identity.SourceIP)
	return req, nil
}

func eventBody(body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: event body: %w", err)
	}
	return b, nil
}

func newHTTPRequest(ctx context.Context, method, host, target string, body []byte) (*http.Request, error) {
	if host == "" {
		host = "lambda.invalid"
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+host+target, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: request: %w", err)
	}
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	req.RequestURI = target
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	return req, nil
}

// remoteAddr keeps net/http's host:port shape, so r.RemoteAddr parses as usual.
func remoteAddr(ip string) string {
	if ip == "" {
		return ""
	}
	return net.JoinHostPort(ip, "0")
}
