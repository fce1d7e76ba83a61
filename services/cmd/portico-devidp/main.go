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
	"github.com/portico-dev/portico/services/lambdahttp"
	"github.com/portico-dev/portico/services/logs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-devidp:", err)
		os.Exit(1)
	}
}

func run() error {
	logger, err := newLogger()
	if err != nil {
		return err
	}
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

// newLogger follows the one PORTICO_LOG_FORMAT rule of every Portico command (logs.ParseFormat).
func newLogger() (*slog.Logger, error) {
	format, err := logs.ParseFormat(os.Getenv(logs.Env), os.Getenv(lambdahttp.RuntimeAPIEnv) != "")
	if err != nil {
		return nil, err
	}
	return logs.New(os.Stderr, format, slog.LevelInfo), nil
}
