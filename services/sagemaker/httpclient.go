package sagemaker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// guardedClient does two things for the SDK's HTTP calls:
//
//   - it hands net/http a request body of its own: the SDK closes its request body as soon as
//     response headers arrive, which can race net/http's transport finishing the request
//     write and make it drop the connection mid-stream (see the bedrock package);
//   - it records a response body that ends with an error (a connection cut mid-stream) in
//     the readHealth found in the request's context: the SDK's event-stream decoder takes
//     io.ErrUnexpectedEOF for a normal end, and SageMaker streams have no final event to
//     tell a complete stream from a cut one.
type guardedClient struct{ next aws.HTTPClient }

func guardHTTPClient(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return guardedClient{next: c}
}

type ownBody struct{ rc io.ReadCloser }

func (b ownBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b ownBody) Close() error               { return b.rc.Close() }

// readHealth records the first error reading a response body.
type readHealth struct {
	mu  sync.Mutex
	err error
}

func (h *readHealth) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
	}
}

func (h *readHealth) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

type healthKey struct{}

func withReadHealth(ctx context.Context) (context.Context, *readHealth) {
	h := &readHealth{}
	return context.WithValue(ctx, healthKey{}, h), h
}

type watchedBody struct {
	rc io.ReadCloser
	h  *readHealth
}

func (b watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.h.set(err)
	}
	return n, err
}

func (b watchedBody) Close() error { return b.rc.Close() }

func (g guardedClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		shallow := *r
		shallow.Body = ownBody{r.Body}
		r = &shallow
	}
	resp, err := g.next.Do(r)
	if h, ok := r.Context().Value(healthKey{}).(*readHealth); ok && resp != nil && resp.Body != nil {
		resp.Body = watchedBody{rc: resp.Body, h: h}
	}
	return resp, err
}
