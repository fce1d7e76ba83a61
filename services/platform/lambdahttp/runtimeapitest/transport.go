package runtimeapitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Event shapes a Transport produces.
const (
	FunctionURL = "function-url"
	APIGateway  = "api-gateway"
)

// Transport is an http.RoundTripper that delivers each request to the function as a
// Function URL or API Gateway REST proxy event and turns the streaming answer back into an
// HTTP response whose body streams as the function produces it.
type Transport struct {
	// Server is the Runtime API the function polls.
	Server *Server
	// Event is FunctionURL (default) or APIGateway.
	Event string
	// Timeout is the invocation's time to deadline (default 30 s).
	Timeout time.Duration
	// OnInvoke, when set, sees each invocation as it is enqueued.
	OnInvoke func(*Invocation)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("runtimeapi: read request: %w", err)
		}
		body = b
	}
	var (
		payload []byte
		err     error
	)
	if t.Event == APIGateway {
		payload, err = json.Marshal(apiGatewayEvent(req, body))
	} else {
		payload, err = json.Marshal(functionURLEvent(req, body))
	}
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: event: %w", err)
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	inv := t.Server.Enqueue(payload, timeout)
	if t.OnInvoke != nil {
		t.OnInvoke(inv)
	}
	return readResponse(req, inv)
}

// readResponse waits for the prelude, then streams the rest of the body.
func readResponse(req *http.Request, inv *Invocation) (*http.Response, error) {
	var head bytes.Buffer
	var rest []byte
	for {
		select {
		case <-req.Context().Done():
			return nil, fmt.Errorf("runtimeapi: %w", req.Context().Err())
		case c, ok := <-inv.Chunks():
			if !ok {
				res, err := inv.Wait(req.Context())
				if err != nil {
					return nil, err
				}
				if res.ErrorType != "" {
					// What a Function URL answers when the function fails before streaming.
					return &http.Response{
						StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway",
						Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
						Header:  http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {res.ErrorType}},
						Body:    io.NopCloser(strings.NewReader(`{"Message":"Internal Server Error"}`)),
						Request: req,
					}, nil
				}
				return nil, errors.New("runtimeapi: response ended before the prelude delimiter")
			}
			head.Write(c.Data)
		}
		if i := bytes.Index(head.Bytes(), make([]byte, 8)); i >= 0 {
			rest = bytes.Clone(head.Bytes()[i+8:])
			head.Truncate(i)
			break
		}
	}
	var p struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
	}
	if err := json.Unmarshal(head.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("runtimeapi: prelude %q: %w", head.String(), err)
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	for k, vs := range p.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range p.Cookies {
		h.Add("Set-Cookie", c)
	}
	pr, pw := io.Pipe()
	ctx := req.Context()
	go func() {
		if len(rest) > 0 {
			if _, err := pw.Write(rest); err != nil {
				return
			}
		}
		for c := range inv.Chunks() {
			if _, err := pw.Write(c.Data); err != nil {
				return
			}
		}
		res, err := inv.Wait(ctx)
		if err != nil {
			_ = pw.CloseWithError(err)
			return
		}
		if res.ErrorType != "" {
			_ = pw.CloseWithError(fmt.Errorf("runtimeapi: function failed mid-stream: %s", res.ErrorType))
			return
		}
		_ = pw.Close()
	}()
	return &http.Response{
		StatusCode: p.StatusCode, Status: fmt.Sprintf("%d %s", p.StatusCode, http.StatusText(p.StatusCode)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// textual reports whether AWS would pass a body of this type as text rather than base64.
func textual(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "xml") || strings.Contains(ct, "x-www-form-urlencoded")
}

func encodeBody(req *http.Request, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if textual(req.Header.Get("Content-Type")) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

const (
	testDomain   = "abcdefghij.lambda-url.us-east-1.on.aws"
	testSourceIP = "198.51.100.7"
)

func functionURLEvent(req *http.Request, body []byte) *events.LambdaFunctionURLRequest {
	ev := &events.LambdaFunctionURLRequest{
		Version:        "2.0",
		RawPath:        req.URL.EscapedPath(),
		RawQueryString: req.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: testDomain,
			RequestID:  "furl-request",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: req.Method, Path: req.URL.Path, Protocol: "HTTP/1.1",
				SourceIP: testSourceIP, UserAgent: req.UserAgent(),
			},
		},
	}
	for k, vs := range req.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = testDomain
	ev.Body, ev.IsBase64Encoded = encodeBody(req, body)
	return ev
}

func apiGatewayEvent(req *http.Request, body []byte) *events.APIGatewayProxyRequest {
	ev := &events.APIGatewayProxyRequest{
		Resource:          "/{proxy+}",
		Path:              req.URL.Path,
		HTTPMethod:        req.Method,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage: "prod", DomainName: "abcdefghij.execute-api.us-east-1.amazonaws.com",
			RequestID: "apigw-request", Path: "/prod" + req.URL.Path, HTTPMethod: req.Method,
			ResourcePath: "/{proxy+}",
			Identity:     events.APIGatewayRequestIdentity{SourceIP: testSourceIP},
		},
	}
	for k, vs := range req.Header {
		ev.Headers[k] = vs[len(vs)-1]
		ev.MultiValueHeaders[k] = vs
	}
	ev.Headers["Host"] = ev.RequestContext.DomainName
	ev.MultiValueHeaders["Host"] = []string{ev.RequestContext.DomainName}
	if q := req.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		ev.MultiValueQueryStringParameters = map[string][]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
			ev.MultiValueQueryStringParameters[k] = vs
		}
	}
	ev.Body, ev.IsBase64Encoded = encodeBody(req, body)
	return ev
}
