package policy

import (
	"slices"

	"github.com/portico-dev/portico/services/store"
)

// Entitlements are what the policy grants one caller. The zero value grants nothing.
type Entitlements struct {
	// UsageAdmin says the caller may read everyone's usage and the audit trail.
	UsageAdmin bool

	grants          []*grant // the caller's matching groups or scopes, in file order
	modelGuardrails map[string]Guardrail
	// only, for an API key limited to some models (principal.KeyModels), holds those: the
	// caller may use nothing else.
	only map[string]bool
}

// Known reports whether at least one of the caller's groups (or, for a machine client,
// scopes) is named by the policy, whether or not it grants anything.
func (e Entitlements) Known() bool { return len(e.grants) > 0 }

// AllowsModel reports whether the caller may invoke the Bedrock model or inference profile id.
func (e Entitlements) AllowsModel(id string) bool {
	if e.only != nil && !e.only[id] {
		return false
	}
	for _, g := range e.grants {
		if g.models[id] {
			return true
		}
	}
	return false
}

// AllowsEndpoint reports whether the caller may invoke the SageMaker endpoint name.
func (e Entitlements) AllowsEndpoint(name string) bool {
	if e.only != nil && !e.only[name] {
		return false
	}
	for _, g := range e.grants {
		if g.endpoints[name] {
			return true
		}
	}
	return false
}

// ModelIDs returns the models the caller may invoke, sorted.
func (e Entitlements) ModelIDs() []string {
	var out []string
	for _, g := range e.grants {
		out = append(out, g.modelIDs...)
	}
	slices.Sort(out)
	return e.keep(slices.Compact(out))
}

// EndpointNames returns the SageMaker endpoints the caller may invoke, sorted.
func (e Entitlements) EndpointNames() []string {
	var out []string
	for _, g := range e.grants {
		out = append(out, g.endpointNames...)
	}
	slices.Sort(out)
	return e.keep(slices.Compact(out))
}

// Quotas returns every limit that applies to the caller: its per-user limits (the most
// generous among its groups that grant anything) and the monthly pool of each such group that
// has one. Per-user limits come first (minute, day, month), then pools by group name.
func (e Entitlements) Quotas() []store.Limit {
	return e.quotas(func(g *grant) bool { return g.grantsAnything() })
}

// QuotasFor returns the limits that apply to a request for resource (a model id or an endpoint
// name): the most generous per-user limits among the groups that grant it, and the pool of
// each of those groups that has one. It returns nil when nothing grants resource.
func (e Entitlements) QuotasFor(resource string) []store.Limit {
	if e.only != nil && !e.only[resource] {
		return nil
	}
	return e.quotas(func(g *grant) bool { return g.allows(resource) })
}

func (e Entitlements) quotas(match func(*grant) bool) []store.Limit {
	var users []userLimits
	var pools []store.Limit
	for _, g := range e.grants {
		if !match(g) {
			continue
		}
		users = append(users, g.user)
		if g.isGroup && g.groupTokensPerMonth > 0 {
			pools = append(pools, groupPool(g.name, g.groupTokensPerMonth))
		}
	}
	if len(users) == 0 {
		return nil
	}
	slices.SortFunc(pools, func(a, b store.Limit) int {
		switch {
		case a.Group < b.Group:
			return -1
		case a.Group > b.Group:
			return 1
		}
		return 0
	})
	return append(mostGenerous(users).quotas(), pools...)
}

// ChargeGroups returns, sorted, the groups whose monthly pool a request for resource (a model
// id or an endpoint name) is charged to: every granting group with a pool.
func (e Entitlements) ChargeGroups(resource string) []string {
	var out []string
	for _, g := range e.grants {
		if g.isGroup && g.groupTokensPerMonth > 0 && g.allows(resource) {
			out = append(out, g.name)
		}
	}
	slices.Sort(out)
	return out
}

// Guardrail returns the Bedrock guardrail to apply when the caller invokes modelID: the
// model's own, else the first granting group's (in file order). ok is false when none applies
// or the caller may not use the model.
func (e Entitlements) Guardrail(modelID string) (id, version string, ok bool) {
	if !e.AllowsModel(modelID) {
		return "", "", false
	}
	if g, found := e.modelGuardrails[modelID]; found {
		return g.ID, g.Version, true
	}
	for _, g := range e.grants {
		if g.guardrail != nil && g.models[modelID] {
			return g.guardrail.ID, g.guardrail.Version, true
		}
	}
	return "", "", false
}

// keep returns the ids of ids an API key limited to some models may use: all of them when
// it is not limited.
func (e Entitlements) keep(ids []string) []string {
	if e.only == nil {
		return ids
	}
	return slices.DeleteFunc(ids, func(id string) bool { return !e.only[id] })
}
