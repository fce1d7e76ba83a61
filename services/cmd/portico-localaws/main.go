// Command portico-localaws runs the local AWS endpoint, a stand-in for Amazon Bedrock Runtime
// and Amazon SageMaker Runtime, on PORTICO_LOCALAWS_ADDR (default localhost:4566). See
// docs/contracts.md and package localaws for its variables.
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

	"github.com/portico-dev/portico/services/localaws"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-localaws:", err)
		os.Exit(1)
	}
}

func run() error {
	logger := newLogger()
	cfg, err := localaws.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	addr := os.Getenv(localaws.EnvAddr)
	if addr == "" {
		addr = localaws.DefaultAddr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           localaws.New(cfg),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	mode := "built-in generator (development stand-in, not a model)"
	if cfg.OpenAIURL != "" {
		mode = "forwarding to an OpenAI-compatible server"
	}
	logger.Info("local AWS endpoint listening", "addr", ln.Addr().String(), "mode", mode, "tokensPerSecond", cfg.TokensPerSecond)
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
