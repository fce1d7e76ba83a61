package runtimeapitest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

const base = "/2018-06-01/runtime/"

// next fetches one invocation as a runtime would, returning its id.
func next(t *testing.T, s *runtimeapitest.Server) (string, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + base + "invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	payload, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Lambda-Runtime-Deadline-Ms") == "" {
		t.Fatalf("next: %d %v", resp.StatusCode, resp.Header)
	}
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), payload
}

func post(t *testing.T, url string, body io.Reader, header http.Header, trailer http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Trailer = trailer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		path      string // after invocation/{id}
		header    http.Header
		body      string
		streaming bool
		errorType string
	}{
		{"buffered", "/response", nil, `{"ok":true}`, false, ""},
		{"streaming", "/response", http.Header{"Lambda-Runtime-Function-Response-Mode": {"streaming"}}, "a\x00b", true, ""},
		{"error", "/error", http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Test"}}, `{"errorMessage":"boom"}`, false, "Runtime.Test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := runtimeapitest.New()
			t.Cleanup(s.Close)
			inv := s.Enqueue([]byte(`{"event":1}`), time.Minute)
			id, payload := next(t, s)
			if id != inv.ID || string(payload) != `{"event":1}` {
				t.Fatalf("next gave %q %q", id, payload)
			}
			if code := post(t, "http://"+s.Addr()+base+"invocation/"+id+tt.path, strings.NewReader(tt.body), tt.header, nil); code != http.StatusAccepted {
				t.Fatalf("status %d", code)
			}
			res, err := inv.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Streaming != tt.streaming || res.ErrorType != tt.errorType {
				t.Errorf("streaming %v, error type %q", res.Streaming, res.ErrorType)
			}
			got := string(res.Body)
			if tt.errorType != "" {
				got = string(res.ErrorBody)
			}
			if got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
		})
	}
}

func TestStreamingChunksArriveIncrementally(t *testing.T) {
	t.Parallel()
	s := runtimeapitest.New()
	t.Cleanup(s.Close)
	inv := s.Enqueue([]byte(`{}`), time.Minute)
	id, _ := next(t, s)
	pr, pw := io.Pipe()
	trailer := http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	done := make(chan int, 1)
	go func() {
		done <- post(t, "http://"+s.Addr()+base+"invocation/"+id+"/response", pr,
			http.Header{"Lambda-Runtime-Function-Response-Mode": {"streaming"}}, trailer)
	}()
	for _, part := range []string{"first", "second"} {
		if _, err := pw.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		// The chunk is visible before the next one is even written.
		select {
		case c := <-inv.Chunks():
			if string(c.Data) != part {
				t.Fatalf("chunk %q, want %q", c.Data, part)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("chunk %q not delivered", part)
		}
	}
	trailer.Set("Lambda-Runtime-Function-Error-Type", "Runtime.MidStream")
	_ = pw.Close()
	if code := <-done; code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	res, _ := inv.Wait(context.Background())
	if string(res.Body) != "firstsecond" || len(res.Chunks) != 2 || res.ErrorType != "Runtime.MidStream" {
		t.Errorf("result: body %q, %d chunks, error type %q", res.Body, len(res.Chunks), res.ErrorType)
	}
}

func TestInitErrorAndUnknownID(t *testing.T) {
	t.Parallel()
	s := runtimeapitest.New()
	t.Cleanup(s.Close)
	if code := post(t, "http://"+s.Addr()+base+"invocation/nope/response", strings.NewReader("x"), nil, nil); code != http.StatusBadRequest {
		t.Errorf("unknown id: status %d", code)
	}
	code := post(t, "http://"+s.Addr()+base+"init/error", strings.NewReader(`{"errorMessage":"bad config","errorType":"Runtime.InitError"}`),
		http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.InitError"}}, nil)
	if code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	report := <-s.InitErrors()
	if report.Type != "Runtime.InitError" || runtimeapitest.ErrorMessage(report.Body) != "bad config" {
		t.Errorf("report %+v", report)
	}
}

func TestNextWaitsForAnEvent(t *testing.T) {
	t.Parallel()
	s := runtimeapitest.New()
	t.Cleanup(s.Close)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + base + "invocation/next")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		_ = resp.Body.Close()
		got <- resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	}()
	<-s.Polls() // the runtime is waiting
	select {
	case id := <-got:
		t.Fatalf("next returned %q with nothing queued", id)
	default:
	}
	inv := s.Enqueue([]byte(`{}`), time.Minute)
	if id := <-got; id != inv.ID {
		t.Errorf("next gave %q, want %q", id, inv.ID)
	}
}
