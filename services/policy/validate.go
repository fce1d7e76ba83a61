package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/ast"
)

// validator compiles a decoded document, collecting every problem with its position.
type validator struct {
	opts     *options
	file     *ast.File
	problems []Problem
}

func (v *validator) addf(path, format string, args ...any) {
	line, col := position(v.file, path)
	v.problems = append(v.problems, Problem{Line: line, Column: col, Path: fieldPath(path), Message: fmt.Sprintf(format, args...)})
}

// fieldPath turns a YAML path ("$.groups[1].quotas") into a Problem's Path ("groups[1].quotas").
func fieldPath(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
}

func (v *validator) compile(doc *document) *Policy {
	p := &Policy{
		groups:          map[string]*grant{},
		scopes:          map[string]*grant{},
		modelGuardrails: map[string]Guardrail{},
	}
	if doc.Version != 1 {
		v.addf("$.version", "version must be 1, got %d", doc.Version)
	}
	firstLine := map[string]int{}
	for i, g := range doc.Groups {
		path := fmt.Sprintf("$.groups[%d]", i)
		// Cognito group names hold no white space: such a name would never match anyone.
		if !v.uniqueName(firstLine, path, "name", "group", g.Name, "group needs a name", "group name") {
			continue
		}
		gr := v.grant(path, g.Name, true, g.fields())
		gr.noHistory = g.History != nil && !*g.History
		gr.noAPIKeys = g.APIKeys != nil && !*g.APIKeys
		p.groups[g.Name] = gr
		p.groupOrder = append(p.groupOrder, gr)
	}
	for i, s := range doc.Scopes {
		path := fmt.Sprintf("$.scopes[%d]", i)
		// The scope claim is a space-separated list: such a scope would never match.
		if !v.uniqueName(firstLine, path, "scope", "scope", s.Scope, "scope entry needs a scope", "scope") {
			continue
		}
		gr := v.grant(path, s.Scope, false, s.fields())
		p.scopes[s.Scope] = gr
		p.scopeOrder = append(p.scopeOrder, gr)
	}
	for i, mg := range doc.Guardrails {
		path := fmt.Sprintf("$.guardrails[%d]", i)
		if mg.Model == "" {
			v.addf(path, "guardrail entry needs a model")
			continue
		}
		v.checkModel(path+".model", mg.Model)
		if _, dup := p.modelGuardrails[mg.Model]; dup {
			v.addf(path+".model", "model %q already has a guardrail", mg.Model)
		}
		if g, ok := v.guardrail(path, &guardrailDoc{ID: mg.ID, Version: mg.Version}); ok {
			p.modelGuardrails[mg.Model] = g
		}
	}
	p.groupIDs = make(map[string]string, len(doc.GroupIDs))
	for _, id := range slices.Sorted(maps.Keys(doc.GroupIDs)) {
		name := doc.GroupIDs[id]
		switch {
		case !objectID.MatchString(id):
			v.addf("$.groupIds", "groupIds key %q is not a group object id (a GUID)", id)
		case p.groups[name] == nil:
			v.addf("$.groupIds", "groupIds maps %s to %q, which is not defined under groups", id, name)
		default:
			p.groupIDs[strings.ToLower(id)] = name
		}
	}
	p.keys = v.keySettings(doc)
	p.usageAdmins = DefaultUsageAdmins
	if doc.UsageAdmins != nil {
		p.usageAdmins = *doc.UsageAdmins
		for i, name := range p.usageAdmins {
			if _, ok := p.groups[name]; !ok {
				v.addf(fmt.Sprintf("$.usageAdmins[%d]", i), "usage-admin group %q is not defined under groups", name)
			}
		}
	}
	if doc.PolicyAdmins != nil {
		p.policyAdmins = *doc.PolicyAdmins
		for i, name := range p.policyAdmins {
			if _, ok := p.groups[name]; !ok {
				v.addf(fmt.Sprintf("$.policyAdmins[%d]", i), "policy-admin group %q is not defined under groups", name)
			}
		}
	}
	// An edit made at run time must leave someone able to make the next one.
	if v.opts.requirePolicyAdmin && len(p.policyAdmins) == 0 {
		path := "$.policyAdmins"
		if doc.PolicyAdmins == nil {
			path = "$"
		}
		v.addf(path, "policyAdmins names no group: nobody could edit the policy again (name at least one group defined under groups)")
	}
	return p
}

// uniqueName checks the name of a group or scope entry at path (its field holds name):
// present (else missing is the problem), free of white space (named as label in the
// problem), and not defined before in seen, where kind+" "+name then records its line. It
// reports whether the entry may be compiled.
func (v *validator) uniqueName(seen map[string]int, path, field, kind, name, missing, label string) bool {
	switch key := kind + " " + name; {
	case name == "":
		v.addf(path, "%s", missing)
	case hasSpace(name):
		v.addf(path+"."+field, "%s %q contains white space", label, name)
	default:
		if line, dup := seen[key]; dup {
			v.addf(path+"."+field, "%s %q is already defined on line %d", kind, name, line)
			return false
		}
		seen[key], _ = position(v.file, path+"."+field)
		return true
	}
	return false
}

func (v *validator) grant(path, name string, isGroup bool, f grantFields) *grant {
	g := &grant{
		name:      name,
		isGroup:   isGroup,
		models:    map[string]bool{},
		endpoints: map[string]bool{},
	}
	for i, m := range f.Models {
		mp := fmt.Sprintf("%s.models[%d]", path, i)
		if g.models[m] {
			v.addf(mp, "model %q is listed twice", m)
		}
		v.checkModel(mp, m)
		g.models[m] = true
		g.modelIDs = append(g.modelIDs, m)
	}
	for i, e := range f.Endpoints {
		ep := fmt.Sprintf("%s.endpoints[%d]", path, i)
		switch {
		case e == "":
			v.addf(ep, "endpoint name is empty")
		case g.endpoints[e]:
			v.addf(ep, "endpoint %q is listed twice", e)
		case v.opts.endpoints != nil && !v.opts.endpoints[e]:
			v.addf(ep, "endpoint %q is not in the catalog", e)
		}
		g.endpoints[e] = true
		g.endpointNames = append(g.endpointNames, e)
	}
	g.knowledgeBases = map[string]bool{}
	for i, kb := range f.KnowledgeBases {
		kp := fmt.Sprintf("%s.knowledgeBases[%d]", path, i)
		switch model, known := v.opts.kbModels[kb]; {
		case kb == "":
			v.addf(kp, "knowledge base id is empty")
		case g.knowledgeBases[kb]:
			v.addf(kp, "knowledge base %q is listed twice", kb)
		case v.opts.kbModels != nil && !known:
			v.addf(kp, "knowledge base %q is not in the catalog", kb)
		case known && !g.models[model]:
			v.addf(kp, "knowledge base %q answers with model %q, which this entry does not grant", kb, model)
		}
		g.knowledgeBases[kb] = true
		g.knowledgeBaseIDs = append(g.knowledgeBaseIDs, kb)
	}
	slices.Sort(g.modelIDs)
	slices.Sort(g.endpointNames)
	slices.Sort(g.knowledgeBaseIDs)
	if f.Guardrail != nil {
		if gr, ok := v.guardrail(path+".guardrail", f.Guardrail); ok {
			g.guardrail = &gr
		}
	}
	if q := f.Quotas; q != nil {
		qp := path + ".quotas"
		g.user.requestsPerMinute = v.limit(qp+".userRequestsPerMinute", q.UserRequestsPerMinute, MaxRequestsPerMinute)
		g.user.tokensPerDay = v.limit(qp+".userTokensPerDay", q.UserTokensPerDay, MaxTokenLimit)
		g.user.tokensPerMonth = v.limit(qp+".userTokensPerMonth", q.UserTokensPerMonth, MaxTokenLimit)
		g.user.costPerDay = v.amount(qp+".userCostPerDay", q.UserCostPerDay)
		g.user.costPerMonth = v.amount(qp+".userCostPerMonth", q.UserCostPerMonth)
		g.group.tokensPerMonth = v.limit(qp+".groupTokensPerMonth", q.GroupTokensPerMonth, MaxTokenLimit)
		g.group.costPerDay = v.amount(qp+".groupCostPerDay", q.GroupCostPerDay)
		g.group.costPerMonth = v.amount(qp+".groupCostPerMonth", q.GroupCostPerMonth)
		if !isGroup {
			for name, set := range map[string]bool{
				"groupTokensPerMonth": q.GroupTokensPerMonth != nil,
				"groupCostPerDay":     q.GroupCostPerDay != nil,
				"groupCostPerMonth":   q.GroupCostPerMonth != nil,
			} {
				if set {
					v.addf(qp+"."+name, "%s applies to groups, not scopes", name)
				}
			}
			g.group = groupLimits{}
		}
		if d, m := g.user.tokensPerDay, g.user.tokensPerMonth; d > 0 && m > 0 && d > m {
			v.addf(qp+".userTokensPerDay", "userTokensPerDay (%d) is more than userTokensPerMonth (%d)", d, m)
		}
		if d, m := g.user.costPerDay, g.user.costPerMonth; d > 0 && m > 0 && d > m {
			v.addf(qp+".userCostPerDay", "userCostPerDay (%s) is more than userCostPerMonth (%s)", *q.UserCostPerDay, *q.UserCostPerMonth)
		}
		if d, m := g.group.costPerDay, g.group.costPerMonth; d > 0 && m > 0 && d > m {
			v.addf(qp+".groupCostPerDay", "groupCostPerDay (%s) is more than groupCostPerMonth (%s)", *q.GroupCostPerDay, *q.GroupCostPerMonth)
		}
	}
	return g
}

func (v *validator) checkModel(path, id string) {
	switch {
	case id == "":
		v.addf(path, "model id is empty")
	case v.opts.models != nil && !v.opts.models[id]:
		v.addf(path, "model %q is not in the catalog", id)
	}
}

// MaxTokenLimit is the largest tokens limit a policy may set (10^15 tokens): more is a typing
// mistake, not a limit.
const MaxTokenLimit = 1_000_000_000_000_000

// MaxRequestsPerMinute is the largest requests-per-minute limit a policy may set.
const MaxRequestsPerMinute = 1_000_000_000

func (v *validator) limit(path string, n *int64, most int64) int64 {
	if n == nil {
		return 0
	}
	if *n <= 0 {
		v.addf(path, "limit must be positive (omit it for no limit), got %d", *n)
		return 0
	}
	if *n > most {
		v.addf(path, "limit %d is absurd: at most %d (omit it for no limit)", *n, most)
		return 0
	}
	return *n
}

// amount parses a budget (ParseAmount) into nanos.
func (v *validator) amount(path string, s *string) int64 {
	if s == nil {
		return 0
	}
	n, err := ParseAmount(*s)
	if err != nil {
		v.addf(path, "%v", err)
		return 0
	}
	return n
}

func (v *validator) guardrail(path string, g *guardrailDoc) (Guardrail, bool) {
	ok := true
	if g.ID == "" {
		v.addf(path, "guardrail needs an id")
		ok = false
	}
	if g.Version == "" {
		v.addf(path, "guardrail needs a version (a number or DRAFT)")
		ok = false
	}
	return Guardrail{ID: g.ID, Version: g.Version}, ok
}

// objectID is an Entra object id: a GUID.
var objectID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }
