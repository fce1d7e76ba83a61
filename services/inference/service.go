package inference

import (
	"context"
	"log/slog"
	"slices"
	"time"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

// BedrockProvider runs conversations the service has checked (bedrock.Check), without
// checking them again; *bedrock.Client is one.
type BedrockProvider interface {
	ConverseChecked(ctx context.Context, conv *bedrock.Conversation) (*bedrock.Result, error)
	ConverseStreamChecked(ctx context.Context, conv *bedrock.Conversation, send bedrock.SendFunc) (*bedrock.Result, error)
}

// Config configures a Service.
type Config struct {
	// Catalog is the model catalog with its price table; required.
	Catalog *catalog.Catalog
	// Policy returns the policy in force, which decides entitlements and quotas; it is called
	// per request (livepolicy.Source.Policy, or a func returning a fixed policy); required.
	Policy func() *policy.Policy
	// Store keeps quota counters, the ledger and the audit trail; required.
	Store store.Store
	// Bedrock runs conversations; nil answers UNAVAILABLE for Bedrock models.
	Bedrock BedrockProvider
	// SageMaker invokes endpoints; nil answers UNAVAILABLE for SageMaker endpoints.
	SageMaker SageMakerProvider
	// Recorder receives per-model metrics (see metering.NewRecorder); nil records none.
	Recorder metering.Recorder
	// Logger receives structured logs without prompts; nil discards them.
	Logger *slog.Logger
	// TrustedClientIDs are the OAuth clients (the BFF's, PORTICO_BFF_CLIENT_IDS) whose
	// Portico-Client-Ip and Portico-Client-User-Agent headers are recorded; empty trusts no
	// client, and the peer's address and User-Agent are recorded instead.
	TrustedClientIDs []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Alerts checks quota thresholds after each request settles (alert.Watcher); nil checks
	// none.
	Alerts metering.Alerts
}

// Service is the InferenceService handler. It is safe for concurrent use.
type Service struct {
	catalog   *catalog.Catalog
	policy    func() *policy.Policy
	store     store.Store
	bedrock   BedrockProvider
	sagemaker SageMakerProvider
	meter     *metering.Meter
	log       *slog.Logger
	trusted   []string
	now       func() time.Time
}

var _ inferencev1connect.InferenceServiceHandler = (*Service)(nil)

// NewService returns an InferenceService for cfg. Mount it with
// inferencev1connect.NewInferenceServiceHandler behind the authn middleware.
func NewService(cfg Config) *Service {
	s := &Service{
		catalog: cfg.Catalog, policy: cfg.Policy, store: cfg.Store, bedrock: cfg.Bedrock, sagemaker: cfg.SageMaker,
		log: cfg.Logger, trusted: slices.Clone(cfg.TrustedClientIDs), now: cfg.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.meter = metering.New(metering.Config{Store: cfg.Store, Catalog: cfg.Catalog, Recorder: cfg.Recorder, Logger: s.log, Now: s.now,
		Alerts: cfg.Alerts})
	return s
}

// ListModels returns the models and endpoints the caller may use, sorted by provider, then
// display name, with the price table's version and date.
func (s *Service) ListModels(ctx context.Context, req *inferencev1.ListModelsRequest) (*inferencev1.ListModelsResponse, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeInference)
	if err != nil {
		return nil, err
	}
	ent := s.policy().Entitlements(p)
	want := req.GetProvider()
	pt := s.catalog.PriceTable()
	out := &inferencev1.ListModelsResponse{PriceTableVersion: pt.Version, PricesAsOf: pt.AsOf}
	for _, m := range s.catalog.Models() { // sorted by provider, then display name
		pm := m.Proto()
		if want != inferencev1.Provider_PROVIDER_UNSPECIFIED && pm.GetProvider() != want {
			continue
		}
		if (m.Provider == catalog.ProviderBedrock && ent.AllowsModel(m.ID)) ||
			(m.Provider == catalog.ProviderSageMaker && ent.AllowsEndpoint(m.ID)) {
			out.Models = append(out.Models, pm)
		}
	}
	return out, nil
}

// GetUsage returns the caller's state for every quota that applies to it and its totals
// today and this month (UTC).
func (s *Service) GetUsage(ctx context.Context, _ *inferencev1.GetUsageRequest) (*inferencev1.GetUsageResponse, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeInference)
	if err != nil {
		return nil, err
	}
	limits := s.policy().Entitlements(p).Quotas()
	u, err := s.store.Usage(ctx, p.Account(), limits)
	if err != nil {
		return nil, metering.StoreError(ctx, s.log, "read usage", err, metering.BlameHandler)
	}
	return &inferencev1.GetUsageResponse{
		Quotas: u.QuotasProto(), Today: u.Today.Proto(), ThisMonth: u.ThisMonth.Proto(), AsOf: u.AsOfProto(),
		PriceTableVersion: s.catalog.PriceTable().Version,
	}, nil
}
