package identity

import (
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
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
		Quotas:        policy.ProtoQuotas(e.Quotas()),
		UsageAdmin:    e.UsageAdmin,
	}
}
