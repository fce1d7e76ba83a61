package lambdahttp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// split parses what the writer sent into its prelude and body.
func split(t *testing.T, out []byte) (map[string]any, string) {
	t.Helper()
	i := bytes.Index(out, []byte(preludeDelimiter))
	if i < 0 {
		t.Fatalf("no delimiter in %q", out)
	}
	var p map[string]any
	if err := json.Unmarshal(out[:i], &p); err != nil {
		t.Fatalf("prelude %q: %v", out[:i], err)
	}
	return p, string(out[i+len(preludeDelimiter):])
}

func TestPrelude(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("hello"))
		w.Header().Set("X-Checksum", "c1")
		w.Header().Set(http.TrailerPrefix+"X-Late", "l1")
	}
	tests := []struct {
		name  string
		event Event
		want  map[string]any
	}{
		{"function URL joins repeated headers", EventFunctionURL, map[string]any{
			"statusCode": 201.0,
			"headers":    map[string]any{"X-Multi": "a,b", "Content-Type": "text/plain", "X-Checksum": "c1", "X-Late": "l1"},
			"cookies":    []any{"a=1", "b=2"},
		}},
		{"API Gateway lists repeated headers", EventAPIGateway, map[string]any{
			"statusCode":        201.0,
			"headers":           map[string]any{"Content-Type": "text/plain", "X-Checksum": "c1", "X-Late": "l1"},
			"multiValueHeaders": map[string]any{"X-Multi": []any{"a", "b"}},
			"cookies":           []any{"a=1", "b=2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			w := newResponseWriter(tt.event, &out)
			handler(w)
			if out.Len() != 0 {
				t.Fatalf("sent %q before the handler flushed or finished", out.Bytes())
			}
			if dropped, err := w.finish(); err != nil || dropped != 0 {
				t.Fatalf("finish: %d dropped, %v", dropped, err)
			}
			p, body := split(t, out.Bytes())
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("prelude\n got %v\nwant %v", p, tt.want)
			}
			if body != "hello" {
				t.Errorf("body %q", body)
			}
		})
	}
}

func TestFlushStreams(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := newResponseWriter(EventFunctionURL, &out)
	w.Header().Set("Content-Type", "application/connect+proto")
	w.Flush() // headers go out at once, before any body
	p, body := split(t, out.Bytes())
	if p["statusCode"] != 200.0 || body != "" {
		t.Fatalf("after first flush: %v %q", p, body)
	}
	_, _ = w.Write([]byte("one"))
	if _, b := split(t, out.Bytes()); b != "" {
		t.Fatalf("write leaked before flush: %q", b)
	}
	w.Flush()
	w.WriteHeader(http.StatusTeapot) // too late: ignored
	_, _ = w.Write([]byte("two"))
	w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
	dropped, err := w.finish()
	if err != nil || dropped != 1 {
		t.Errorf("finish: %d dropped, %v; want the one trailer dropped", dropped, err)
	}
	if _, b := split(t, out.Bytes()); b != "onetwo" {
		t.Errorf("body %q", b)
	}
	if w.reset() {
		t.Error("reset succeeded after the response started")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after finish succeeded")
	}
}

func TestLargeWritesFlushThemselves(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := newResponseWriter(EventFunctionURL, &out)
	_, _ = w.Write(make([]byte, flushThreshold+1))
	if _, b := split(t, out.Bytes()); len(b) != flushThreshold+1 {
		t.Errorf("sent %d body bytes, want %d", len(b), flushThreshold+1)
	}
}
