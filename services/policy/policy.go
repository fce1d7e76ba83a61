package policy

import (
	"maps"
	"slices"

	"github.com/portico-dev/portico/services/principal"
)

// Guardrail names a Bedrock guardrail version.
type Guardrail struct {
	// ID is the guardrail identifier or ARN.
	ID string
	// Version is a version number or "DRAFT".
	Version string
}

// Policy is a validated policy. It is immutable and safe for concurrent use.
type Policy struct {
	groups          map[string]*grant
	groupOrder      []*grant
	scopes          map[string]*grant
	scopeOrder      []*grant
	modelGuardrails map[string]Guardrail
	usageAdmins     []string
	policyAdmins    []string
	groupIDs        map[string]string // lower-case object id -> group name
	keys            keySettings
}

// GroupName returns the group name the groupIds map gives an Entra group object id (lower
// case), without copying the map.
func (p *Policy) GroupName(objectID string) (string, bool) {
	name, ok := p.groupIDs[objectID]
	return name, ok
}

// GroupIDs returns the groupIds map: Entra ID group object ids (lower case) to the names of
// the policy's groups.
func (p *Policy) GroupIDs() map[string]string { return maps.Clone(p.groupIDs) }

// grant is what one group or scope allows.
type grant struct {
	name             string
	isGroup          bool
	models           map[string]bool
	modelIDs         []string // sorted
	endpoints        map[string]bool
	endpointNames    []string // sorted
	knowledgeBases   map[string]bool
	knowledgeBaseIDs []string // sorted
	guardrail        *Guardrail
	user             userLimits
	group            groupLimits
	noHistory        bool // history: false
	noAPIKeys        bool // apiKeys: false
}

func (g *grant) allows(resource string) bool { return g.models[resource] || g.endpoints[resource] }

func (g *grant) grantsAnything() bool { return len(g.models) > 0 || len(g.endpoints) > 0 }

// GroupNames returns the groups the policy defines, in file order.
func (p *Policy) GroupNames() []string {
	out := make([]string, len(p.groupOrder))
	for i, g := range p.groupOrder {
		out[i] = g.name
	}
	return out
}

// ScopeNames returns the scopes the policy defines, in file order.
func (p *Policy) ScopeNames() []string {
	out := make([]string, len(p.scopeOrder))
	for i, g := range p.scopeOrder {
		out[i] = g.name
	}
	return out
}

// UsageAdmins returns the groups whose members may read everyone's usage.
func (p *Policy) UsageAdmins() []string { return slices.Clone(p.usageAdmins) }

// IsUsageAdmin reports whether pr may read everyone's usage: a person in a usage-admin group.
func (p *Policy) IsUsageAdmin(pr *principal.Principal) bool {
	if pr == nil || pr.Kind != principal.KindPerson {
		return false
	}
	for _, g := range p.usageAdmins {
		if pr.InGroup(g) {
			return true
		}
	}
	return false
}

// PolicyAdmins returns the groups whose members may edit the policy (policyAdmins).
func (p *Policy) PolicyAdmins() []string { return slices.Clone(p.policyAdmins) }

// IsPolicyAdmin reports whether pr may edit the policy: a person in a policy-admin group.
func (p *Policy) IsPolicyAdmin(pr *principal.Principal) bool {
	return pr != nil && pr.Kind == principal.KindPerson && slices.ContainsFunc(p.policyAdmins, pr.InGroup)
}

// Entitlements returns what pr may use: for a person, the union of the grants of the policy
// groups it belongs to; for a machine client, of the policy scopes its token holds. A nil
// principal, or one the policy does not know, is entitled to nothing.
func (p *Policy) Entitlements(pr *principal.Principal) Entitlements {
	var e Entitlements
	if pr == nil {
		return e
	}
	e.modelGuardrails = p.modelGuardrails
	switch pr.Kind {
	case principal.KindPerson:
		e.person = true
		for _, g := range p.groupOrder {
			if pr.InGroup(g.name) {
				e.grants = append(e.grants, g)
			}
		}
		e.UsageAdmin = p.IsUsageAdmin(pr)
		if pr.APIKey != "" {
			e.UsageAdmin = false // a key is for inference only
			if len(pr.KeyModels) > 0 {
				e.only = make(map[string]bool, len(pr.KeyModels))
				for _, m := range pr.KeyModels {
					e.only[m] = true
				}
			}
		}
	case principal.KindMachine:
		for _, g := range p.scopeOrder {
			if pr.HasScope(g.name) {
				e.grants = append(e.grants, g)
			}
		}
	}
	return e
}
