package awsrt

import (
	"bufio"
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
//   - it hands net/http a request body of its own instead of the SDK's. The SDK closes its
//     request body as soon as response headers arrive; with an event-stream response that
//     can race net/http's transport, which is still finishing the request write, sees
//     io.EOF and closes the connection, cutting the stream after a few events. With a body
//     of its own the transport's bookkeeping no longer collides with the SDK's close, and
//     streams run to the end (observed with Go 1.26 and aws-sdk-go-v2 bedrockruntime v1.63;
//     see bedrock's TestConverseStreamPaced);
//   - it records a response body that ends with an error (a connection cut mid-stream) in
//     the ReadHealth found in the request's context (see WithReadHealth);
//   - it buffers event-stream response bodies (bufferedBody).
type guardedClient struct{ next aws.HTTPClient }

// MaxIdleConns is how many idle connections the SDK's HTTP client keeps, in all and to one
// host, when GuardHTTPClient wraps it. The SDK keeps 100 in all and 10 per host, and a
// runtime client talks to one host: after a burst of N concurrent calls (N streams starting
// at once) it closed N−10 connections, and the next burst dialled them again (in a
// deployment, a TLS handshake each; callgrind on the local stand-in counted the dials, the
// connections' goroutines and their buffers). Each idle connection costs a few tens of KiB
// and closes after the transport's IdleConnTimeout (90 s), so the pool follows the
// concurrency actually seen.
const MaxIdleConns = 1024

// GuardHTTPClient wraps the configured HTTP client, or the SDK's default one, in the
// workarounds above; set it as the HTTPClient of the SDK client's options. The SDK's own
// client (*awshttp.BuildableClient, what aws.Config holds by default) is copied with its
// idle pool raised to MaxIdleConns; the copy has its own connections.
func GuardHTTPClient(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	if b, ok := c.(*awshttp.BuildableClient); ok {
		c = b.WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns, t.MaxIdleConnsPerHost = MaxIdleConns, MaxIdleConns
		})
	}
	return guardedClient{next: c}
}

type ownBody struct{ rc io.ReadCloser }

func (b ownBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b ownBody) Close() error               { return b.rc.Close() }

func (g guardedClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		shallow := *r
		shallow.Body = ownBody{r.Body}
		r = &shallow
	}
	resp, err := g.next.Do(r)
	if resp == nil || resp.Body == nil {
		return resp, err
	}
	if h, ok := r.Context().Value(healthKey{}).(*ReadHealth); ok {
		resp.Body = watchedBody{rc: resp.Body, h: h}
	}
	if resp.Header.Get("Content-Type") == eventStreamType {
		resp.Body = bufferedBody{Reader: bufio.NewReaderSize(resp.Body, eventStreamBuffer), c: resp.Body}
	}
	return resp, err
}

// eventStreamType is the content type of an event-stream response (Bedrock's
// ConverseStream, SageMaker's InvokeEndpointWithResponseStream).
const eventStreamType = "application/vnd.amazon.eventstream"

// eventStreamBuffer is the read buffer of an event-stream body: a few events of a streamed
// answer.
const eventStreamBuffer = 4 << 10

// bufferedBody buffers an event-stream response body. The SDK's event decoder reads each
// message in about twenty-five small reads (the prelude's lengths, every header's name
// length, name, type and value, the checksums; a byte at a time for some), each going down
// net/http's body chain (two mutexes, the chunked or HTTP/2 framing) to the connection.
// Buffered, a read that finds bytes in the buffer stops here; one that does not makes one
// read below, which returns what has arrived, so an event is never held back waiting for
// more.
type bufferedBody struct {
	*bufio.Reader
	c io.Closer
}

func (b bufferedBody) Close() error { return b.c.Close() }

// ReadHealth records the first error reading a response body of the calls made with its
// context. It matters for streams whose end the SDK cannot tell from a cut: the SDK's
// event-stream decoder takes io.ErrUnexpectedEOF for a normal end.
type ReadHealth struct {
	mu  sync.Mutex
	err error
}

// WithReadHealth returns a context whose calls through a guarded client record their
// response-body read errors in the returned ReadHealth.
func WithReadHealth(ctx context.Context) (context.Context, *ReadHealth) {
	h := &ReadHealth{}
	return context.WithValue(ctx, healthKey{}, h), h
}

// Err returns the first error reading a response body, or nil.
func (h *ReadHealth) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *ReadHealth) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
	}
}

type healthKey struct{}

type watchedBody struct {
	rc io.ReadCloser
	h  *ReadHealth
}

func (b watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.h.set(err)
	}
	return n, err
}

func (b watchedBody) Close() error { return b.rc.Close() }
