// Command portico-devidp runs the dev identity provider, a Cognito stand-in, on
// PORTICO_IDP_ADDR (default localhost:9000). Its configuration is read once, in config.go;
// docs/contracts.md lists the variables.
package main

import (
	"context"
	"log/slog"
	"net"
	"os"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devserve"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() { devserve.Main("portico-devidp", run) }

func run(ctx context.Context) error {
	cfg, err := fromEnv(os.Getenv)
	if err != nil {
		return err
	}
	logger := logs.New(os.Stderr, cfg.logFormat, slog.LevelInfo)
	idp, err := devidp.New(append(cfg.options, devidp.WithLogger(logger))...)
	if err != nil {
		return err
	}
	return devserve.Serve(ctx, cfg.addr, idp, logger, func(bound net.Addr) {
		logger.Info("dev identity provider listening", "addr", bound.String(), "issuer", idp.Issuer())
	})
}
