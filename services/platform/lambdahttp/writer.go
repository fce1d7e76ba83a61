package lambdahttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// flushThreshold is how much unflushed body the writer holds before sending it anyway.
const flushThreshold = 32 << 10

// preludeDelimiter separates the JSON prelude from the body.
const preludeDelimiter = "\x00\x00\x00\x00\x00\x00\x00\x00"

// errFinished is returned by writes after the response ended.
var errFinished = errors.New("lambdahttp: response already finished")

// prelude is the JSON head of a streaming HTTP integration response. Function URLs read
// statusCode, headers (one string per name) and cookies; API Gateway also reads
// multiValueHeaders.
type prelude struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Cookies           []string            `json:"cookies,omitempty"`
}

// hopHeaders are connection-level headers that must not reach the prelude.
var hopHeaders = []string{"Connection", "Content-Length", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade"}

// responseWriter is the http.ResponseWriter, http.Flusher of one invocation. It is used by
// the handler's goroutine only (as net/http's writer is), then finished by Serve.
type responseWriter struct {
	event    Event
	out      io.Writer // the Runtime API request body
	header   http.Header
	snapshot http.Header // header as of WriteHeader
	status   int
	started  bool // prelude sent
	buf      bytes.Buffer
	err      error
	finished bool
}

func newResponseWriter(event Event, out io.Writer) *responseWriter {
	return &responseWriter{event: event, out: out, header: http.Header{}}
}

// Header returns the response header map.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status and freezes the header; informational codes are ignored.
func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	w.snapshot = w.header.Clone()
}

// Write buffers p, sending the buffer once it passes the flush threshold.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.finished {
		return 0, errFinished
	}
	if w.err != nil {
		return 0, w.err
	}
	w.WriteHeader(http.StatusOK)
	w.buf.Write(p)
	if w.buf.Len() >= flushThreshold {
		if err := w.FlushError(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush implements http.Flusher: everything written so far leaves as one chunk now.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting failure (used by http.ResponseController).
func (w *responseWriter) FlushError() error {
	if w.finished {
		return errFinished
	}
	if w.err != nil {
		return w.err
	}
	w.WriteHeader(http.StatusOK)
	var chunk []byte
	if !w.started {
		head, err := w.prelude(nil)
		if err != nil {
			w.err = err
			return err
		}
		chunk = append(head, w.buf.Bytes()...)
		w.started = true
	} else {
		if w.buf.Len() == 0 {
			return nil
		}
		chunk = w.buf.Bytes()
	}
	_, err := w.out.Write(chunk)
	w.buf.Reset()
	if err != nil {
		w.err = fmt.Errorf("lambdahttp: send: %w", err)
		return w.err
	}
	return nil
}

// finish sends whatever is left. Trailers set by the handler join the headers when the
// prelude has not gone out yet (the whole response was buffered), and are dropped
// otherwise; it reports how many trailers were dropped.
func (w *responseWriter) finish() (dropped int, err error) {
	if w.finished {
		return 0, nil
	}
	w.WriteHeader(http.StatusOK)
	trailers := w.trailers()
	if !w.started {
		head, err := w.prelude(trailers)
		if err != nil {
			return 0, err
		}
		w.started = true
		if _, err := w.out.Write(append(head, w.buf.Bytes()...)); err != nil {
			return 0, fmt.Errorf("lambdahttp: send: %w", err)
		}
		w.finished = true
		return 0, nil
	}
	err = w.FlushError()
	w.finished = true
	return len(trailers), err
}

// reset discards an unsent response (after a panic) so that a 500 can replace it.
func (w *responseWriter) reset() bool {
	if w.started {
		return false
	}
	w.header, w.snapshot, w.status = http.Header{}, nil, 0
	w.buf.Reset()
	return true
}

// trailers returns the trailers the handler set: names announced in the Trailer header
// and keys carrying http.TrailerPrefix.
func (w *responseWriter) trailers() http.Header {
	t := http.Header{}
	for _, names := range w.snapshot.Values("Trailer") {
		for name := range strings.SplitSeq(names, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if vs := w.header.Values(name); name != "" && len(vs) > 0 {
				t[name] = vs
			}
		}
	}
	for k, vs := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[http.CanonicalHeaderKey(name)] = vs
		}
	}
	return t
}

// prelude encodes the head of the response and the delimiter.
func (w *responseWriter) prelude(trailers http.Header) ([]byte, error) {
	p := prelude{StatusCode: w.status}
	h := w.snapshot.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k)
		}
	}
	for k, vs := range trailers {
		h[k] = append(h[k], vs...)
	}
	p.Cookies = h.Values("Set-Cookie")
	h.Del("Set-Cookie")
	if len(h) > 0 {
		p.Headers = make(map[string]string, len(h))
	}
	for k, vs := range h {
		p.Headers[k] = strings.Join(vs, ",")
		if len(vs) > 1 && w.event == EventAPIGateway {
			if p.MultiValueHeaders == nil {
				p.MultiValueHeaders = map[string][]string{}
			}
			p.MultiValueHeaders[k] = vs
			delete(p.Headers, k)
		}
	}
	head, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: prelude: %w", err)
	}
	return append(head, preludeDelimiter...), nil
}
