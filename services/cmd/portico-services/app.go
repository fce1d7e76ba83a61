package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/server"
	"github.com/portico-dev/portico/services/telemetry"
	"github.com/portico-dev/portico/services/token"
)

// app is the assembled process.
type app struct {
	server    *server.Server
	providers *telemetry.Providers
}

// build assembles the server from the configuration: catalog and policy (validated against
// each other), the token verifier, the authentication middleware, and the selected services.
func build(ctx context.Context, cfg config, log *slog.Logger, getenv func(string) string) (*app, error) {
	cat, err := catalog.Load(getenv)
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
	} else {
		pol, err = policy.Default(polOpts...)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	providers, err := telemetry.NewProviders(ctx, "portico-services", getenv)
	if err != nil {
		return nil, err
	}
	verifier := token.NewVerifier(cfg.issuer, token.Cognito{ClientIDs: cfg.clientIDs})
	srv, err := server.New(
		server.WithLogger(log),
		server.WithTelemetry(providers),
		server.WithAuth(authn.New(verifier, log)),
	)
	if err != nil {
		return nil, err
	}
	for _, name := range cfg.services {
		switch name {
		case serviceIdentity:
			srv.Mount(identityv1connect.NewIdentityServiceHandler(identity.NewService(pol), srv.HandlerOptions()...))
		case serviceInference, serviceAdmin:
			// InferenceService and AdminService (issue 4) are not in this build yet.
			if cfg.explicit {
				return nil, fmt.Errorf("PORTICO_SERVICE=%s: not available in this build", name)
			}
			log.Warn("service not available in this build; not mounted", "service", name)
		}
	}
	return &app{server: srv, providers: providers}, nil
}
