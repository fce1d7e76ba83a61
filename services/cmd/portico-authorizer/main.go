// Command portico-authorizer is Portico's API Gateway Lambda authorizer (REQUEST or TOKEN). It
// runs only on Lambda (provided.al2023, arm64; build with
// `GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bootstrap`).
//
// Environment (read once, in config.go; docs/contracts.md):
//
//	PORTICO_ENV          development or production; on Lambda always production
//	PORTICO_ISSUER       the only accepted token issuer (dev default http://localhost:9000)
//	PORTICO_CLIENT_IDS   accepted client_id values, comma-separated (dev default portico-web,portico-machine)
//	PORTICO_POLICY_FILE  the policy file (dev default: the embedded dev policy)
//	PORTICO_STORE        optional dynamodb:<table>: the policy in force is read (never written)
//	                     from the table's versions, as the services keep it; unset: the file
//	PORTICO_POLICY_MODE  store (default) or file: in file mode PORTICO_STORE is not read
//	PORTICO_POLICY_REFRESH  how often the policy's version is checked (default 5s)
//	PORTICO_LOG_FORMAT   text or json (default text; json on Lambda)
//	PORTICO_KEY_STORE    dynamodb:<table> of personal API keys (unset: keys are refused)
//
// In production the three settings above must be explicit: the function refuses to start,
// reporting one init error that names every missing variable.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/dynamokeys"

	"github.com/portico-dev/portico/services/authorizer"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/token"
)

func main() {
	cfg, err := fromEnv(os.Getenv)
	var format logs.Format // JSON when the configuration cannot be read: the authorizer runs on Lambda
	if cfg != nil {
		format = cfg.logFormat
	}
	start := lambdahttp.NewStartup("portico-authorizer", os.Stderr, format, os.Getenv)
	var a *authorizer.Authorizer
	if err == nil {
		a, err = build(cfg, start.Logger)
	}
	if err != nil {
		start.Fail(context.Background(), err)
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

// build assembles the authorizer from the configuration. With a table, the policy is the
// services' run-time policy, read only; otherwise the file.
func build(cfg *config, logger *slog.Logger) (*authorizer.Authorizer, error) {
	seed, source := policy.DefaultYAML(), "embedded dev.yaml" // development only: fromEnv requires the file in production
	if cfg.policyFile != "" {
		b, err := os.ReadFile(cfg.policyFile)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		seed, source = b, cfg.policyFile
	}
	lc := livepolicy.Config{Mode: livepolicy.ModeFile, Seed: seed, SeedSource: source, Refresh: cfg.policyRefresh, Logger: logger}
	if cfg.table != "" {
		ctx := context.Background()
		awsc, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		lc.Mode, lc.ReadOnly = livepolicy.ModeStore, true
		lc.Store = dynamostore.New(dynamodb.NewFromConfig(awsc), cfg.table, store.Options{})
	}
	live, err := livepolicy.Open(context.Background(), lc)
	if err != nil {
		return nil, err
	}
	tokens := token.NewVerifier(cfg.issuer, cfg.tokens.Build(func(id string) (string, bool) { return live.Policy().GroupName(id) }))
	var resolver *apikey.Resolver
	if cfg.keyTable != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		keys := dynamokeys.New(dynamodb.NewFromConfig(awsCfg), cfg.keyTable)
		resolver = apikey.NewResolver(apikey.ResolverConfig{Store: keys, Policy: live.Policy, Logger: logger, ReadOnly: true})
	}
	// The authorizer only reads the key table: key uses and sign-ins are recorded by the
	// services behind it.
	return authorizer.New(apikey.NewVerifier(tokens, resolver, nil), live.Policy, logger), nil
}
