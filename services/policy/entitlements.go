package policy

import (
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/store"
)

// Entitlements are what the policy grants one caller. The zero value grants nothing.
type Entitlements struct {
	// UsageAdmin says the caller may read everyone's usage and the audit trail.
	UsageAdmin bool

	grants          []*grant // the caller's matching groups or scopes, in file order
	modelGuardrails map[string]Guardrail
	person          bool
	// only, for an API key limited to some models (principal.KeyModels), holds those: the
	// caller may use nothing else.
	only map[string]bool
}

// HistoryEnabled reports whether the caller's conversations may be kept on the server: for a
// person, unless any of its groups says `history: false` (privacy wins); never for a machine
// client.
func (e Entitlements) HistoryEnabled() bool {
	if !e.person {
		return false
	}
	for _, g := range e.grants {
		if g.noHistory {
			return false
		}
	}
	return true
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

// AllowsKnowledgeBase reports whether the caller may ground a conversation in the knowledge
// base id.
func (e Entitlements) AllowsKnowledgeBase(id string) bool {
	for _, g := range e.grants {
		if g.knowledgeBases[id] {
			return true
		}
	}
	return false
}

// KnowledgeBaseIDs returns the knowledge bases the caller may use, sorted.
func (e Entitlements) KnowledgeBaseIDs() []string {
	var out []string
	for _, g := range e.grants {
		out = append(out, g.knowledgeBaseIDs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
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
// generous among its groups that grant anything) and the pools (tokens per month, cost per
// day and month) of each such group that has them. Per-user limits come first (requests per
// minute, tokens per day and month, cost per day and month), then pools by group name.
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
	// One pass, no intermediate slices: a decision allocates only the result.
	var user userLimits
	matched, pools := 0, 0
	for _, g := range e.grants {
		if !match(g) {
			continue
		}
		if matched == 0 {
			user = g.user
		} else {
			user = user.looser(g.user)
		}
		matched++
		if g.isGroup {
			pools += g.group.count()
		}
	}
	if matched == 0 {
		return nil
	}
	out := user.appendQuotas(make([]store.Limit, 0, user.count()+pools))
	first := len(out)
	for _, g := range e.grants {
		if g.isGroup && match(g) {
			out = g.group.appendQuotas(out, g.name)
		}
	}
	slices.SortStableFunc(out[first:], func(a, b store.Limit) int { return strings.Compare(a.Group, b.Group) })
	return out
}

// ChargeGroups returns, sorted, the groups whose pools (tokens or budgets) a request for
// resource (a model id or an endpoint name) is charged to: every granting group with a pool.
func (e Entitlements) ChargeGroups(resource string) []string {
	var out []string
	for _, g := range e.grants {
		if g.isGroup && g.group.any() && g.allows(resource) {
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
