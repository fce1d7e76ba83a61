// Command portico-localaws runs the local AWS endpoint, a stand-in for Amazon Bedrock Runtime
// and Amazon SageMaker Runtime, on PORTICO_LOCALAWS_ADDR (default localhost:4566). See
// docs/contracts.md for its variables, read once in config.go.
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

	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/httpserve"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-localaws:", err)
		os.Exit(1)
	}
}

func run() error {
	c, err := fromEnv(os.Getenv)
	if err != nil {
		return err
	}
	logger := logs.New(os.Stderr, c.logFormat, slog.LevelInfo)
	cfg, addr := c.localaws, c.addr
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Handler:           localaws.New(cfg),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	mode := "built-in generator (development stand-in, not a model)"
	if cfg.OpenAIURL != "" {
		mode = "forwarding to an OpenAI-compatible server"
	}
	return httpserve.ListenAndServe(ctx, srv, addr, 5*time.Second, func(bound net.Addr) {
		logger.Info("local AWS endpoint listening", "addr", bound.String(), "mode", mode, "tokensPerSecond", cfg.TokensPerSecond)
	})
}
