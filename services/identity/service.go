package identity

import (
	"context"
	"log/slog"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/alert"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

// Config configures a Service.
type Config struct {
	// Policy returns the policy in force (livepolicy.Source.Policy); called per request;
	// required.
	Policy func() *policy.Policy
	// Counters reads the caller's quota counters for GetMe's alerts; nil reports none.
	Counters store.CounterReader
	// Logger receives counter read failures; nil discards them.
	Logger *slog.Logger
}

// Service is the IdentityService handler.
type Service struct {
	policy   func() *policy.Policy
	counters store.CounterReader
	log      *slog.Logger
}

var _ identityv1connect.IdentityServiceHandler = (*Service)(nil)

// NewService returns an IdentityService that reports entitlements under the policy in force.
func NewService(cfg Config) *Service {
	s := &Service{policy: cfg.Policy, counters: cfg.Counters, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// GetMe returns the caller, its entitlements, whether it may edit the policy, and its quotas
// and budgets past 80 % in their current day or month (the banner). A failure to read the
// counters is logged and leaves the alerts out: GetMe still answers.
func (s *Service) GetMe(ctx context.Context, _ *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeIdentity)
	if err != nil {
		return nil, err
	}
	pol := s.policy()
	ent := pol.Entitlements(p)
	out := &identityv1.GetMeResponse{
		Principal:    PrincipalProto(p),
		Entitlements: EntitlementsProto(ent),
		PolicyAdmin:  pol.IsPolicyAdmin(p),
	}
	if limits := alert.Alerting(ent.Quotas()); s.counters != nil && len(limits) > 0 {
		statuses, err := s.counters.Counters(ctx, p.Account(), limits)
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "GetMe: could not read quota counters for the alerts", slog.Any("error", err))
		}
		for _, st := range alert.Alerts(statuses) {
			out.Alerts = append(out.Alerts, st.AlertProto(st.Threshold()))
		}
	}
	return out, nil
}
