// Command portico-bff runs Portico's backend-for-frontend: the OIDC sign-in flow, the guarded
// Connect proxy to the services and the SPA. It serves on PORTICO_BFF_ADDR (default
// localhost:8080), or on AWS Lambda behind a Function URL in RESPONSE_STREAM mode when
// AWS_LAMBDA_RUNTIME_API is set. Its configuration is read once, by bff/config;
// docs/contracts.md lists the environment variables. In production (PORTICO_ENV=production,
// or on Lambda) it refuses to start, with one error naming every missing variable, unless
// the issuer, client id and secret, public URL, services URL and cookie keys are set.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/services/platform/httpserve"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-bff:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		// A configuration error on Lambda is the function's init error.
		_ = lambdahttp.ReportInitError(ctx, lambdahttp.Config{RuntimeAPI: os.Getenv(config.EnvRuntimeAPI)}, err)
		return err
	}
	logger := logs.New(os.Stderr, cfg.LogFormat, slog.LevelInfo)
	handler, err := build(ctx, logger, cfg)
	if err != nil {
		_ = lambdahttp.ReportInitError(ctx, cfg.Lambda, err)
		return err
	}
	defer func() {
		if err := handler.Close(); err != nil {
			logger.Warn("close", "err", err)
		}
	}()
	if cfg.Lambda.OnLambda() {
		logger.Info("serving on Lambda", "event", string(cfg.Lambda.Event), "public_url", cfg.PublicURL)
		return lambdahttp.Serve(ctx, cfg.Lambda, handler, lambdahttp.WithLogger(logger))
	}
	return serve(ctx, logger, cfg, handler)
}

// build resolves the secrets the configuration names and assembles the BFF.
func build(ctx context.Context, logger *slog.Logger, cfg *config.Config) (*bff.BFF, error) {
	if cfg.CookieKeysGenerated { // development only: FromEnv requires keys in production
		logger.Warn("no " + config.EnvCookieKeys + ": using a key generated for this run; sessions end when the process does")
	}
	if cfg.NeedsSecrets() {
		fetch, err := config.SecretsManager(ctx)
		if err != nil {
			return nil, err
		}
		if err := cfg.Resolve(ctx, fetch); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(cfg.SPADir + "/index.html"); err != nil {
		logger.Warn("the SPA is not built; serving a placeholder page", "spa_dir", cfg.SPADir)
	}
	if kind, _, _ := strings.Cut(cfg.SessionStore, ":"); cfg.Lambda.OnLambda() && (kind == "memory" || kind == "sqlite") {
		logger.Warn("server-side sessions are per Lambda instance with this store; use dynamodb:<table>", "session_store", kind)
	}
	h, err := bff.New(cfg, bff.WithLogger(logger)) //nolint:contextcheck // New opens only local files and reads settings: nothing for a context to cancel
	if err != nil {
		return nil, err
	}
	return h, nil
}

func serve(ctx context.Context, logger *slog.Logger, cfg *config.Config, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // headers and body; the proxy buffers request bodies

		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	defer context.AfterFunc(ctx, func() { logger.Info("shutting down") })()
	return httpserve.ListenAndServe(ctx, srv, cfg.Addr, 10*time.Second, func(bound net.Addr) {
		logger.Info("BFF listening", "addr", bound.String(), "public_url", cfg.PublicURL,
			"issuer", cfg.Issuer, "services", cfg.ServicesURL.String(), "session_store", cfg.SessionStore)
	})
}
