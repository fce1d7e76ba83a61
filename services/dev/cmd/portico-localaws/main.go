// Command portico-localaws runs the local AWS endpoint, a stand-in for Amazon Bedrock Runtime
// and Amazon SageMaker Runtime, on PORTICO_LOCALAWS_ADDR (default localhost:4566). See
// docs/contracts.md for its variables, read once in config.go.
package main

import (
	"context"
	"log/slog"
	"net"
	"os"

	"github.com/portico-dev/portico/services/dev/devserve"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() { devserve.Main("portico-localaws", run) }

func run(ctx context.Context) error {
	c, err := fromEnv(os.Getenv)
	if err != nil {
		return err
	}
	logger := logs.New(os.Stderr, c.logFormat, slog.LevelInfo)
	cfg := c.localaws
	cfg.Logger = logger
	mode := "built-in generator (development stand-in, not a model)"
	if cfg.OpenAIURL != "" {
		mode = "forwarding to an OpenAI-compatible server"
	}
	return devserve.Serve(ctx, c.addr, localaws.New(cfg), logger, func(bound net.Addr) {
		logger.Info("local AWS endpoint listening", "addr", bound.String(), "mode", mode, "tokensPerSecond", cfg.TokensPerSecond)
	})
}
