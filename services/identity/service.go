package identity

import (
	"context"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
)

// Service is the IdentityService handler.
type Service struct {
	policy *policy.Policy
}

var _ identityv1connect.IdentityServiceHandler = (*Service)(nil)

// NewService returns an IdentityService that reports entitlements under pol.
func NewService(pol *policy.Policy) *Service {
	return &Service{policy: pol}
}

// GetMe returns the caller and its entitlements.
func (s *Service) GetMe(ctx context.Context, _ *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeIdentity)
	if err != nil {
		return nil, err
	}
	return &identityv1.GetMeResponse{
		Principal:    PrincipalProto(p),
		Entitlements: EntitlementsProto(s.policy.Entitlements(p)),
	}, nil
}
