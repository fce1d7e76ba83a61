// Package config holds the typed configuration of one Portico deployment environment
// (uat, prod) and loads it from infra/config/<env>.yaml.
package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

//go:embed *.yaml
var files embed.FS

// Environments lists the environment names that have a configuration file.
var Environments = []string{"uat", "prod"}

// Config is the configuration of one environment. Every field is validated by Validate.
type Config struct {
	// Env is the environment name: "uat" or "prod". It prefixes resource and stack names.
	Env string `yaml:"env"`
	// Account is the 12-digit AWS account id the stacks deploy to.
	Account string `yaml:"account"`
	// Region is the AWS region of the regional stack (API, Lambdas, Cognito, data).
	Region string `yaml:"region"`
	// Protect turns on deletion protection and retain-on-delete for stateful resources
	// (DynamoDB table, user pool, KMS key, buckets). Always true in prod.
	Protect bool `yaml:"protect"`
	// Web is the public web front door (CloudFront).
	Web Web `yaml:"web"`
	// Identity configures Cognito and the Entra ID federation.
	Identity Identity `yaml:"identity"`
	// API configures API Gateway and its WAF.
	API API `yaml:"api"`
	// Models lists the Bedrock guardrails the policy may apply. The models and endpoints
	// themselves come from the catalog (CatalogFile): IAM grants exactly what it lists, the
	// way each model runs in Region.
	Models Models `yaml:"models"`
	// PolicyFile is the path (relative to infra/) of the group policy file shipped to the
	// services and the authorizer as PORTICO_POLICY_FILE. Required: the services' embedded
	// development policy is never deployed (config/policies/ holds the examples).
	PolicyFile string `yaml:"policyFile"`
	// CatalogFile is the path (relative to infra/) of the services' model catalog
	// (PORTICO_CATALOG_FILE), which says where each model runs; empty uses the services'
	// embedded development catalog, whose models no single region runs all of. Synthesis
	// refuses a catalog with a model that cannot run in Region (config/catalogs/).
	CatalogFile string `yaml:"catalogFile"`
	// WAFBodyRules is what the body-inspecting managed rules (cross-site scripting, file
	// inclusion, SSRF, SQL injection, Java RCE payloads, body size) do outside the chat
	// procedures, whose bodies are prompts and never inspected by them: "count" (labels
	// and metrics only; UAT first, to watch what they would block) or "block".
	WAFBodyRules string `yaml:"wafBodyRules"`
	// Concurrency reserves Lambda concurrency for the functions that hold a stream open.
	Concurrency Concurrency `yaml:"concurrency"`
	// LogRetentionDays is the CloudWatch Logs retention for every log group.
	LogRetentionDays int `yaml:"logRetentionDays"`
	// AlarmEmail receives the CloudWatch alarm notifications (SNS e-mail subscription).
	AlarmEmail string `yaml:"alarmEmail"`
	// AssetDir is the directory holding <name>/bootstrap for every Lambda (make build writes
	// build/lambda); relative paths are relative to infra/.
	AssetDir string `yaml:"assetDir"`
	// Conversations configures the server-kept conversations and their attachments.
	Conversations Conversations `yaml:"conversations"`
	// Alerts configures where quota and budget alerts go besides the EventBridge bus.
	Alerts Alerts `yaml:"alerts"`
	// Policy says where the group policy is managed at run time.
	Policy Policy `yaml:"policy"`
}

// Where the run-time policy is managed (PORTICO_POLICY_MODE).
const (
	// PolicyModeStore keeps the policy as numbered versions in the ledger table, seeded from
	// PolicyFile and edited by policy administrators in the app.
	PolicyModeStore = "store"
	// PolicyModeFile makes PolicyFile the policy: read-only in the app, changed by redeploying.
	PolicyModeFile = "file"
)

// Policy configures where the group policy is managed at run time.
type Policy struct {
	// Mode is PORTICO_POLICY_MODE on every function that reads the policy: "store" (the
	// default when empty) or "file". It also decides the grants: in store mode every
	// function that reads the policy reads the ledger table's POLICY items, inference and
	// admin seed them from the file, and admin writes the versions edited in the app.
	Mode string `yaml:"mode"`
}

// PolicyMode returns the configured policy mode, PolicyModeStore when unset.
func (c *Config) PolicyMode() string {
	if c.Policy.Mode == "" {
		return PolicyModeStore
	}
	return c.Policy.Mode
}

// PolicyInStore reports whether the policy is kept in the ledger table (PolicyModeStore).
func (c *Config) PolicyInStore() bool { return c.PolicyMode() == PolicyModeStore }

// Conversations configures the conversation table and the attachment bucket.
type Conversations struct {
	// RetentionDays is how long a conversation's messages and attachments are kept
	// (PORTICO_CONVERSATION_RETENTION_DAYS: DynamoDB's time to live on expiresAt, and the
	// attachment bucket's lifecycle expiration); 0 keeps them until their owner deletes them.
	RetentionDays int `yaml:"retentionDays"`
}

// MaxRetentionDays is the longest conversation retention accepted (10 years).
const MaxRetentionDays = 3650

// Alerts configures the notifications of the quota and budget alerts that the services put
// on the governance event bus (PORTICO_EVENT_BUS).
type Alerts struct {
	// Emails subscribe to an SNS topic (encrypted with the environment's key) that an
	// EventBridge rule feeds with every "Portico Quota Threshold Crossed" event. Empty: no
	// topic; the events stay on the bus for whatever the operator attaches.
	Emails []string `yaml:"emails"`
}

// KnowledgeBase is one Amazon Bedrock knowledge base the services may retrieve from.
type KnowledgeBase struct {
	// ID is the knowledge base id (10 upper-case letters and digits).
	ID string `yaml:"id"`
	// Region is the knowledge base's region; empty means the environment's. A knowledge base
	// is retrieved from in its own region and account, which must be the environment's.
	Region string `yaml:"region"`
	// AccountID is the knowledge base's account; empty means the environment's.
	AccountID string `yaml:"accountId"`
}

// Web configures the CloudFront distribution and the BFF.
type Web struct {
	// Domain is the host name users open, e.g. portico.example.com. The BFF's public URL is
	// https://<Domain>; Cognito's callback is https://<Domain>/auth/callback.
	Domain string `yaml:"domain"`
	// PublicURL optionally overrides the origin users see (default https://<Domain>): set it to
	// the Amplify Hosting domain when Amplify serves the SPA and rewrites /auth/* and /api/*
	// to this distribution (infra/amplify.yml). Cognito's callback and the BFF use it.
	PublicURL string `yaml:"publicUrl"`
	// CertificateARN is an ACM certificate for Domain. CloudFront requires it in us-east-1.
	CertificateARN string `yaml:"certificateArn"`
	// AllowedCountries optionally restricts viewers to these ISO 3166-1 alpha-2 countries
	// (CloudFront geo restriction and a WAF geo-match rule). Empty allows every country.
	AllowedCountries []string `yaml:"allowedCountries"`
	// RateLimit is the edge WAF's per-caller rate-based rule: requests per BFF session (the
	// session cookie) per 5 minutes. Office NAT puts many people behind one address, so the
	// session, not the address, identifies a caller.
	RateLimit int `yaml:"rateLimit"`
	// IPRateLimit is the edge WAF's coarse flood guard: requests per viewer address per 5
	// minutes, whatever the cookie (sign-in pages, static files, scripts without a session).
	// Size it for the largest office behind one address.
	IPRateLimit int `yaml:"ipRateLimit"`
	// OriginReadTimeout is how long CloudFront waits for the BFF's first (and each next)
	// response byte: a slow model's first token. 1..60 s without a quota increase
	// (docs/deploy.md, "Service quotas").
	OriginReadTimeout Duration `yaml:"originReadTimeout"`
	// PriceClass is the CloudFront price class: 100, 200 or All.
	PriceClass string `yaml:"priceClass"`
}

// Identity configures how people and machines sign in: a Cognito user pool federating Entra
// ID by SAML (Mode cognito, the default), or Entra ID as the OpenID provider directly (Mode
// entra, no Cognito). The Cognito fields apply to Mode cognito only, Entra to Mode entra only.
type Identity struct {
	// Mode is IdentityCognito (also when empty) or IdentityEntra.
	Mode string `yaml:"mode"`
	// DomainPrefix is the Cognito hosted domain prefix (<prefix>.auth.<region>.amazoncognito.com).
	DomainPrefix string `yaml:"domainPrefix"`
	// EntraMetadataURL is the federation metadata URL of the Entra enterprise application.
	EntraMetadataURL string `yaml:"entraMetadataUrl"`
	// Groups are the Cognito groups the stack creates; the policy file grants by these names.
	Groups []Group `yaml:"groups"`
	// EntraGroups maps Entra group object ids (GUIDs, as Entra sends them) or names to the
	// Cognito group (one of Groups) they confer. Unmapped groups confer nothing.
	EntraGroups map[string]string `yaml:"entraGroups"`
	// ThreatProtection turns on Cognito threat protection (Plus feature plan, full function).
	ThreatProtection bool `yaml:"threatProtection"`
	// DepartmentClaim says whether the pre token generation trigger copies the user's
	// custom:department attribute into access tokens, where the services read it for
	// chargeback (PORTICO_DEPARTMENT_CLAIM). Unset means true; false leaves every recorded
	// department empty. Cognito only (see Config.DepartmentClaim).
	DepartmentClaim *bool `yaml:"departmentClaim"`
	// AccessTokenTTL is the access (and ID) token lifetime, 5m to 24h.
	AccessTokenTTL Duration `yaml:"accessTokenTtl"`
	// RefreshTokenTTL is the refresh token lifetime, 1h to 10 years.
	RefreshTokenTTL Duration `yaml:"refreshTokenTtl"`
	// BreakGlassGroup is the one of Groups whose local (non-federated) Cognito users may sign
	// in at /auth/login?idp=local when Entra ID is unavailable (the BFF's
	// PORTICO_OIDC_BREAK_GLASS_GROUP). Empty means the group named Administrators.
	BreakGlassGroup string `yaml:"breakGlassGroup"`
	// Entra configures Entra ID as the OpenID provider directly (Mode entra).
	Entra Entra `yaml:"entra"`
}

// Concurrency is the reserved concurrency of the streaming functions. A streamed answer
// holds one execution for as long as the model writes (minutes), so N people streaming need
// N executions of the BFF and N of Inference; reserving them keeps other functions of the
// account from starving Portico, and caps what Portico can take. The account keeps at least
// 100 unreserved (docs/deploy.md, "Service quotas").
type Concurrency struct {
	// BFF is the BFF function's reserved concurrency: concurrent streams plus page loads.
	BFF int `yaml:"bff"`
	// Inference is the Inference function's reserved concurrency: concurrent streams.
	Inference int `yaml:"inference"`
}

// Group is one Cognito group of the user pool.
type Group struct {
	// Name is the group name the tokens' cognito:groups claim and the policy file use.
	Name string `yaml:"name"`
	// Description says what the group is for (shown in the Cognito console).
	Description string `yaml:"description"`
}

// API configures API Gateway.
type API struct {
	// AllowedOrigins lists the exact CORS origins (https://host); never "*".
	AllowedOrigins []string `yaml:"allowedOrigins"`
	// IPAllowList optionally restricts API callers to these CIDRs (WAF IP set). Empty allows all.
	IPAllowList []string `yaml:"ipAllowList"`
	// AllowedCountries optionally restricts API callers to these countries (WAF geo match).
	// The BFF calls the API from the AWS region, so include the region's country.
	AllowedCountries []string `yaml:"allowedCountries"`
	// RateLimit is the regional WAF's per-caller rate-based rule: requests per access token
	// (the Authorization header) per 5 minutes. The API sees the BFF Lambda's egress
	// addresses, shared by every user, so the token identifies a caller.
	RateLimit int `yaml:"rateLimit"`
	// IPRateLimit is the regional WAF's coarse flood guard: requests per source address per
	// 5 minutes. Every BFF request comes from a few Lambda addresses: size it for all users.
	IPRateLimit int `yaml:"ipRateLimit"`
	// SecurityPolicy is the REST API's TLS security policy: TLS_1_2 (TLS 1.2 and 1.3), or an
	// enhanced SecurityPolicy_TLS13_* policy (then with the STRICT endpoint access mode).
	// Never TLS_1_0.
	SecurityPolicy string `yaml:"securityPolicy"`
	// ThrottleRate is the stage's steady-state requests per second.
	ThrottleRate float64 `yaml:"throttleRate"`
	// ThrottleBurst is the stage's burst limit.
	ThrottleBurst int `yaml:"throttleBurst"`
	// AuthorizerCacheTTL is how long API Gateway caches the authorizer's answer per token (0 to 1h).
	AuthorizerCacheTTL Duration `yaml:"authorizerCacheTtl"`
}

// Models holds what the catalog does not: the Bedrock guardrails.
type Models struct {
	// Guardrails lists Bedrock guardrail ids in Region that the policy may apply
	// (bedrock:ApplyGuardrail is granted on exactly these).
	Guardrails []string `yaml:"guardrails"`
	// KnowledgeBases lists the Bedrock knowledge bases of the deployed catalog
	// (bedrock:Retrieve is granted on exactly these; none listed, no grant).
	KnowledgeBases []KnowledgeBase `yaml:"knowledgeBases"`
}

// Duration is a time.Duration written as a Go duration string ("1h", "720h").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Load reads and validates the embedded configuration of env.
func Load(env string) (*Config, error) {
	if !slices.Contains(Environments, env) {
		return nil, fmt.Errorf("config: unknown environment %q (want one of %s)", env, strings.Join(Environments, ", "))
	}
	b, err := files.ReadFile(env + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// LoadFile reads and validates a configuration file from disk (an example such as
// config/examples/uat-entra.yaml, or a file kept outside the repository).
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a YAML configuration, rejecting unknown fields, and validates it.
func Parse(b []byte) (*Config, error) {
	var c Config
	if err := yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField()).Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %s", yaml.FormatError(err, false, true))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	prefixRE  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	hostRE    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	certRE    = regexp.MustCompile(`^arn:aws:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$`)
	emailRE   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	// groupRE is what Portico accepts as a Cognito group name: Cognito's own pattern without
	// white space, which neither the cognito:groups claim nor the policy file can carry.
	groupRE     = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$`)
	guardrailRE = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	// kbRE is a Bedrock knowledge base id.
	kbRE = regexp.MustCompile(`^[0-9A-Z]{10}$`)
)

// EntraProviderName is the Cognito identity provider name of the Entra ID federation.
const EntraProviderName = "EntraID"

// devPolicyPath is the services' embedded development policy, which no environment deploys.
const devPolicyPath = "services/policy/dev.yaml"

// MaxOriginReadTimeout is CloudFront's largest origin response timeout without a quota
// increase.
const MaxOriginReadTimeout = 60 * time.Second

// APISecurityPolicies are the REST API security policies Portico accepts: TLS 1.2 or later
// (API Gateway's legacy TLS_1_0 also accepts TLS 1.0 and 1.1).
var APISecurityPolicies = []string{"TLS_1_2", "SecurityPolicy_TLS13_1_2_2021_06", "SecurityPolicy_TLS13_1_3_2025_09"}

// retentionDays are the values CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !slices.Contains(Environments, c.Env) {
		bad("env", "%q is not one of %v", c.Env, Environments)
	}
	if c.Env == "prod" && !c.Protect {
		bad("protect", "must be true in prod")
	}
	if !accountRE.MatchString(c.Account) {
		bad("account", "%q is not a 12-digit account id", c.Account)
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", "%q is not a region name", c.Region)
	}
	if !hostRE.MatchString(c.Web.Domain) {
		bad("web.domain", "%q is not a lower-case host name", c.Web.Domain)
	}
	if c.Web.PublicURL != "" {
		if u, err := url.Parse(c.Web.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("web.publicUrl", "%q is not an https origin", c.Web.PublicURL)
		}
	}
	if !certRE.MatchString(c.Web.CertificateARN) {
		bad("web.certificateArn", "%q is not an ACM certificate ARN in us-east-1 (CloudFront needs us-east-1)", c.Web.CertificateARN)
	}
	for _, cc := range c.Web.AllowedCountries {
		if !countryRE.MatchString(cc) {
			bad("web.allowedCountries", "%q is not an ISO 3166-1 alpha-2 code", cc)
		}
	}
	if c.Web.RateLimit < 10 || c.Web.RateLimit > 2_000_000_000 {
		bad("web.rateLimit", "%d is outside 10..2e9 requests per 5 minutes", c.Web.RateLimit)
	}
	if c.Web.IPRateLimit < c.Web.RateLimit || c.Web.IPRateLimit > 2_000_000_000 {
		bad("web.ipRateLimit", "%d is below the per-session limit or above 2e9 requests per 5 minutes", c.Web.IPRateLimit)
	}
	if d := c.Web.OriginReadTimeout.Duration; d < time.Second || d > MaxOriginReadTimeout {
		bad("web.originReadTimeout", "%s is outside CloudFront's 1s..%s (more needs a quota increase)", d, MaxOriginReadTimeout)
	}
	if !slices.Contains([]string{"100", "200", "All"}, c.Web.PriceClass) {
		bad("web.priceClass", "%q is not 100, 200 or All", c.Web.PriceClass)
	}
	if len(c.Identity.Groups) == 0 {
		bad("identity.groups", "at least one group is required")
	}
	groups := map[string]bool{}
	for _, g := range c.Identity.Groups {
		switch {
		case !groupRE.MatchString(g.Name):
			bad("identity.groups", "%q is not a Cognito group name (1-128 characters, no white space)", g.Name)
		case strings.HasSuffix(g.Name, "_"+EntraProviderName):
			bad("identity.groups", "%q: Cognito names its group of federated users <pool>_%s", g.Name, EntraProviderName)
		case groups[g.Name]:
			bad("identity.groups", "%q is listed twice", g.Name)
		}
		if len(g.Description) > 2048 {
			bad("identity.groups", "%q: description longer than Cognito's 2048 characters", g.Name)
		}
		groups[g.Name] = true
	}
	switch c.Identity.Mode {
	case "", IdentityCognito:
		c.validateCognito(groups, bad)
	case IdentityEntra:
		c.validateEntra(bad)
	default:
		bad("identity.mode", "%q is not %s or %s", c.Identity.Mode, IdentityCognito, IdentityEntra)
	}
	if len(c.API.AllowedOrigins) == 0 {
		bad("api.allowedOrigins", "at least one origin is required")
	}
	for _, o := range c.API.AllowedOrigins {
		u, err := url.Parse(o)
		if o == "*" || err != nil || u.Scheme != "https" || u.Host == "" || strings.Contains(o, "*") || (u.Path != "" && u.Path != "/") {
			bad("api.allowedOrigins", "%q is not an exact https origin", o)
		}
	}
	for _, cc := range c.API.AllowedCountries {
		if !countryRE.MatchString(cc) {
			bad("api.allowedCountries", "%q is not an ISO 3166-1 alpha-2 code", cc)
		}
	}
	for _, p := range c.API.IPAllowList {
		if _, err := netip.ParsePrefix(p); err != nil {
			bad("api.ipAllowList", "%q is not a CIDR", p)
		}
	}
	if c.API.RateLimit < 10 || c.API.RateLimit > 2_000_000_000 {
		bad("api.rateLimit", "%d is outside 10..2e9 requests per 5 minutes", c.API.RateLimit)
	}
	if c.API.IPRateLimit < c.API.RateLimit || c.API.IPRateLimit > 2_000_000_000 {
		bad("api.ipRateLimit", "%d is below the per-token limit or above 2e9 requests per 5 minutes", c.API.IPRateLimit)
	}
	if !slices.Contains(APISecurityPolicies, c.API.SecurityPolicy) {
		bad("api.securityPolicy", "%q is not one of %v (TLS 1.2 or later)", c.API.SecurityPolicy, APISecurityPolicies)
	}
	if c.API.ThrottleRate <= 0 || c.API.ThrottleBurst <= 0 {
		bad("api.throttle", "rate and burst must be positive")
	}
	if d := c.API.AuthorizerCacheTTL.Duration; d < 0 || d > time.Hour {
		bad("api.authorizerCacheTtl", "%s is outside 0..1h", d)
	}
	for _, g := range c.Models.Guardrails {
		if !guardrailRE.MatchString(g) {
			bad("models.guardrails", "%q is not a guardrail id", g)
		}
	}
	kbs := map[string]bool{}
	for _, kb := range c.Models.KnowledgeBases {
		switch {
		case !kbRE.MatchString(kb.ID):
			bad("models.knowledgeBases", "%q is not a knowledge base id (10 upper-case letters and digits)", kb.ID)
		case kbs[kb.ID]:
			bad("models.knowledgeBases", "%q is listed twice", kb.ID)
		}
		kbs[kb.ID] = true
		if kb.Region != "" && kb.Region != c.Region {
			bad("models.knowledgeBases", "%s: region %q is not the environment's %q (the services retrieve in their own region)", kb.ID, kb.Region, c.Region)
		}
		if kb.AccountID != "" && kb.AccountID != c.Account {
			bad("models.knowledgeBases", "%s: account %q is not the environment's (a knowledge base is retrieved from in its own account)", kb.ID, kb.AccountID)
		}
	}
	if d := c.Conversations.RetentionDays; d < 0 || d > MaxRetentionDays {
		bad("conversations.retentionDays", "%d is outside 0 (keep) ..%d days", d, MaxRetentionDays)
	}
	for _, m := range c.Alerts.Emails {
		if !emailRE.MatchString(m) {
			bad("alerts.emails", "%q is not an e-mail address", m)
		}
	}
	if m := c.Policy.Mode; m != "" && m != PolicyModeStore && m != PolicyModeFile {
		bad("policy.mode", "%q is not store or file", m)
	}
	switch p := filepath.ToSlash(filepath.Clean(c.PolicyFile)); {
	case strings.TrimSpace(c.PolicyFile) == "":
		bad("policyFile", "required: the services would otherwise run on their embedded development policy (see config/policies/)")
	case p == devPolicyPath || strings.HasSuffix(p, "/"+devPolicyPath):
		bad("policyFile", "%q is the services' development policy; deploy a policy of your own (see config/policies/)", c.PolicyFile)
	}
	if c.WAFBodyRules != "count" && c.WAFBodyRules != "block" {
		bad("wafBodyRules", "%q is not count or block", c.WAFBodyRules)
	}
	if c.Env == "prod" && c.WAFBodyRules != "block" {
		bad("wafBodyRules", "must be block in prod (count it in uat first)")
	}
	if c.Concurrency.BFF < 1 || c.Concurrency.Inference < 1 || c.Concurrency.BFF+c.Concurrency.Inference > 900 {
		bad("concurrency", "bff %d and inference %d must be at least 1 and leave 100 of the default 1000 unreserved", c.Concurrency.BFF, c.Concurrency.Inference)
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		bad("logRetentionDays", "%d is not a CloudWatch Logs retention value", c.LogRetentionDays)
	}
	if !emailRE.MatchString(c.AlarmEmail) {
		bad("alarmEmail", "%q is not an e-mail address", c.AlarmEmail)
	}
	if c.AssetDir == "" {
		bad("assetDir", "required")
	}
	if len(errs) > 0 {
		return fmt.Errorf("config %s: %w", c.Env, errors.Join(errs...))
	}
	return nil
}

// Name returns "portico-<env>-<suffix>", the physical name of an environment's resource.
func (c *Config) Name(suffix string) string { return "portico-" + c.Env + "-" + suffix }

// PublicURL is the origin users see: web.publicUrl, or else https://<web.domain>.
func (c *Config) PublicURL() string {
	if c.Web.PublicURL != "" {
		return strings.TrimSuffix(c.Web.PublicURL, "/")
	}
	return "https://" + c.Web.Domain
}

// GuardrailARNs lists the ARNs of the catalog's Bedrock guardrails.
func (c *Config) GuardrailARNs() []string {
	var arns []string
	for _, g := range c.Models.Guardrails {
		arns = append(arns, fmt.Sprintf("arn:aws:bedrock:%s:%s:guardrail/%s", c.Region, c.Account, g))
	}
	slices.Sort(arns)
	return slices.Compact(arns)
}

// KnowledgeBaseARNs lists the ARNs of the configured Bedrock knowledge bases, in the
// environment's region and account.
func (c *Config) KnowledgeBaseARNs() []string {
	var arns []string
	for _, kb := range c.Models.KnowledgeBases {
		arns = append(arns, fmt.Sprintf("arn:aws:bedrock:%s:%s:knowledge-base/%s", c.Region, c.Account, kb.ID))
	}
	slices.Sort(arns)
	return slices.Compact(arns)
}
