package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/alert"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/metering"
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
	store     store.Store // nil unless needsStore
	live      *livepolicy.Source
}

// close stops the policy's checks and releases the store; telemetry is shut down by run.
func (a *app) close() error {
	if a.live != nil {
		a.live.Close()
	}
	if a.store == nil {
		return nil
	}
	if err := a.store.Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// build assembles the server from the configuration: catalog and policy (validated against
// each other), the token verifier, the authentication middleware, and the selected services.
func build(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	cat, err := catalog.Load(cfg.catalogFile)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	providers, err := telemetry.NewProviders(ctx, "portico-services", cfg.export)
	if err != nil {
		return nil, err
	}
	a := &app{providers: providers}
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
	if cfg.needsStore() {
		a.store, err = openStore(ctx, cfg.store, loadAWS)
		if err != nil {
			return nil, err
		}
	}
	gov, _ := a.store.(store.Governance) // both stores are; nil without a store
	if a.live, err = openPolicy(ctx, cfg, cat, gov, log); err != nil {
		return nil, errors.Join(err, a.close())
	}
	go a.live.Run(ctx)
	live := a.live
	verifier := token.NewVerifier(cfg.issuer,
		cfg.tokens.Build(func(id string) (string, bool) { return live.Policy().GroupName(id) }),
		token.WithDepartmentClaim(cfg.departmentClaim))
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
	var alerts metering.Alerts
	if gov != nil && slices.Contains(cfg.services, serviceInference) {
		emitter, err := alertEmitter(ctx, cfg, loadAWS, log)
		if err != nil {
			return nil, errors.Join(err, a.close())
		}
		alerts = alert.New(alert.Config{Store: gov, Emitter: emitter, Logger: log})
	}
	for _, name := range cfg.services {
		switch name {
		case serviceIdentity:
			var counters store.CounterReader
			if gov != nil {
				counters = gov
			}
			svc := identity.NewService(identity.Config{Policy: live.Policy, Counters: counters, Logger: log})
			srv.Mount(identityv1connect.NewIdentityServiceHandler(svc, srv.HandlerOptions()...))
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
				Catalog: regional, Policy: live.Policy, Store: a.store, Alerts: alerts,
				Bedrock: bedrock.New(awsc), SageMaker: sagemaker.New(awsc),
				Recorder: recorder, Logger: log,
				TrustedClientIDs: cfg.bffClientIDs,
			})
			srv.Mount(inferencev1connect.NewInferenceServiceHandler(svc, append(srv.HandlerOptions(), inference.HandlerOptions()...)...))
		case serviceAdmin:
			cfgAdmin := admin.Config{Live: live, Store: a.store, Catalog: cat, Logger: log}
			if gov != nil {
				cfgAdmin.Alerts = gov
			}
			svc := admin.NewService(cfgAdmin)
			srv.Mount(adminv1connect.NewAdminServiceHandler(svc, srv.HandlerOptions()...))
		}
	}
	return a, nil
}

// openPolicy opens the run-time policy: the policy file (or, in development, the embedded
// policy) seeds the store, or is the policy in file mode.
func openPolicy(ctx context.Context, cfg *config, cat *catalog.Catalog, gov store.Governance, log *slog.Logger) (*livepolicy.Source, error) {
	seed, source := policy.DefaultYAML(), "embedded dev.yaml" // development only: fromEnv requires the file in production
	if cfg.policyFile != "" {
		b, err := os.ReadFile(cfg.policyFile)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		seed, source = b, cfg.policyFile
	}
	lc := livepolicy.Config{Mode: cfg.policyMode, Seed: seed, SeedSource: source, Options: livepolicy.CatalogOptions(cat),
		Refresh: cfg.policyRefresh, Logger: log}
	if cfg.policyMode == livepolicy.ModeStore {
		if gov == nil {
			return nil, errors.New("policy: store mode needs a store that keeps policy versions")
		}
		lc.Store = gov
		// A process serving identity alone only reads the table (its function's role may
		// only read): it never seeds nor imports the file; inference or admin does.
		lc.ReadOnly = !slices.Contains(cfg.services, serviceInference) && !slices.Contains(cfg.services, serviceAdmin)
	}
	live, err := livepolicy.Open(ctx, lc)
	if err != nil {
		return nil, err
	}
	if snap := live.Snapshot(); cfg.policyMode == livepolicy.ModeStore && len(snap.Policy.PolicyAdmins()) == 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "policy: policyAdmins names no group, so nobody can edit the policy in the app",
			slog.Int64("version", snap.Version.Version))
	}
	return live, nil
}

// alertEmitter returns where quota alerts go: the EventBridge bus PORTICO_EVENT_BUS names, or
// log events.
func alertEmitter(ctx context.Context, cfg *config, loadAWS func(context.Context) (aws.Config, error), log *slog.Logger) (alert.Emitter, error) {
	if cfg.eventBus == "" {
		return alert.Log{Logger: log}, nil
	}
	awsc, err := loadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return alert.EventBridge{Client: eventbridge.NewFromConfig(awsc), Bus: cfg.eventBus}, nil
}
