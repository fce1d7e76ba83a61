// Package runtimeapitest is a local implementation of the AWS Lambda Runtime API for tests: an
// httptest server answering /2018-06-01/runtime/invocation/next, /invocation/{id}/response
// (buffered, and streaming with chunked transfer, read incrementally so that tests can see
// each chunk arrive), /invocation/{id}/error and /init/error. Point a function's
// AWS_LAMBDA_RUNTIME_API at Addr, Enqueue events, and read what the function answers.
//
// Transport turns it into an http.RoundTripper that wraps each request in a Function URL or
// API Gateway event, as those services do, so real HTTP and Connect clients can call a
// function through it.
package runtimeapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Chunk is one piece of a response body as it arrived.
type Chunk struct {
	// Data is the bytes of one read of the response body.
	Data []byte
	// At is when the bytes arrived.
	At time.Time
}

// Result is the outcome of an invocation.
type Result struct {
	// Streaming reports whether the function used the streaming response mode.
	Streaming bool
	// ContentType is the Content-Type of the response POST.
	ContentType string
	// Body is the whole response body (empty for an error).
	Body []byte
	// Chunks are the reads of the body in order of arrival.
	Chunks []Chunk
	// Trailer holds the trailers of a streaming response (mid-stream error reports).
	Trailer http.Header
	// ErrorType and ErrorBody are set when the function reported an error, either through
	// /error or in the streaming trailers.
	ErrorType string
	ErrorBody []byte
}

// Invocation is one enqueued event.
type Invocation struct {
	// ID is the Lambda request id.
	ID       string
	payload  []byte
	deadline time.Time
	chunks   chan Chunk
	done     chan struct{}
	once     sync.Once
	result   Result
}

// Chunks delivers the response body's chunks as they arrive; it is closed when the
// response (or error) is complete.
func (inv *Invocation) Chunks() <-chan Chunk { return inv.chunks }

// Wait returns the result once the function has answered.
func (inv *Invocation) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-inv.done:
		return &inv.result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("runtimeapi: invocation %s: %w", inv.ID, ctx.Err())
	}
}

func (inv *Invocation) complete(r Result) {
	inv.once.Do(func() {
		r.Chunks = inv.result.Chunks
		inv.result = r
		close(inv.chunks)
		close(inv.done)
	})
}

// InitError is a report posted to /init/error.
type InitError struct {
	// Type is the Lambda-Runtime-Function-Error-Type header.
	Type string
	// Body is the error document.
	Body []byte
}

// Server is a fake Lambda Runtime API.
type Server struct {
	srv      *httptest.Server
	queue    chan *Invocation
	closed   chan struct{}
	initErrs chan InitError
	polls    chan time.Time

	mu      sync.Mutex
	byID    map[string]*Invocation
	counter int
}

// New starts a Runtime API on a loopback port.
func New() *Server {
	s := &Server{
		queue:    make(chan *Invocation, 64),
		closed:   make(chan struct{}),
		initErrs: make(chan InitError, 8),
		polls:    make(chan time.Time, 64),
		byID:     map[string]*Invocation{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.initError)
	s.srv = httptest.NewServer(mux)
	return s
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// Close stops the server; pending /next calls return 500.
func (s *Server) Close() {
	close(s.closed)
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Polls delivers the arrival time of each /next call (dropped when 64 are unread). The
// first one tells that a freshly started function is ready for invocations.
func (s *Server) Polls() <-chan time.Time { return s.polls }

// InitErrors delivers reports posted to /init/error.
func (s *Server) InitErrors() <-chan InitError { return s.initErrs }

// Enqueue queues an event for the function, with the given time to its deadline.
func (s *Server) Enqueue(payload []byte, timeout time.Duration) *Invocation {
	s.mu.Lock()
	s.counter++
	inv := &Invocation{
		ID:       fmt.Sprintf("00000000-0000-4000-8000-%012d", s.counter),
		payload:  payload,
		deadline: time.Now().Add(timeout),
		chunks:   make(chan Chunk, 4096), // enough for any test response; unread chunks never block the function below this
		done:     make(chan struct{}),
	}
	s.byID[inv.ID] = inv
	s.mu.Unlock()
	s.queue <- inv
	return inv
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *Invocation {
	s.mu.Lock()
	inv := s.byID[r.PathValue("id")]
	s.mu.Unlock()
	if inv == nil {
		http.Error(w, `{"errorType":"InvalidRequestID"}`, http.StatusBadRequest)
	}
	return inv
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	select {
	case s.polls <- time.Now():
	default:
	}
	select {
	case inv := <-s.queue:
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.ID)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:portico-test")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-s.closed:
		http.Error(w, "runtime API closed", http.StatusInternalServerError)
	}
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	inv := s.lookup(w, r)
	if inv == nil {
		return
	}
	res := Result{
		Streaming:   r.Header.Get("Lambda-Runtime-Function-Response-Mode") == "streaming",
		ContentType: r.Header.Get("Content-Type"),
	}
	var body bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			c := Chunk{Data: bytes.Clone(buf[:n]), At: time.Now()}
			body.Write(c.Data)
			inv.result.Chunks = append(inv.result.Chunks, c)
			inv.chunks <- c
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.ErrorType = "Runtime.TruncatedResponse"
			res.ErrorBody = []byte(err.Error())
			break
		}
	}
	res.Body = body.Bytes()
	res.Trailer = r.Trailer
	if t := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		res.ErrorType = t
		res.ErrorBody = []byte(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
	}
	inv.complete(res)
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := s.lookup(w, r)
	if inv == nil {
		return
	}
	body, _ := io.ReadAll(r.Body)
	inv.complete(Result{ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), ErrorBody: body})
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	select {
	case s.initErrs <- InitError{Type: r.Header.Get("Lambda-Runtime-Function-Error-Type"), Body: body}:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// ErrorMessage extracts errorMessage from a Runtime API error document.
func ErrorMessage(body []byte) string {
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &doc)
	return doc.ErrorMessage
}
