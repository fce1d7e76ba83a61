package policy

// document is the YAML form of a policy file.
type document struct {
	// Version must be 1.
	Version int `yaml:"version"`
	// UsageAdmins are the groups whose members may read everyone's usage; omitted means
	// [Administrators].
	UsageAdmins *[]string `yaml:"usageAdmins"`
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
	Name      string        `yaml:"name"`
	Models    []string      `yaml:"models"`
	Endpoints []string      `yaml:"endpoints"`
	Guardrail *guardrailDoc `yaml:"guardrail"`
	Quotas    *quotasDoc    `yaml:"quotas"`
	// APIKeys false disables personal API keys for the group's members; omitted means true.
	APIKeys *bool `yaml:"apiKeys"`
}

func (g groupDoc) fields() grantFields {
	return grantFields{g.Models, g.Endpoints, g.Guardrail, g.Quotas}
}

type scopeDoc struct {
	Scope     string        `yaml:"scope"`
	Models    []string      `yaml:"models"`
	Endpoints []string      `yaml:"endpoints"`
	Guardrail *guardrailDoc `yaml:"guardrail"`
	Quotas    *quotasDoc    `yaml:"quotas"`
}

func (s scopeDoc) fields() grantFields {
	return grantFields{s.Models, s.Endpoints, s.Guardrail, s.Quotas}
}

// grantFields are what groups and scopes have in common (goccy/go-yaml cannot inline an
// unexported struct, hence the copies above).
type grantFields struct {
	Models    []string
	Endpoints []string
	Guardrail *guardrailDoc
	Quotas    *quotasDoc
}

// quotasDoc holds limits; an omitted limit means no limit.
type quotasDoc struct {
	UserTokensPerDay      *int64 `yaml:"userTokensPerDay"`
	UserTokensPerMonth    *int64 `yaml:"userTokensPerMonth"`
	UserRequestsPerMinute *int64 `yaml:"userRequestsPerMinute"`
	GroupTokensPerMonth   *int64 `yaml:"groupTokensPerMonth"`
}
