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
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/alert"
	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/attachment/opener"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/openaicompat"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/retrieval"
	"github.com/portico-dev/portico/services/sagemaker"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/token"
)

// app is the assembled process.
type app struct {
	server        *server.Server
	providers     *telemetry.Providers
	store         store.Store // nil unless needsStore
	live          *livepolicy.Source
	conversations conversation.Store // nil unless inference, or admin with the store configured, is mounted
	// attachments keeps the conversations' attachments; nil unless inference is mounted.
	attachments attachment.Store
	stopSweep   context.CancelFunc // stops the conversation sweeper, when one runs
	keys        apikey.Store       // nil when API keys are off
}

// close stops the policy's checks and the sweeper, and releases the stores; telemetry is
// shut down by run.
func (a *app) close() error {
	var errs []error
	if a.live != nil {
		a.live.Close()
	}
	if a.stopSweep != nil {
		a.stopSweep()
	}
	if a.conversations != nil {
		if err := a.conversations.Close(); err != nil {
			errs = append(errs, fmt.Errorf("conversation store: %w", err))
		}
	}
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
	if cfg.attachmentStore != "" {
		if a.attachments, err = opener.Open(ctx, cfg.attachmentStore, loadAWS); err != nil {
			return nil, errors.Join(fmt.Errorf("%s=%q: %w", EnvAttachmentStore, cfg.attachmentStore, err), a.close())
		}
	}
	gov, _ := a.store.(store.Governance) // both stores are; nil without a store
	if a.live, err = openPolicy(ctx, cfg, cat, gov, log); err != nil {
		return nil, errors.Join(err, a.close())
	}
	go a.live.Run(ctx)
	live := a.live
	// Personal API keys: the verifier takes keys besides tokens, and records people's
	// sign-ins (what their keys act with), when a key store is configured.
	var (
		resolver *apikey.Resolver
		seen     *apikey.SeenRecorder
	)
	if cfg.keyStore != "" {
		if a.keys, err = openKeyStore(ctx, cfg.keyStore, loadAWS); err != nil {
			return nil, errors.Join(err, a.close())
		}
		resolver = apikey.NewResolver(apikey.ResolverConfig{Store: a.keys, Policy: live.Policy, Logger: log})
		seen = apikey.NewSeenRecorder(a.keys, nil, log)
	}
	verifier := apikey.NewVerifier(token.NewVerifier(cfg.issuer,
		cfg.tokens.Build(func(id string) (string, bool) { return live.Policy().GroupName(id) }),
		token.WithDepartmentClaim(cfg.departmentClaim)), resolver, seen)
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
			if err := a.mountConversations(ctx, cfg, live.Policy, loadAWS, log); err != nil {
				return nil, errors.Join(err, a.close())
			}
			svc := inference.NewService(inference.Config{
				Catalog: regional, Policy: live.Policy, Store: a.store, Alerts: alerts,
				Bedrock: bedrock.New(awsc), SageMaker: sagemaker.New(awsc),
				KnowledgeBases: cat.InAccount(awsc.Region, cfg.accountID), Retriever: retrieval.New(awsc),
				Recorder: recorder, Logger: log,
				TrustedClientIDs: cfg.bffClientIDs,
				Conversations:    a.conversations, ConversationLimits: cfg.conversations.limits,
				RetentionDays: cfg.conversations.retentionDays, Attachments: a.attachments,
			})
			srv.Mount(inferencev1connect.NewInferenceServiceHandler(svc, append(srv.HandlerOptions(), inference.HandlerOptions()...)...))
			// The OpenAI-compatible endpoint: the same service, metering and audit.
			srv.HandleHTTP(openaicompat.Prefix, openaicompat.New(openaicompat.Config{Inference: svc, Verifier: verifier, Logger: log}))
		case serviceAPIKey:
			if a.keys == nil { // production without PORTICO_KEY_STORE: keys are off
				continue
			}
			svc := apikey.NewService(apikey.ServiceConfig{
				Store: a.keys, Policy: live.Policy, Resolver: resolver, Seen: seen,
				Admin:      func(p *principal.Principal) bool { return live.Policy().IsUsageAdmin(p) },
				APIBaseURL: cfg.publicAPIURL, Logger: log,
			})
			srv.Mount(apikeyv1connect.NewApiKeyServiceHandler(svc, srv.HandlerOptions()...))
		case serviceAdmin:
			if cfg.conversations.store != "" { // counted for usage admins, never read
				if err := a.openConversationStore(ctx, cfg, loadAWS); err != nil {
					return nil, errors.Join(err, a.close())
				}
			}
			cfgAdmin := admin.Config{Live: live, Store: a.store, Catalog: cat, Conversations: a.conversations, Logger: log}
			if gov != nil {
				cfgAdmin.Alerts = gov
			}
			svc := admin.NewService(cfgAdmin)
			srv.Mount(adminv1connect.NewAdminServiceHandler(svc, srv.HandlerOptions()...))
		}
	}
	return a, nil
}

// mountConversations opens the conversation store and mounts the ConversationService, and
// with retention on a store without time-to-live (SQLite), starts its sweeper, which deletes
// the expired conversations' attachments too.
func (a *app) mountConversations(ctx context.Context, cfg *config, pol func() *policy.Policy, loadAWS func(context.Context) (aws.Config, error), log *slog.Logger) error {
	cc := cfg.conversations
	if err := a.openConversationStore(ctx, cfg, loadAWS); err != nil {
		return err
	}
	cs := a.conversations
	if sw, ok := cs.(conversation.Sweeper); ok && cc.retentionDays > 0 {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		a.stopSweep = cancel
		go conversation.Sweep(sctx, sw, a.attachments, conversation.SweepInterval, log)
	}
	svc := conversation.NewService(conversation.Config{
		Store: cs, Attachments: a.attachments, Policy: pol,
		RetentionDays: cc.retentionDays, Logger: log,
	})
	a.server.Mount(conversationv1connect.NewConversationServiceHandler(svc, a.server.HandlerOptions()...))
	return nil
}

// openConversationStore opens the conversation store once, for inference and the
// ConversationService, or for the admin service's counts, whichever is mounted first.
func (a *app) openConversationStore(ctx context.Context, cfg *config, loadAWS func(context.Context) (aws.Config, error)) error {
	if a.conversations != nil {
		return nil
	}
	if cfg.conversations.store == "" {
		return errNoConversationStore
	}
	cs, err := openConversations(ctx, cfg.conversations.store, loadAWS)
	if err != nil {
		return err
	}
	a.conversations = cs
	return nil
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
