// Command portico-devidp runs the dev identity provider, a Cognito stand-in, on
// PORTICO_IDP_ADDR (default localhost:9000). See docs/contracts.md for its variables.
package main

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

	"github.com/portico-dev/portico/services/devidp"
	"github.com/portico-dev/portico/services/httpserve"
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
	srv := &http.Server{
		Handler:           idp,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return httpserve.ListenAndServe(ctx, srv, addr, 5*time.Second, func(bound net.Addr) {
		logger.Info("dev identity provider listening", "addr", bound.String(), "issuer", idp.Issuer())
	})
}

func newLogger() *slog.Logger {
	if os.Getenv("PORTICO_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
