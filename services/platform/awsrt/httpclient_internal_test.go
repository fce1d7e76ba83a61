package awsrt

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestGuardHTTPClientIdlePool checks that the SDK's client, default or configured, keeps
// MaxIdleConns idle connections per host once guarded (the SDK's default is 10), keeping its
// other settings, and that a client of another kind is used as it is.
func TestGuardHTTPClientIdlePool(t *testing.T) {
	t.Parallel()
	configured := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxConnsPerHost = 7 })
	for _, tc := range []struct {
		name     string
		in       aws.HTTPClient
		maxConns int
	}{
		{"default", nil, awshttp.DefaultHTTPTransportMaxConnsPerHost},
		{"configured", configured, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, ok := GuardHTTPClient(tc.in).(guardedClient)
			if !ok {
				t.Fatalf("GuardHTTPClient returned %T", GuardHTTPClient(tc.in))
			}
			b, ok := g.next.(*awshttp.BuildableClient)
			if !ok {
				t.Fatalf("guarded client wraps %T, want *awshttp.BuildableClient", g.next)
			}
			tr := b.GetTransport()
			if tr.MaxIdleConns != MaxIdleConns || tr.MaxIdleConnsPerHost != MaxIdleConns {
				t.Errorf("idle pool = %d in all, %d per host; want %d and %d", tr.MaxIdleConns, tr.MaxIdleConnsPerHost, MaxIdleConns, MaxIdleConns)
			}
			if tr.MaxConnsPerHost != tc.maxConns {
				t.Errorf("MaxConnsPerHost = %d, want %d (kept)", tr.MaxConnsPerHost, tc.maxConns)
			}
		})
	}
	other := http.DefaultClient
	if g := GuardHTTPClient(other).(guardedClient); g.next != aws.HTTPClient(other) {
		t.Errorf("a client of another kind was replaced by %T", g.next)
	}
}

// countingBody is a response body that counts the reads that reach it.
type countingBody struct {
	data  []byte
	reads int
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.reads++
	if len(b.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *countingBody) Close() error { return nil }

type fixedClient struct{ resp *http.Response }

func (c fixedClient) Do(*http.Request) (*http.Response, error) { return c.resp, nil }

// TestGuardHTTPClientBuffersEventStreams checks that an event-stream body read a byte at a
// time (as the SDK's decoder reads headers) reaches the connection's body a few times only,
// with every byte delivered, while other bodies are read as they are.
func TestGuardHTTPClientBuffersEventStreams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		contentType string
		maxReads    int
	}{
		{eventStreamType, 2}, // one read fills the buffer, the next finds EOF
		{"application/json", 1001},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			t.Parallel()
			data := bytes.Repeat([]byte("0123456789"), 100)
			body := &countingBody{data: slices.Clone(data)}
			resp := &http.Response{Header: http.Header{"Content-Type": {tc.contentType}}, Body: body}
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://localhost/model/x/converse-stream", nil)
			got, err := GuardHTTPClient(fixedClient{resp}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var read []byte
			b := make([]byte, 1)
			for {
				n, err := got.Body.Read(b)
				read = append(read, b[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := got.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(read, data) {
				t.Fatalf("read %q, want %q", read, data)
			}
			if body.reads > tc.maxReads {
				t.Errorf("%d byte-sized reads reached the body %d times, want at most %d", len(data), body.reads, tc.maxReads)
			}
		})
	}
}
