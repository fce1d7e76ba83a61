// Command portico-devidp runs the dev identity provider, a Cognito stand-in, on
// PORTICO_IDP_ADDR (default localhost:9000). Its configuration is read once, in config.go;
// docs/contracts.md lists the variables.
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

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/platform/httpserve"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-devidp:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := fromEnv(os.Getenv)
	if err != nil {
		return err
	}
	logger := logs.New(os.Stderr, cfg.logFormat, slog.LevelInfo)
	idp, err := devidp.New(append(cfg.options, devidp.WithLogger(logger))...)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Handler:           idp,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return httpserve.ListenAndServe(ctx, srv, cfg.addr, 5*time.Second, func(bound net.Addr) {
		logger.Info("dev identity provider listening", "addr", bound.String(), "issuer", idp.Issuer())
	})
}
