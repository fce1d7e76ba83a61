package devserve_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/portico-dev/portico/services/dev/devserve"
)

// TestServe: the handler answers on the address given to listening, and Serve returns nil
// once its context ends; an address that cannot be listened on is an error.
func TestServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrc, done := make(chan net.Addr, 1), make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "stand-in") })
	go func() {
		done <- devserve.Serve(ctx, "127.0.0.1:0", h, slog.New(slog.DiscardHandler), func(a net.Addr) { addrc <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Serve = %v before listening", err)
	}
	resp, err := http.Get("http://" + addr.String()) //nolint:noctx // a test request
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "stand-in" {
		t.Errorf("body = %q, want the handler's", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after its context ended = %v, want nil", err)
	}

	if err := devserve.Serve(t.Context(), "127.0.0.1:-1", h, slog.New(slog.DiscardHandler), func(net.Addr) {
		t.Error("listening called for an address that cannot be listened on")
	}); err == nil {
		t.Error("Serve on port -1 = nil, want an error")
	}
}
