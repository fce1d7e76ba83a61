package admin

import (
	"fmt"
	"maps"
	"slices"

	"github.com/goccy/go-yaml"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
)

// The structured Policy of the API and the YAML document are the same schema, field for
// field. A policy is stored as YAML (so that an edit made as YAML keeps its comments); the
// structured form is read from it and rendered to it here.

type viewDoc struct {
	Version          int               `yaml:"version"`
	UsageAdmins      *[]string         `yaml:"usageAdmins"`
	PolicyAdmins     *[]string         `yaml:"policyAdmins"`
	KeyMaxIdleDays   *int32            `yaml:"keyMaxIdleDays"`
	KeyMaxExpiryDays *int32            `yaml:"keyMaxExpiryDays"`
	Guardrails       []viewGuardrail   `yaml:"guardrails"`
	Groups           []viewGrant       `yaml:"groups"`
	Scopes           []viewGrant       `yaml:"scopes"`
	GroupIDs         map[string]string `yaml:"groupIds"`
}

type viewGuardrail struct {
	Model   string `yaml:"model"`
	ID      string `yaml:"id"`
	Version string `yaml:"version"`
}

type viewGrant struct {
	Name           string         `yaml:"name"`
	Scope          string         `yaml:"scope"`
	Models         []string       `yaml:"models"`
	Endpoints      []string       `yaml:"endpoints"`
	KnowledgeBases []string       `yaml:"knowledgeBases"`
	Guardrail      *viewGuardrail `yaml:"guardrail"`
	Quotas         *viewQuotas    `yaml:"quotas"`
	History        *bool          `yaml:"history"`
	APIKeys        *bool          `yaml:"apiKeys"`
}

type viewQuotas struct {
	UserRequestsPerMinute *int64  `yaml:"userRequestsPerMinute"`
	UserTokensPerDay      *int64  `yaml:"userTokensPerDay"`
	UserTokensPerMonth    *int64  `yaml:"userTokensPerMonth"`
	GroupTokensPerMonth   *int64  `yaml:"groupTokensPerMonth"`
	UserCostPerDay        *string `yaml:"userCostPerDay"`
	UserCostPerMonth      *string `yaml:"userCostPerMonth"`
	GroupCostPerDay       *string `yaml:"groupCostPerDay"`
	GroupCostPerMonth     *string `yaml:"groupCostPerMonth"`
}

// policyProto reads a validated policy document into the API's structured form.
func policyProto(doc []byte) (*adminv1.Policy, error) {
	var v viewDoc
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	out := &adminv1.Policy{
		Version:  int32(v.Version), //nolint:gosec // G115: validated to be 1
		GroupIds: v.GroupIDs, KeyMaxIdleDays: v.KeyMaxIdleDays, KeyMaxExpiryDays: v.KeyMaxExpiryDays,
	}
	if v.UsageAdmins != nil {
		out.UsageAdmins, out.UsageAdminsSet = *v.UsageAdmins, true
	}
	if v.PolicyAdmins != nil {
		out.PolicyAdmins = *v.PolicyAdmins
	}
	for _, g := range v.Guardrails {
		out.Guardrails = append(out.Guardrails, &adminv1.ModelGuardrail{Model: g.Model, Id: g.ID, Version: g.Version})
	}
	for _, g := range v.Groups {
		out.Groups = append(out.Groups, &adminv1.PolicyGroup{
			Name: g.Name, Models: g.Models, Endpoints: g.Endpoints, Guardrail: guardrailProto(g.Guardrail),
			Quotas: quotasProto(g.Quotas), History: g.History, ApiKeys: g.APIKeys, KnowledgeBases: g.KnowledgeBases,
		})
	}
	for _, s := range v.Scopes {
		out.Scopes = append(out.Scopes, &adminv1.PolicyScope{
			Scope: s.Scope, Models: s.Models, Endpoints: s.Endpoints, Guardrail: guardrailProto(s.Guardrail),
			Quotas: quotasProto(s.Quotas), KnowledgeBases: s.KnowledgeBases,
		})
	}
	return out, nil
}

func guardrailProto(g *viewGuardrail) *adminv1.Guardrail {
	if g == nil {
		return nil
	}
	return &adminv1.Guardrail{Id: g.ID, Version: g.Version}
}

func quotasProto(q *viewQuotas) *adminv1.PolicyQuotas {
	if q == nil {
		return nil
	}
	return &adminv1.PolicyQuotas{
		UserRequestsPerMinute: q.UserRequestsPerMinute, UserTokensPerDay: q.UserTokensPerDay,
		UserTokensPerMonth: q.UserTokensPerMonth, GroupTokensPerMonth: q.GroupTokensPerMonth,
		UserCostPerDay: q.UserCostPerDay, UserCostPerMonth: q.UserCostPerMonth,
		GroupCostPerDay: q.GroupCostPerDay, GroupCostPerMonth: q.GroupCostPerMonth,
	}
}

// policyYAML renders the structured form as the YAML document it stands for, in the file's
// usual key order, leaving out what is unset. The result is validated like any document.
func policyYAML(p *adminv1.Policy) ([]byte, error) {
	doc := yaml.MapSlice{{Key: "version", Value: p.GetVersion()}}
	add := func(ms *yaml.MapSlice, key string, v any, set bool) {
		if set {
			*ms = append(*ms, yaml.MapItem{Key: key, Value: v})
		}
	}
	add(&doc, "usageAdmins", nonNil(p.GetUsageAdmins()), p.GetUsageAdminsSet() || len(p.GetUsageAdmins()) > 0)
	add(&doc, "policyAdmins", nonNil(p.GetPolicyAdmins()), true)
	add(&doc, "keyMaxIdleDays", p.GetKeyMaxIdleDays(), p.KeyMaxIdleDays != nil)
	add(&doc, "keyMaxExpiryDays", p.GetKeyMaxExpiryDays(), p.KeyMaxExpiryDays != nil)
	if gs := p.GetGuardrails(); len(gs) > 0 {
		var list []yaml.MapSlice
		for _, g := range gs {
			list = append(list, yaml.MapSlice{{Key: "model", Value: g.GetModel()}, {Key: "id", Value: g.GetId()}, {Key: "version", Value: g.GetVersion()}})
		}
		add(&doc, "guardrails", list, true)
	}
	if gs := p.GetGroups(); len(gs) > 0 {
		var list []yaml.MapSlice
		for _, g := range gs {
			m := yaml.MapSlice{{Key: "name", Value: g.GetName()}}
			grantYAML(&m, g.GetModels(), g.GetEndpoints(), g.GetKnowledgeBases(), g.GetGuardrail(), g.GetQuotas())
			add(&m, "history", g.GetHistory(), g.History != nil)
			add(&m, "apiKeys", g.GetApiKeys(), g.ApiKeys != nil)
			list = append(list, m)
		}
		add(&doc, "groups", list, true)
	}
	if ss := p.GetScopes(); len(ss) > 0 {
		var list []yaml.MapSlice
		for _, s := range ss {
			m := yaml.MapSlice{{Key: "scope", Value: s.GetScope()}}
			grantYAML(&m, s.GetModels(), s.GetEndpoints(), s.GetKnowledgeBases(), s.GetGuardrail(), s.GetQuotas())
			list = append(list, m)
		}
		add(&doc, "scopes", list, true)
	}
	if ids := p.GetGroupIds(); len(ids) > 0 {
		var m yaml.MapSlice
		for _, k := range slices.Sorted(maps.Keys(ids)) {
			m = append(m, yaml.MapItem{Key: k, Value: ids[k]})
		}
		add(&doc, "groupIds", m, true)
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render the policy: %w", err)
	}
	return b, nil
}

func grantYAML(m *yaml.MapSlice, models, endpoints, kbs []string, g *adminv1.Guardrail, q *adminv1.PolicyQuotas) {
	if len(models) > 0 {
		*m = append(*m, yaml.MapItem{Key: "models", Value: models})
	}
	if len(endpoints) > 0 {
		*m = append(*m, yaml.MapItem{Key: "endpoints", Value: endpoints})
	}
	if len(kbs) > 0 {
		*m = append(*m, yaml.MapItem{Key: "knowledgeBases", Value: kbs})
	}
	if g != nil {
		*m = append(*m, yaml.MapItem{Key: "guardrail", Value: yaml.MapSlice{{Key: "id", Value: g.GetId()}, {Key: "version", Value: g.GetVersion()}}})
	}
	if q == nil {
		return
	}
	var qs yaml.MapSlice
	for _, f := range []struct {
		key string
		v   any
		set bool
	}{
		{"userRequestsPerMinute", q.GetUserRequestsPerMinute(), q.UserRequestsPerMinute != nil},
		{"userTokensPerDay", q.GetUserTokensPerDay(), q.UserTokensPerDay != nil},
		{"userTokensPerMonth", q.GetUserTokensPerMonth(), q.UserTokensPerMonth != nil},
		{"groupTokensPerMonth", q.GetGroupTokensPerMonth(), q.GroupTokensPerMonth != nil},
		{"userCostPerDay", q.GetUserCostPerDay(), q.UserCostPerDay != nil},
		{"userCostPerMonth", q.GetUserCostPerMonth(), q.UserCostPerMonth != nil},
		{"groupCostPerDay", q.GetGroupCostPerDay(), q.GroupCostPerDay != nil},
		{"groupCostPerMonth", q.GetGroupCostPerMonth(), q.GroupCostPerMonth != nil},
	} {
		if f.set {
			qs = append(qs, yaml.MapItem{Key: f.key, Value: f.v})
		}
	}
	if len(qs) > 0 {
		*m = append(*m, yaml.MapItem{Key: "quotas", Value: qs})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
