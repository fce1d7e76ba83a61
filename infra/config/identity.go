package config

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Identity modes (identity.mode).
const (
	// IdentityCognito is a Cognito user pool federating Entra ID by SAML: the default.
	IdentityCognito = "cognito"
	// IdentityEntra is Entra ID as the OpenID provider directly: no Cognito.
	IdentityEntra = "entra"
)

// DefaultBreakGlassGroup is the break-glass group when identity.breakGlassGroup is empty.
const DefaultBreakGlassGroup = "Administrators"

// EntraLogin is the origin of Entra ID's v2.0 endpoints (global cloud).
const EntraLogin = "https://login.microsoftonline.com"

// Entra configures Entra ID as Portico's OpenID provider (identity.mode entra): two app
// registrations of one tenant, the API app the access tokens are for and the BFF's web app
// (docs/deploy.md, "Entra ID directly").
type Entra struct {
	// TenantID is the directory (tenant) id, a lower-case GUID: the issuer is
	// https://login.microsoftonline.com/<TenantID>/v2.0 and every token's tid must equal it.
	TenantID string `yaml:"tenantId"`
	// APIClientID is the API app's Application (client) id, a lower-case GUID: the aud of the
	// v2.0 access tokens issued for it (the services' PORTICO_ENTRA_AUDIENCE).
	APIClientID string `yaml:"apiClientId"`
	// Scope is the delegated scope the BFF asks for, in full: the API app's Application ID URI
	// and the scope's value (api://portico-uat/access). The value after the last "/" is what
	// people's tokens carry in scp (the services' PORTICO_ENTRA_SCOPE).
	Scope string `yaml:"scope"`
	// WebClientID is the BFF web app's Application (client) id, a lower-case GUID: the BFF's
	// PORTICO_OIDC_CLIENT_ID, and the azp the services believe the Portico-Client-* headers of.
	WebClientID string `yaml:"webClientId"`
	// MachineClientIDs are the Application (client) ids of the apps that call the API with
	// their own tokens (client credentials and app roles); the services accept their azp.
	MachineClientIDs []string `yaml:"machineClientIds"`
	// ClientSecretARN is the full ARN of the Secrets Manager secret, in the environment's
	// account and region, that holds the web app's client secret (created by the operator;
	// the BFF's PORTICO_OIDC_CLIENT_SECRET_ARN, the only client secret the BFF may read).
	ClientSecretARN string `yaml:"clientSecretArn"`
	// DepartmentClaim is the access token claim carrying a person's department, as the API
	// app registration is configured to send it (docs/deploy.md, Chargeback): the services'
	// PORTICO_DEPARTMENT_CLAIM. Empty leaves the services' default, custom:department.
	DepartmentClaim string `yaml:"departmentClaim"`
}

var (
	// guidRE is an Entra object or application id as the tokens carry it: a lower-case GUID.
	guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// scopeValueRE is a scope's value as tokens carry it in scp (no white space, no "/"),
	// never .default (which names no delegated scope of its own).
	scopeValueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	// claimNameRE is an access token claim's name: letters, digits and . _ : / - (a URI-named
	// claim included), at most 128 characters.
	claimNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)
	// secretARNRE is a complete Secrets Manager secret ARN (with the six characters Secrets
	// Manager appends to the name), so an IAM grant on it names exactly that secret.
	secretARNRE = regexp.MustCompile(`^arn:aws:secretsmanager:([a-z0-9-]+):([0-9]{12}):secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
)

// IsEntra reports whether the environment uses Entra ID directly (no Cognito).
func (c *Config) IsEntra() bool { return c.Identity.Mode == IdentityEntra }

// BreakGlassGroup is the group whose local Cognito users may sign in at
// /auth/login?idp=local: identity.breakGlassGroup, else DefaultBreakGlassGroup. Empty in
// Mode entra (there are no local users).
func (c *Config) BreakGlassGroup() string {
	switch {
	case c.IsEntra():
		return ""
	case c.Identity.BreakGlassGroup != "":
		return c.Identity.BreakGlassGroup
	}
	return DefaultBreakGlassGroup
}

// DepartmentClaim reports whether Cognito's access tokens carry the department
// (identity.departmentClaim, true unless set false). False with Entra ID directly, where the
// stack configures no token: the department is an optional claim of the app registration.
func (c *Config) DepartmentClaim() bool {
	return !c.IsEntra() && (c.Identity.DepartmentClaim == nil || *c.Identity.DepartmentClaim)
}

// EntraIssuer is the issuer of the tenant's v2.0 tokens, exactly as the services and the BFF
// expect it (never a multi-tenant alias).
func (c *Config) EntraIssuer() string { return EntraLogin + "/" + c.Identity.Entra.TenantID + "/v2.0" }

// EntraTokenEndpoint is the tenant's v2.0 token endpoint (machine clients' client credentials).
func (c *Config) EntraTokenEndpoint() string {
	return EntraLogin + "/" + c.Identity.Entra.TenantID + "/oauth2/v2.0/token"
}

// EntraScopeValue is the value of identity.entra.scope that tokens carry in scp: what follows
// its last "/".
func (c *Config) EntraScopeValue() string {
	s := c.Identity.Entra.Scope
	return s[strings.LastIndex(s, "/")+1:]
}

// EntraClientIDs lists the azp values the services accept: the web app's, then the machine
// apps'.
func (c *Config) EntraClientIDs() []string {
	return append([]string{c.Identity.Entra.WebClientID}, c.Identity.Entra.MachineClientIDs...)
}

// validateCognito checks the Cognito settings (identity.mode cognito); groups are the names
// of identity.groups.
func (c *Config) validateCognito(groups map[string]bool, bad func(field, format string, args ...any)) {
	id := c.Identity
	if !prefixRE.MatchString(id.DomainPrefix) || strings.Contains(id.DomainPrefix, "cognito") || strings.Contains(id.DomainPrefix, "aws") {
		bad("identity.domainPrefix", "%q is not a valid Cognito domain prefix", id.DomainPrefix)
	}
	if u, err := url.Parse(id.EntraMetadataURL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("identity.entraMetadataUrl", "%q is not an https URL", id.EntraMetadataURL)
	}
	for gid, g := range id.EntraGroups {
		if gid == "" || !groups[g] {
			bad("identity.entraGroups", "%q → %q: want a non-empty Entra group and one of identity.groups", gid, g)
		}
	}
	if d := id.AccessTokenTTL.Duration; d < 5*time.Minute || d > 24*time.Hour {
		bad("identity.accessTokenTtl", "%s is outside Cognito's 5m..24h", d)
	}
	if d := id.RefreshTokenTTL.Duration; d < time.Hour || d > 3650*24*time.Hour {
		bad("identity.refreshTokenTtl", "%s is outside Cognito's 1h..10y", d)
	}
	if id.RefreshTokenTTL.Duration <= id.AccessTokenTTL.Duration {
		bad("identity.refreshTokenTtl", "must be longer than the access token lifetime")
	}
	if g := c.BreakGlassGroup(); !groups[g] {
		if id.BreakGlassGroup == "" {
			bad("identity.breakGlassGroup", "unset, and identity.groups has no %s group: name the group whose local users may sign in at /auth/login?idp=local", DefaultBreakGlassGroup)
		} else {
			bad("identity.breakGlassGroup", "%q is not one of identity.groups", g)
		}
	}
	if !isZeroEntra(id.Entra) {
		bad("identity.entra", "applies to identity.mode %s only (this environment federates Entra ID through Cognito)", IdentityEntra)
	}
}

// validateEntra checks the Entra ID settings (identity.mode entra) and that no Cognito
// setting is left over, which would silently do nothing.
func (c *Config) validateEntra(bad func(field, format string, args ...any)) {
	id := c.Identity
	e := id.Entra
	cognitoOnly := map[string]bool{
		"identity.domainPrefix":     id.DomainPrefix != "",
		"identity.entraMetadataUrl": id.EntraMetadataURL != "",
		"identity.entraGroups":      len(id.EntraGroups) > 0,
		"identity.threatProtection": id.ThreatProtection,
		"identity.accessTokenTtl":   id.AccessTokenTTL.Duration != 0,
		"identity.refreshTokenTtl":  id.RefreshTokenTTL.Duration != 0,
		"identity.breakGlassGroup":  id.BreakGlassGroup != "",
		"identity.departmentClaim":  id.DepartmentClaim != nil,
	}
	for _, field := range slices.Sorted(maps.Keys(cognitoOnly)) {
		if cognitoOnly[field] {
			bad(field, "applies to identity.mode %s only: with Entra ID directly there is no Cognito (group mapping: the policy's groupIds; token lifetimes: Entra's; the department: an optional claim of the app registration)", IdentityCognito)
		}
	}
	guid := func(field, v, what string) {
		if !guidRE.MatchString(v) {
			bad(field, "%q is not %s, a lower-case GUID", v, what)
		}
	}
	guid("identity.entra.tenantId", e.TenantID, "the directory (tenant) id")
	guid("identity.entra.apiClientId", e.APIClientID, "the API app's Application (client) id")
	guid("identity.entra.webClientId", e.WebClientID, "the BFF web app's Application (client) id")
	seen := map[string]bool{e.WebClientID: true, e.APIClientID: true}
	for _, m := range e.MachineClientIDs {
		guid("identity.entra.machineClientIds", m, "an app's Application (client) id")
		if seen[m] {
			bad("identity.entra.machineClientIds", "%q is listed twice, or is the web or API app", m)
		}
		seen[m] = true
	}
	if e.WebClientID != "" && e.WebClientID == e.APIClientID {
		bad("identity.entra.webClientId", "is the API app's id: the BFF signs in through its own web app registration")
	}
	i := strings.LastIndex(e.Scope, "/")
	resource, value := e.Scope[:max(i, 0)], e.Scope[i+1:]
	u, err := url.Parse(resource)
	switch {
	case i < 0 || err != nil || (u.Scheme != "api" && u.Scheme != "https") || u.Host == "":
		bad("identity.entra.scope", "%q is not a delegated scope's full name, <Application ID URI>/<value> (api://portico-%s/access)", e.Scope, c.Env)
	case !scopeValueRE.MatchString(value):
		bad("identity.entra.scope", "%q: want the API app's delegated scope (e.g. access), not %q", e.Scope, value)
	}
	if m := secretARNRE.FindStringSubmatch(e.ClientSecretARN); m == nil {
		bad("identity.entra.clientSecretArn", "%q is not the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)", e.ClientSecretARN)
	} else if m[1] != c.Region || m[2] != c.Account {
		bad("identity.entra.clientSecretArn", "%q is not in the environment's account %s and region %s", e.ClientSecretARN, c.Account, c.Region)
	}
	if e.DepartmentClaim != "" && !claimNameRE.MatchString(e.DepartmentClaim) {
		bad("identity.entra.departmentClaim", "%q is not a claim name (letters, digits and . _ : / -, at most 128)", e.DepartmentClaim)
	}
}

// isZeroEntra reports whether no Entra setting is set.
func isZeroEntra(e Entra) bool {
	return e.TenantID == "" && e.APIClientID == "" && e.Scope == "" && e.WebClientID == "" && len(e.MachineClientIDs) == 0 && e.ClientSecretARN == "" && e.DepartmentClaim == ""
}
