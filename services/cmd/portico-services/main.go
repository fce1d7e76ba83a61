// Command portico-services serves Portico's RPC services — IdentityService,
// InferenceService (with ConversationService, mounted with it) and AdminService — over
// Connect, gRPC and gRPC-Web.
//
// One binary hosts all of them. PORTICO_SERVICE (all, identity, inference, admin, or a
// comma-separated list; default all) selects which are mounted, so each Lambda function runs
// the same artifact with a different environment: one build, one dependency set to patch,
// one start-up path to test, and `make dev` serves everything on one h2c port. The services
// share most of their code (token verification, policy, telemetry), so a per-service
// binary would save little size while multiplying builds.
//
// The mode comes from the environment: standalone h2c server on PORTICO_SERVICES_ADDR, or,
// when AWS_LAMBDA_RUNTIME_API is set, a Lambda function (PORTICO_LAMBDA_EVENT =
// function-url or api-gateway, both with response streaming). On Lambda, Connect and
// gRPC-Web work; gRPC (HTTP/2 trailers) needs the standalone server.
//
// Environment (read once, in config.go; docs/contracts.md has the full table):
//
//	PORTICO_ENV            development (default) or production; Lambda is always production
//	PORTICO_SERVICE        all | identity | inference | admin (default all)
//	PORTICO_SERVICES_ADDR  listen address, standalone mode (default localhost:8081)
//	PORTICO_ISSUER         the only accepted token issuer (dev default http://localhost:9000)
//	PORTICO_CLIENT_IDS     accepted client_id values, comma-separated (dev default portico-web,portico-machine)
//	PORTICO_BFF_CLIENT_IDS clients whose Portico-Client-* headers are believed (dev default
//	                       portico-web; in production none unless set)
//	PORTICO_POLICY_FILE    policy file (dev default: the embedded dev policy); seeds the store
//	PORTICO_POLICY_MODE    store (default: the policy is versioned in the store) or file
//	PORTICO_POLICY_REFRESH how often the policy's version is checked (default 5s)
//	PORTICO_DEPARTMENT_CLAIM  the access-token claim holding the department (default custom:department)
//	PORTICO_EVENT_BUS      EventBridge bus for quota alerts (default: log events)
//	PORTICO_CATALOG_FILE   model catalog (default: the embedded catalog)
//	PORTICO_STORE          sqlite:<path> or dynamodb:<table> (dev default sqlite:.data/portico.db;
//	                       opened when inference or admin is mounted, and always in store mode)
//	PORTICO_ATTACHMENT_STORE dir:<path> or s3:<bucket>, the conversations' attachments (dev
//	                       default dir:.data/attachments; opened only when inference is mounted)
//	PORTICO_CONVERSATION_STORE  sqlite:<path> or dynamodb:<table> (dev default
//	                       sqlite:.data/conversations.db; opened when inference is mounted)
//	PORTICO_CONVERSATION_RETENTION_DAYS, PORTICO_CONVERSATIONS_PER_USER,
//	PORTICO_MESSAGES_PER_CONVERSATION, PORTICO_CONVERSATION_MAX_BYTES  retention and limits
//	AWS_REGION, AWS_ENDPOINT_URL, …  the AWS SDK's own settings (Bedrock, SageMaker, DynamoDB)
//	PORTICO_LOG_FORMAT     text or json (default text; json on Lambda)
//	PORTICO_GC_PERCENT     the garbage collector's percent (default: 400 on Lambda, under a soft
//	                       memory limit of 80 % of AWS_LAMBDA_FUNCTION_MEMORY_SIZE; Go's elsewhere)
//	OTEL_EXPORTER_OTLP_ENDPOINT, …  OpenTelemetry export over OTLP/HTTP (default: off)
//
// In production (PORTICO_ENV=production, or on Lambda) no dev default is used: the process
// refuses to start, with one error naming every missing variable, unless PORTICO_ISSUER,
// PORTICO_CLIENT_IDS, PORTICO_POLICY_FILE, (in store mode, or with inference or admin)
// PORTICO_STORE and (with inference) PORTICO_CONVERSATION_STORE and PORTICO_ATTACHMENT_STORE
// are set.
//
// Reflection and health answer without a token, so this works against a running server:
//
//	buf curl --protocol grpc --http2-prior-knowledge http://localhost:8081 --list-methods
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Getenv)
	stop()
	os.Exit(code)
}

// run reads the configuration, builds and serves; it returns the process exit code. A
// configuration error is logged and, on Lambda, reported to the Runtime API as the init
// error.
func run(ctx context.Context, getenv func(string) string) int {
	cfg, err := fromEnv(getenv)
	var format logs.Format
	if cfg != nil {
		format = cfg.logFormat
	} else if f, ferr := logs.ParseFormat(getenv(EnvLogFormat), getenv(EnvRuntimeAPI) != ""); ferr == nil {
		format = f // to report the configuration error in the format asked for
	} else {
		format = logs.JSON
	}
	log := telemetry.NewLogger(os.Stderr, format, slog.LevelInfo)
	var app *app
	if err == nil {
		for _, w := range cfg.warnings() {
			log.Warn(w)
		}
		cfg.gc.Apply()
		app, err = build(ctx, cfg, log)
	}
	if err != nil {
		log.Error("portico-services: configuration", "err", err)
		if api := getenv(EnvRuntimeAPI); api != "" {
			if rerr := lambdahttp.ReportInitError(ctx, lambdahttp.Config{RuntimeAPI: api}, err); rerr != nil {
				log.Error("reporting the init error to Lambda", "err", rerr)
			}
		}
		return 1
	}
	defer func() {
		if err := app.close(); err != nil {
			log.Warn("close", "err", err)
		}
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := app.providers.Shutdown(shutdownCtx); err != nil {
			log.Warn("telemetry shutdown", "err", err)
		}
	}()
	log.Info("starting", "mode", string(cfg.mode), "services", cfg.services, "gc", cfg.gc)
	if err := app.server.Run(ctx, cfg.addr, cfg.lambda); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	return 0
}
