// Package httpserve runs an http.Server until its context ends and then shuts it down
// gracefully, for the commands that serve plain HTTP (portico-bff, portico-devidp,
// portico-localaws).
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ListenAndServe listens on addr, calls listening with the bound address (to log it), and
// serves srv until ctx ends or serving fails. When ctx ends it shuts srv down, letting open
// requests finish for up to grace; requests still open then are cut. It returns nil after a
// clean shutdown.
func ListenAndServe(ctx context.Context, srv *http.Server, addr string, grace time.Duration, listening func(net.Addr)) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	listening(ln.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
