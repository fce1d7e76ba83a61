package stacks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/portico-dev/portico/infra/config"
)

// tokenProfileVars are the services' and authorizer's Entra settings: none of them may reach
// a Cognito environment (its behaviour is unchanged), all of them an Entra one.
var tokenProfileVars = []string{EnvTokenProfile, EnvEntraTenant, EnvEntraAud, EnvEntraScope}

// TestEntraDirect checks the Entra example (identity.mode entra): no Cognito at all, the BFF
// signing in at the tenant's v2.0 issuer with the API scope and the operator's client secret
// and no Cognito hint or break-glass, the services and the authorizer on the Entra token
// profile of that tenant and API, and the outputs an operator registers in Entra.
func TestEntraDirect(t *testing.T) {
	s := envs[EntraExample]
	cfg := s.cfg
	ent := cfg.Identity.Entra
	issuer := "https://login.microsoftonline.com/" + ent.TenantID + "/v2.0"

	for id, r := range s.mainJSON.Resources {
		if strings.HasPrefix(r.Type, "AWS::Cognito::") {
			t.Errorf("%s: %s deployed with Entra ID directly", id, r.Type)
		}
		if r.Type == "AWS::Lambda::Function" && r.Properties["Runtime"] != "provided.al2023" && !strings.Contains(id, "CustomResourceProvider") {
			t.Errorf("%s: function %v (runtime %v) is not Portico's: only CDK's helpers may be", id, r.Properties["FunctionName"], r.Properties["Runtime"])
		}
	}
	_, secrets := s.mainJSON.ofType("AWS::SecretsManager::Secret")
	if len(secrets) != 1 || secrets[0].Properties["Name"] != cfg.Name("bff-cookie-keys") {
		t.Errorf("secrets %v, want the cookie keys only (the client secret is the operator's)", secrets)
	}

	bff := envOf(t, s, "bff")
	for k, want := range map[string]string{
		"PORTICO_OIDC_ISSUER":            issuer,
		"PORTICO_OIDC_CLIENT_ID":         ent.WebClientID,
		"PORTICO_OIDC_CLIENT_SECRET_ARN": ent.ClientSecretARN,
		EnvOIDCScopes:                    "openid email profile offline_access " + ent.Scope,
		"PORTICO_PUBLIC_URL":             cfg.PublicURL(),
	} {
		if bff[k] != want {
			t.Errorf("bff: %s = %v, want %q", k, bff[k], want)
		}
	}
	for _, k := range append([]string{EnvIdentityProvider, EnvBreakGlassGroup, EnvRefreshTokenTTL}, tokenProfileVars...) {
		if v, ok := bff[k]; ok {
			t.Errorf("bff: %s = %v set with Entra ID directly", k, v)
		}
	}

	clients := strings.Join(append([]string{ent.WebClientID}, ent.MachineClientIDs...), ",")
	if ent.DepartmentClaim == "" {
		t.Fatal("the Entra example names no identity.entra.departmentClaim: nothing below checks it")
	}
	for _, fn := range []string{"identity", "inference", "admin", "apikey", "authorizer"} {
		env := envOf(t, s, fn)
		want := map[string]string{
			EnvTokenProfile:  "entra",
			"PORTICO_ISSUER": issuer,
			EnvEntraTenant:   ent.TenantID,
			EnvEntraAud:      ent.APIClientID,
			EnvEntraScope:    "access",
		}
		if fn != "authorizer" {
			want[EnvBFFClientIDs] = ent.WebClientID
			// The services record the department from the claim the API app sends.
			want[EnvDepartmentClaim] = ent.DepartmentClaim
		} else if v, ok := env[EnvDepartmentClaim]; ok {
			t.Errorf("authorizer: %s = %v, which it does not read", EnvDepartmentClaim, v)
		}
		for k, w := range want {
			if env[k] != w {
				t.Errorf("%s: %s = %v, want %q", fn, k, env[k], w)
			}
		}
		// PORTICO_CLIENT_IDS is joined by CloudFormation: the web app first, then the
		// machine apps, nothing else.
		if got := joined(t, env["PORTICO_CLIENT_IDS"]); got != clients {
			t.Errorf("%s: PORTICO_CLIENT_IDS = %q, want %q", fn, got, clients)
		}
	}

	outputs := map[string]string{}
	for k, o := range s.mainJSON.Outputs {
		if v, ok := o.Value.(string); ok {
			outputs[k] = v
		}
	}
	for k, want := range map[string]string{
		"EntraRedirectUri":  cfg.PublicURL() + "/auth/callback",
		"EntraSignedOutUri": cfg.PublicURL() + "/auth/signed-out",
		"Issuer":            issuer,
		"WebClientId":       ent.WebClientID,
		"TokenEndpoint":     "https://login.microsoftonline.com/" + ent.TenantID + "/oauth2/v2.0/token",
	} {
		if outputs[k] != want {
			t.Errorf("output %s = %q, want %q", k, outputs[k], want)
		}
	}
	for _, k := range []string{"UserPoolId", "SamlEntityId", "SamlReplyUrl", "MachineClientId", "MachineClientSecretArn"} {
		if _, ok := s.mainJSON.Outputs[k]; ok {
			t.Errorf("output %s with Entra ID directly", k)
		}
	}
	if csp := ContentSecurityPolicy(FormActionOrigin(cfg)); !strings.HasSuffix(csp, "form-action 'self' https://login.microsoftonline.com") {
		t.Errorf("CSP %q: want the pages' forms limited to themselves and Entra's sign-in", csp)
	}
}

// joined returns a literal, or a CloudFormation {Fn::Join: [sep, [parts]]} of literal
// parts (CDK folds those into the literal already), as the string it makes.
func joined(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	m, _ := v.(map[string]any)
	j, ok := m["Fn::Join"].([]any)
	if !ok {
		t.Fatalf("%v is not a literal or a join", v)
	}
	return strings.Join(strList(j[1]), j[0].(string))
}

// TestCognitoTokenProfileUnchanged: the Cognito environments carry no Entra setting, so
// the services and the authorizer keep their default (Cognito) token profile.
func TestCognitoTokenProfileUnchanged(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		for _, fn := range []string{"identity", "inference", "admin", "authorizer", "bff"} {
			env := envOf(t, s, fn)
			for _, k := range append([]string{EnvOIDCScopes}, tokenProfileVars...) {
				if v, ok := env[k]; ok {
					t.Errorf("%s: %s = %v in a Cognito environment", fn, k, v)
				}
			}
		}
		if _, ok := s.mainJSON.Outputs["EntraRedirectUri"]; ok {
			t.Error("Entra redirect URI output in a Cognito environment")
		}
	})
}

// TestSynthRefusesEntraPolicy is the table of policy files the Entra example must refuse:
// the services map Entra group ids through the policy's groupIds, so it must be there and
// name only configured groups; and a Cognito environment refuses groupIds, which its tokens
// never use.
func TestSynthRefusesEntraPolicy(t *testing.T) {
	assets := t.TempDir()
	if err := WritePlaceholderAssets(assets); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const grants = "version: 1\ngroups:\n  - name: MLUsers\n    models: [amazon.nova-lite-v1:0]\n"
	tests := []struct {
		name, env, policy, want string
	}{
		{"no groupIds", EntraExample, write("none.yaml", grants), "groupIds: required"},
		{"empty groupIds", EntraExample, write("empty.yaml", grants+"groupIds: {}\n"), "groupIds: required"},
		{"groupIds to an unknown group", EntraExample, write("unknown.yaml", grants+"groupIds:\n  00000000-0000-0000-0000-0000000000a1: Everyone\n"), `"Everyone"`},
		{"groupIds key not a GUID", EntraExample, write("name.yaml", grants+"groupIds:\n  Portico ML Users: MLUsers\n"), `"Portico ML Users" is not an Entra group object id`},
		{"groupIds with Cognito", "uat", write("cognito.yaml", grants+"groupIds:\n  00000000-0000-0000-0000-0000000000a1: MLUsers\n"), "identity.entraGroups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadSynth(t, tt.env)
			cfg.PolicyFile = tt.policy
			_, err := New(awscdk.NewApp(nil), cfg, Options{InfraDir: "..", AssetDir: assets})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}

// loadSynth loads a fresh copy of a synthesised configuration (uat, prod or the Entra
// example) for a test to change.
func loadSynth(t *testing.T, name string) *config.Config {
	t.Helper()
	var cfg *config.Config
	var err error
	if name == EntraExample {
		cfg, err = config.LoadFile(filepath.Join("..", entraExampleFile))
	} else {
		cfg, err = config.Load(name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestEntraExampleIsUAT: the example differs from uat.yaml only in its identity section and
// policy, so what the tests prove of it holds for uat switched to Entra ID.
func TestEntraExampleIsUAT(t *testing.T) {
	t.Parallel()
	uat, ent := loadSynth(t, "uat"), loadSynth(t, EntraExample)
	if !ent.IsEntra() || uat.IsEntra() {
		t.Fatalf("modes: uat %q, example %q", uat.Identity.Mode, ent.Identity.Mode)
	}
	if !slices.Equal(uat.Identity.Groups, ent.Identity.Groups) {
		t.Errorf("groups %v, want uat's %v", ent.Identity.Groups, uat.Identity.Groups)
	}
	ent.Identity, ent.PolicyFile = uat.Identity, uat.PolicyFile
	if a, b := mustJSON(t, uat), mustJSON(t, ent); a != b {
		t.Errorf("the example drifted from uat.yaml outside identity and policyFile:\n%s\n%s", a, b)
	}
}
