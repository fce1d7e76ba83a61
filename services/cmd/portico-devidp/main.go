// Command portico-devidp runs the dev identity provider, a Cognito stand-in, on
// PORTICO_IDP_ADDR (default localhost:9000). See docs/contracts.md for its variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-dev/portico/services/devidp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-devidp:", err)
		os.Exit(1)
	}
}

func run() error {
	logger := newLogger()
	opts, err := devidp.EnvOptions(os.Getenv)
	if err != nil {
		return err
	}
	idp, err := devidp.New(append(opts, devidp.WithLogger(logger))...)
	if err != nil {
		return err
	}
	addr := os.Getenv(devidp.EnvAddr)
	if addr == "" {
		addr = devidp.DefaultAddr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           idp,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("dev identity provider listening", "addr", ln.Addr().String(), "issuer", idp.Issuer())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func newLogger() *slog.Logger {
	if os.Getenv("PORTICO_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
