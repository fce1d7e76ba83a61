package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/openaicompat"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/sagemaker"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/token"
)

// app is the assembled process.
type app struct {
	server    *server.Server
	providers *telemetry.Providers
	store     store.Store  // nil unless inference or admin is mounted
	keys      apikey.Store // nil when API keys are off
}

// close releases the stores; telemetry is shut down by run.
func (a *app) close() error {
	var errs []error
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
	}
	if a.keys != nil {
		if err := a.keys.Close(); err != nil {
			errs = append(errs, fmt.Errorf("key store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// build assembles the server from the configuration: catalog and policy (validated against
// each other), the token verifier, the authentication middleware, and the selected services.
func build(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	cat, err := catalog.Load(cfg.catalogFile)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var models, endpoints []string
	for _, m := range cat.Models() {
		if m.Provider == catalog.ProviderSageMaker {
			endpoints = append(endpoints, m.ID)
		} else {
			models = append(models, m.ID)
		}
	}
	polOpts := []policy.Option{policy.WithModelIDs(models...), policy.WithEndpointNames(endpoints...)}
	var pol *policy.Policy
	if cfg.policyFile != "" {
		pol, err = policy.Load(cfg.policyFile, polOpts...)
	} else { // development only: fromEnv requires the file in production
		pol, err = policy.Default(polOpts...)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	providers, err := telemetry.NewProviders(ctx, "portico-services", cfg.export)
	if err != nil {
		return nil, err
	}
	// Until the policy is reloadable (gov), the getter returns the one loaded.
	polGet := func() *policy.Policy { return pol }
	var awsCfg *aws.Config
	loadAWS := func(ctx context.Context) (aws.Config, error) {
		if awsCfg == nil {
			c, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
			}
			awsCfg = &c
		}
		return *awsCfg, nil
	}
	a := &app{providers: providers}
	// Personal API keys: the verifier takes keys besides tokens, and records people's
	// sign-ins (what their keys act with), when a key store is configured.
	var (
		resolver *apikey.Resolver
		seen     *apikey.SeenRecorder
	)
	if cfg.keyStore != "" {
		if a.keys, err = openKeyStore(ctx, cfg.keyStore, loadAWS); err != nil {
			return nil, err
		}
		resolver = apikey.NewResolver(apikey.ResolverConfig{Store: a.keys, Policy: polGet, Logger: log})
		seen = apikey.NewSeenRecorder(a.keys, nil, log)
	}
	verifier := apikey.NewVerifier(token.NewVerifier(cfg.issuer, cfg.tokens.Build(pol.GroupIDs())), resolver, seen)
	srv, err := server.New(
		server.WithLogger(log),
		server.WithTelemetry(providers),
		server.WithAuth(authn.New(verifier, log)),
		// The BFF's client ids, as inference.Config.TrustedClientIDs: X-Request-Id adopted.
		server.WithTrustedCaller(principal.ClientIn(cfg.bffClientIDs...)),
	)
	if err != nil {
		return nil, errors.Join(err, a.close())
	}
	a.server = srv
	if cfg.needsStore() {
		a.store, err = openStore(ctx, cfg.store, loadAWS)
		if err != nil {
			return nil, err
		}
	}
	for _, name := range cfg.services {
		switch name {
		case serviceIdentity:
			srv.Mount(identityv1connect.NewIdentityServiceHandler(identity.NewService(pol), srv.HandlerOptions()...))
		case serviceInference:
			awsc, err := loadAWS(ctx)
			if err != nil {
				return nil, errors.Join(err, a.close())
			}
			recorder, err := metering.NewRecorder(providers.MeterProvider, cfg.lambdaFunction, os.Stdout)
			if err != nil {
				return nil, errors.Join(fmt.Errorf("metrics: %w", err), a.close())
			}
			// Bedrock is called by the inference profile where a model is not on demand in
			// this region. A model that cannot run here at all keeps its own id (Bedrock then
			// refuses the call, and the smoke test says so): `cdk synth` refuses such a catalog
			// for a deployment, and the development stack's local endpoint serves every id.
			regional, err := cat.InRegion(awsc.Region)
			if err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "catalog: models that cannot run from this region keep their own ids",
					slog.String("region", awsc.Region), slog.String("error", err.Error()))
			}
			svc := inference.NewService(inference.Config{
				Catalog: regional, Policy: pol, Store: a.store,
				Bedrock: bedrock.New(awsc), SageMaker: sagemaker.New(awsc),
				Recorder: recorder, Logger: log,
				TrustedClientIDs: cfg.bffClientIDs,
			})
			srv.Mount(inferencev1connect.NewInferenceServiceHandler(svc, append(srv.HandlerOptions(), inference.HandlerOptions()...)...))
			// The OpenAI-compatible endpoint: the same service, metering and audit.
			srv.HandleHTTP(openaicompat.Prefix, openaicompat.New(openaicompat.Config{Inference: svc, Verifier: verifier, Logger: log}))
		case serviceAPIKey:
			if a.keys == nil { // production without PORTICO_KEY_STORE: keys are off
				continue
			}
			svc := apikey.NewService(apikey.ServiceConfig{
				Store: a.keys, Policy: polGet, Resolver: resolver, Seen: seen,
				Admin: pol.IsUsageAdmin, APIBaseURL: cfg.publicAPIURL, Logger: log,
			})
			srv.Mount(apikeyv1connect.NewApiKeyServiceHandler(svc, srv.HandlerOptions()...))
		case serviceAdmin:
			svc := admin.NewService(admin.Config{Policy: pol, Store: a.store, Catalog: cat, Logger: log})
			srv.Mount(adminv1connect.NewAdminServiceHandler(svc, srv.HandlerOptions()...))
		}
	}
	return a, nil
}
