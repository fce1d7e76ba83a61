package identity

import (
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
)

// PrincipalProto converts a verified principal to its API form.
func PrincipalProto(p *principal.Principal) *identityv1.Principal {
	out := &identityv1.Principal{
		Subject:     p.Subject,
		Username:    p.Username,
		Email:       p.Email,
		DisplayName: p.DisplayName,
		Department:  p.Department,
		Groups:      slices.Clone(p.Groups),
		ClientId:    p.ClientID,
		Scopes:      slices.Clone(p.Scopes),
	}
	switch p.Kind {
	case principal.KindPerson:
		out.Kind = identityv1.PrincipalKind_PRINCIPAL_KIND_PERSON
	case principal.KindMachine:
		out.Kind = identityv1.PrincipalKind_PRINCIPAL_KIND_MACHINE
	}
	if !p.ExpiresAt.IsZero() {
		out.SessionExpiresAt = timestamppb.New(p.ExpiresAt)
	}
	return out
}

// EntitlementsProto converts policy entitlements to their API form.
func EntitlementsProto(e policy.Entitlements) *identityv1.Entitlements {
	return &identityv1.Entitlements{
		ModelIds:      e.ModelIDs(),
		EndpointNames: e.EndpointNames(),
		Quotas:        quotasProto(e.Quotas()),
		UsageAdmin:    e.UsageAdmin,
	}
}

// quotasProto converts the policy's limits to their API form.
func quotasProto(ls []store.Limit) []*typev1.QuotaLimit {
	out := make([]*typev1.QuotaLimit, len(ls))
	for i, l := range ls {
		out[i] = l.Proto()
	}
	return out
}
