package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// entraExample is the example environment with Entra ID directly.
const entraExample = "examples/uat-entra.yaml"

func loadEntra(t *testing.T) *Config {
	t.Helper()
	c, err := LoadFile(entraExample)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEntraExampleLoads(t *testing.T) {
	t.Parallel()
	c := loadEntra(t)
	if !c.IsEntra() || c.Env != "uat" {
		t.Fatalf("mode %q, env %q", c.Identity.Mode, c.Env)
	}
	e := c.Identity.Entra
	if got, want := c.EntraIssuer(), "https://login.microsoftonline.com/"+e.TenantID+"/v2.0"; got != want {
		t.Errorf("EntraIssuer() = %q, want %q", got, want)
	}
	if got := c.EntraScopeValue(); got != "access" {
		t.Errorf("EntraScopeValue() = %q, want access", got)
	}
	if got := c.EntraClientIDs(); len(got) != 1+len(e.MachineClientIDs) || got[0] != e.WebClientID {
		t.Errorf("EntraClientIDs() = %v, want the web app first, then the machine apps", got)
	}
	if c.BreakGlassGroup() != "" {
		t.Errorf("BreakGlassGroup() = %q with Entra ID directly (no local users)", c.BreakGlassGroup())
	}
	if _, err := LoadFile(filepath.Join("examples", "missing.yaml")); err == nil {
		t.Error("LoadFile(missing) succeeded")
	}
}

// TestValidateRejectsIdentity is the table of identity settings Validate refuses, in both
// modes: each a precise refusal naming the field.
func TestValidateRejectsIdentity(t *testing.T) {
	t.Parallel()
	const otherRegion = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:portico-uat-entra-web-AbCdEf"
	tests := []struct {
		name   string
		entra  bool // start from the Entra example, else from uat.yaml (Cognito)
		mutate func(*Config)
		want   string
	}{
		{"unknown mode", false, func(c *Config) { c.Identity.Mode = "okta" }, `identity.mode: "okta" is not cognito or entra`},
		{"break-glass group not configured", false, func(c *Config) { c.Identity.BreakGlassGroup = "Everyone" }, `identity.breakGlassGroup: "Everyone" is not one of identity.groups`},
		{"break-glass default without Administrators", false, func(c *Config) {
			c.Identity.BreakGlassGroup = ""
			c.Identity.Groups = c.Identity.Groups[1:]
			c.Identity.EntraGroups = map[string]string{"00000000-0000-0000-0000-0000000000b1": "MLUsers"}
		}, "identity.breakGlassGroup: unset, and identity.groups has no Administrators group"},
		{"Entra settings with Cognito", false, func(c *Config) { c.Identity.Entra.TenantID = "00000000-0000-0000-0000-00000000000a" }, "identity.entra: applies to identity.mode entra only"},
		{"Cognito domain with Entra", true, func(c *Config) { c.Identity.DomainPrefix = "portico-uat" }, "identity.domainPrefix: applies to identity.mode cognito only"},
		{"SAML metadata with Entra", true, func(c *Config) { c.Identity.EntraMetadataURL = "https://login.microsoftonline.com/x" }, "identity.entraMetadataUrl: applies to identity.mode cognito only"},
		{"Cognito group mapping with Entra", true, func(c *Config) {
			c.Identity.EntraGroups = map[string]string{"00000000-0000-0000-0000-0000000000b1": "MLUsers"}
		}, "identity.entraGroups: applies to identity.mode cognito only"},
		{"Cognito token lifetime with Entra", true, func(c *Config) { c.Identity.RefreshTokenTTL.Duration = time.Hour }, "identity.refreshTokenTtl: applies to identity.mode cognito only"},
		{"break-glass with Entra", true, func(c *Config) { c.Identity.BreakGlassGroup = "Administrators" }, "identity.breakGlassGroup: applies to identity.mode cognito only"},
		{"threat protection with Entra", true, func(c *Config) { c.Identity.ThreatProtection = true }, "identity.threatProtection: applies"},
		{"a department claim with spaces", true, func(c *Config) { c.Identity.Entra.DepartmentClaim = "my department" }, "identity.entra.departmentClaim"},
		{"an empty-looking department claim", true, func(c *Config) { c.Identity.Entra.DepartmentClaim = ":" }, "identity.entra.departmentClaim"},
		{"the Entra department claim with Cognito", false, func(c *Config) { c.Identity.Entra.DepartmentClaim = "department" }, "identity.entra: applies to identity.mode entra only"},
		{"the department trigger switch with Entra", true, func(c *Config) { c.Identity.DepartmentClaim = new(false) }, "identity.departmentClaim: applies to identity.mode cognito only"},
		{"no groups with Entra", true, func(c *Config) { c.Identity.Groups = nil }, "identity.groups: at least one"},
		{"no tenant", true, func(c *Config) { c.Identity.Entra.TenantID = "" }, "identity.entra.tenantId"},
		{"tenant as a domain name", true, func(c *Config) { c.Identity.Entra.TenantID = "contoso.onmicrosoft.com" }, "identity.entra.tenantId"},
		{"tenant upper case", true, func(c *Config) { c.Identity.Entra.TenantID = "6F1C3B9E-2D4A-4C8F-9E1B-7A5D3C2E1F00" }, "identity.entra.tenantId"},
		{"multi-tenant alias", true, func(c *Config) { c.Identity.Entra.TenantID = "common" }, "identity.entra.tenantId"},
		{"API app as a URI", true, func(c *Config) { c.Identity.Entra.APIClientID = "api://portico-uat" }, "identity.entra.apiClientId"},
		{"no web app", true, func(c *Config) { c.Identity.Entra.WebClientID = "" }, "identity.entra.webClientId"},
		{"web app is the API app", true, func(c *Config) { c.Identity.Entra.WebClientID = c.Identity.Entra.APIClientID }, "identity.entra.webClientId: is the API app's id"},
		{"machine app not a GUID", true, func(c *Config) { c.Identity.Entra.MachineClientIDs = []string{"robot"} }, "identity.entra.machineClientIds"},
		{"machine app is the web app", true, func(c *Config) {
			c.Identity.Entra.MachineClientIDs = []string{c.Identity.Entra.WebClientID}
		}, "identity.entra.machineClientIds: \"00000000-0000-0000-0000-0000000000d1\" is listed twice, or is the web or API app"},
		{"machine app twice", true, func(c *Config) {
			m := c.Identity.Entra.MachineClientIDs[0]
			c.Identity.Entra.MachineClientIDs = []string{m, m}
		}, "listed twice"},
		{"scope value only", true, func(c *Config) { c.Identity.Entra.Scope = "access" }, "identity.entra.scope: \"access\" is not a delegated scope's full name"},
		{"scope without a value", true, func(c *Config) { c.Identity.Entra.Scope = "api://portico-uat/" }, "identity.entra.scope"},
		{"the .default scope", true, func(c *Config) { c.Identity.Entra.Scope = "api://portico-uat/.default" }, `not ".default"`},
		{"scope with a space", true, func(c *Config) { c.Identity.Entra.Scope = "api://portico-uat/access openid" }, "identity.entra.scope"},
		{"scope of another scheme", true, func(c *Config) { c.Identity.Entra.Scope = "urn:portico/access" }, "identity.entra.scope"},
		{"no client secret", true, func(c *Config) { c.Identity.Entra.ClientSecretARN = "" }, "identity.entra.clientSecretArn"},
		{"secret by name", true, func(c *Config) { c.Identity.Entra.ClientSecretARN = "portico-uat-entra-web" }, "identity.entra.clientSecretArn"},
		{"partial secret ARN", true, func(c *Config) {
			c.Identity.Entra.ClientSecretARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:web"
		}, "not the complete ARN"},
		{"secret ARN with a wildcard", true, func(c *Config) {
			c.Identity.Entra.ClientSecretARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:*"
		}, "not the complete ARN"},
		{"secret in another region", true, func(c *Config) { c.Identity.Entra.ClientSecretARN = otherRegion }, "not in the environment's account 111111111111 and region us-east-1"},
		{"secret in another account", true, func(c *Config) {
			c.Identity.Entra.ClientSecretARN = strings.Replace(c.Identity.Entra.ClientSecretARN, "111111111111", "999999999999", 1)
		}, "not in the environment's account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c *Config
			if tt.entra {
				c = loadEntra(t)
			} else {
				var err error
				if c, err = Load("uat"); err != nil {
					t.Fatal(err)
				}
			}
			tt.mutate(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// TestCheckPolicyEntra: with Entra ID directly the policy maps group object ids to
// configured groups (groupIds, required); with Cognito it must not (identity.entraGroups).
// TestDepartmentClaim: Cognito's access tokens carry the department unless
// identity.departmentClaim is false; with Entra ID directly the stack configures none.
func TestDepartmentClaim(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		mode string
		set  *bool
		want bool
	}{
		{"Cognito, unset", IdentityCognito, nil, true},
		{"Cognito, true", IdentityCognito, new(true), true},
		{"Cognito, false", IdentityCognito, new(false), false},
		{"Entra ID directly", IdentityEntra, nil, false},
	} {
		c := &Config{Identity: Identity{Mode: tt.mode, DepartmentClaim: tt.set}}
		if got := c.DepartmentClaim(); got != tt.want {
			t.Errorf("%s: DepartmentClaim() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckPolicyEntra(t *testing.T) {
	t.Parallel()
	ent := loadEntra(t)
	cog, err := Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	const groups = "version: 1\ngroups:\n  - name: MLUsers\n"
	tests := []struct {
		name   string
		cfg    *Config
		policy string
		want   []string // substrings of the error; none: accepted
	}{
		{"mapped ids", ent, groups + "groupIds:\n  3C712982-5A4A-5558-A89A-40AAE47DD36A: MLUsers\n  848e5663-c387-5179-b019-9329ddd70372: Administrators\n", nil},
		{"no groupIds", ent, groups, []string{"groupIds: required with identity.mode entra"}},
		{"id to an unknown group", ent, groups + "groupIds:\n  848e5663-c387-5179-b019-9329ddd70372: Auditors\n", []string{`"Auditors" is not one of identity.groups`}},
		{"name as key, and an unknown group", ent, groups + "groupIds:\n  ML Users: MLUsers\n  848e5663-c387-5179-b019-9329ddd70372: Auditors\n", []string{`"ML Users" is not an Entra group object id`, `"Auditors"`}},
		{"groupIds with Cognito", cog, groups + "groupIds:\n  848e5663-c387-5179-b019-9329ddd70372: MLUsers\n", []string{"groupIds: applies to identity.mode entra only"}},
		{"no groupIds with Cognito", cog, groups, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.CheckPolicy([]byte(tt.policy))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckPolicy accepted %q", tt.policy)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckPolicy() = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

// TestShippedEntraPolicy checks the Entra example's policy file against its configuration.
func TestShippedEntraPolicy(t *testing.T) {
	t.Parallel()
	c := loadEntra(t)
	b, err := readInfra(c.PolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckPolicy(b); err != nil {
		t.Fatal(err)
	}
}

// readInfra reads a file named relative to infra/.
func readInfra(path string) ([]byte, error) { return os.ReadFile(filepath.Join("..", path)) }
