// Package devserve runs the dev tree's HTTP stand-ins (portico-devidp, portico-localaws)
// the same way: until SIGINT or SIGTERM, with one server policy, and one way to fail.
// It is part of `make dev` and ships in no binary.
package devserve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-dev/portico/services/platform/httpserve"
)

// Server policy of the stand-ins.
const (
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ShutdownGrace is how long open requests may run on once the context ends.
	ShutdownGrace = 5 * time.Second
)

// Main runs a dev command: run gets a context that ends on SIGINT or SIGTERM. When run
// fails, Main prints the error after name on stderr and exits with status 1.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Serve serves h on addr until ctx ends, then shuts it down, letting open requests finish
// for up to ShutdownGrace (httpserve.ListenAndServe). The server reads a request's headers
// within ReadHeaderTimeout and logs its own errors to logger at warn level; listening is
// called with the bound address (to log it).
func Serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, listening func(net.Addr)) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return httpserve.ListenAndServe(ctx, srv, addr, ShutdownGrace, listening)
}
