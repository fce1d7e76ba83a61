package httpserve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/httpserve"
)

// serve runs ListenAndServe in the background and returns the base URL, the function
// that ends its context and the channel of its result.
func serve(t *testing.T, h http.Handler, grace time.Duration) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- httpserve.ListenAndServe(ctx, &http.Server{Handler: h, ReadHeaderTimeout: time.Second},
			"127.0.0.1:0", grace, func(a net.Addr) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		return "http://" + a.String(), cancel, done
	case err := <-done:
		t.Fatalf("ListenAndServe = %v before listening", err)
	}
	return "", nil, nil
}

func TestServesUntilCanceled(t *testing.T) {
	t.Parallel()
	url, cancel, done := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), time.Second)
	resp, err := http.Get(url) //nolint:noctx // a test request
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body = %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe after cancel = %v, want nil", err)
	}
}

func TestShutdownCutsRequestsAfterGrace(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	url, cancel, done := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
	}), time.Millisecond)
	go func() {
		resp, err := http.Get(url) //nolint:noctx // a test request
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ListenAndServe with a request open past the grace = %v, want DeadlineExceeded", err)
	}
}

func TestListenError(t *testing.T) {
	t.Parallel()
	ln, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = httpserve.ListenAndServe(t.Context(), &http.Server{ReadHeaderTimeout: time.Second}, ln.Addr().String(), time.Second,
		func(net.Addr) { t.Error("listening called") })
	if err == nil {
		t.Fatal("ListenAndServe on a busy port = nil, want an error")
	}
}
