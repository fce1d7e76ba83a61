package policy

// document is the YAML form of a policy file.
type document struct {
	// Version must be 1.
	Version int `yaml:"version"`
	// UsageAdmins are the groups whose members may read everyone's usage; omitted means
	// [Administrators].
	UsageAdmins *[]string `yaml:"usageAdmins"`
	// PolicyAdmins are the groups whose members may edit the policy at run time; omitted
	// means nobody may (the policy is then read-only in the app).
	PolicyAdmins *[]string `yaml:"policyAdmins"`
	// Guardrails name a Bedrock guardrail per model, whoever calls it.
	Guardrails []modelGuardrailDoc `yaml:"guardrails"`
	// Groups grant people, by Cognito group.
	Groups []groupDoc `yaml:"groups"`
	// Scopes grant machine clients, by OAuth scope.
	Scopes []scopeDoc `yaml:"scopes"`
	// GroupIDs map Entra ID group object ids to the names of groups defined above, for the
	// Entra token profile (Entra sends group object ids, not names).
	GroupIDs map[string]string `yaml:"groupIds"`
	// KeyMaxIdleDays stops a person's API keys once they have not signed in for that many
	// days; omitted means DefaultKeyMaxIdleDays.
	KeyMaxIdleDays *int `yaml:"keyMaxIdleDays"`
	// KeyMaxExpiryDays is the longest an API key may last; omitted means
	// DefaultKeyMaxExpiryDays.
	KeyMaxExpiryDays *int `yaml:"keyMaxExpiryDays"`
}

type modelGuardrailDoc struct {
	Model   string `yaml:"model"`
	ID      string `yaml:"id"`
	Version string `yaml:"version"`
}

type guardrailDoc struct {
	ID      string `yaml:"id"`
	Version string `yaml:"version"`
}

type groupDoc struct {
	Name           string        `yaml:"name"`
	Models         []string      `yaml:"models"`
	Endpoints      []string      `yaml:"endpoints"`
	KnowledgeBases []string      `yaml:"knowledgeBases"`
	Guardrail      *guardrailDoc `yaml:"guardrail"`
	Quotas         *quotasDoc    `yaml:"quotas"`
	// History false turns server-kept conversations off for the group's members.
	History *bool `yaml:"history"`
	// APIKeys false disables personal API keys for the group's members; omitted means true.
	APIKeys *bool `yaml:"apiKeys"`
}

func (g groupDoc) fields() grantFields {
	return grantFields{g.Models, g.Endpoints, g.KnowledgeBases, g.Guardrail, g.Quotas}
}

type scopeDoc struct {
	Scope          string        `yaml:"scope"`
	Models         []string      `yaml:"models"`
	Endpoints      []string      `yaml:"endpoints"`
	KnowledgeBases []string      `yaml:"knowledgeBases"`
	Guardrail      *guardrailDoc `yaml:"guardrail"`
	Quotas         *quotasDoc    `yaml:"quotas"`
}

func (s scopeDoc) fields() grantFields {
	return grantFields{s.Models, s.Endpoints, s.KnowledgeBases, s.Guardrail, s.Quotas}
}

// grantFields are what groups and scopes have in common (goccy/go-yaml cannot inline an
// unexported struct, hence the copies above).
type grantFields struct {
	Models         []string
	Endpoints      []string
	KnowledgeBases []string
	Guardrail      *guardrailDoc
	Quotas         *quotasDoc
}

// quotasDoc holds limits; an omitted limit means no limit.
type quotasDoc struct {
	UserTokensPerDay      *int64 `yaml:"userTokensPerDay"`
	UserTokensPerMonth    *int64 `yaml:"userTokensPerMonth"`
	UserRequestsPerMinute *int64 `yaml:"userRequestsPerMinute"`
	GroupTokensPerMonth   *int64 `yaml:"groupTokensPerMonth"`
	// Budgets: decimal amounts of the price table's currency, such as "12.50" (see
	// ParseAmount).
	UserCostPerDay    *string `yaml:"userCostPerDay"`
	UserCostPerMonth  *string `yaml:"userCostPerMonth"`
	GroupCostPerDay   *string `yaml:"groupCostPerDay"`
	GroupCostPerMonth *string `yaml:"groupCostPerMonth"`
}
