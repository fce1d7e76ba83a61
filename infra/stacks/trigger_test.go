package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/portico-dev/portico/infra/config"
)

// checkPreToken checks the pool's pre token generation trigger in a Cognito template: the
// pool on a plan with V2_0 events (Essentials, or Plus with threat protection) invoking
// portico-pretoken with event version V2_0, the function arm64 Go with its own log group, the
// configured Entra groups and department switch, and a role that may write its logs and
// decrypt its environment, nothing else (no data of any kind).
func checkPreToken(t *testing.T, cfg *config.Config, tmpl template, department string) {
	t.Helper()
	name := cfg.Name("pretoken")
	fn := tmpl.function(t, name)
	fnID := ""
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Lambda::Function" && r.Properties["FunctionName"] == name {
			fnID = id
		}
	}
	_, pools := tmpl.ofType("AWS::Cognito::UserPool")
	if len(pools) != 1 {
		t.Fatalf("%d user pools, want 1", len(pools))
	}
	pool := pools[0].Properties
	wantPlan := "ESSENTIALS"
	if cfg.Identity.ThreatProtection {
		wantPlan = "PLUS"
	}
	if c, _ := pool["UserPoolTier"].(string); c != wantPlan {
		t.Errorf("feature plan (UserPoolTier) = %v, want %s: V2_0 events need Essentials or Plus", pool["UserPoolTier"], wantPlan)
	}
	lc, _ := pool["LambdaConfig"].(map[string]any)
	pre, _ := lc["PreTokenGenerationConfig"].(map[string]any)
	if pre["LambdaVersion"] != "V2_0" || getAttID(pre["LambdaArn"]) != fnID {
		t.Errorf("PreTokenGenerationConfig = %v, want V2_0 invoking %s (%s)", pre, name, fnID)
	}
	if lc["PreTokenGeneration"] != nil {
		t.Errorf("the V1_0 trigger slot is set too: %v", lc["PreTokenGeneration"])
	}

	p := fn.Properties
	if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || fmt.Sprint(p["Architectures"]) != "[arm64]" {
		t.Errorf("runtime %v handler %v architectures %v, want provided.al2023 bootstrap [arm64]", p["Runtime"], p["Handler"], p["Architectures"])
	}
	lg, _ := p["LoggingConfig"].(map[string]any)
	if lg["LogGroup"] == nil || p["KmsKeyArn"] == nil {
		t.Errorf("log group %v, environment key %v: want its own log group and an encrypted environment", lg["LogGroup"], p["KmsKeyArn"])
	}
	env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	var groups map[string]string
	if err := json.Unmarshal([]byte(fmt.Sprint(env[EnvEntraGroups])), &groups); err != nil || groups == nil {
		t.Errorf("%s = %v: not a JSON object (%v); the trigger would refuse to start", EnvEntraGroups, env[EnvEntraGroups], err)
	}
	want := map[string]string{}
	maps.Copy(want, cfg.Identity.EntraGroups)
	if !maps.Equal(groups, want) {
		t.Errorf("%s = %v, want identity.entraGroups %v", EnvEntraGroups, groups, want)
	}
	if env[EnvAccessTokenDepartment] != department {
		t.Errorf("%s = %v, want %s", EnvAccessTokenDepartment, env[EnvAccessTokenDepartment], department)
	}
	for k := range env {
		if k != EnvEntraGroups && k != EnvAccessTokenDepartment && k != "PORTICO_LOG_FORMAT" {
			t.Errorf("the trigger is given %s, which it does not read", k)
		}
	}

	role, stmts := tmpl.roleStatements(t, fn)
	if m := role.Properties["ManagedPolicyArns"]; m != nil {
		t.Errorf("role has managed policies %v", m)
	}
	sids := []string{}
	for _, st := range stmts {
		sids = append(sids, st.Sid)
		switch st.Sid {
		case "WriteOwnLogs":
			if !sameSet(st.Actions, []string{"logs:CreateLogStream", "logs:PutLogEvents"}) || len(st.Resources) != 1 || !strings.HasSuffix(fmt.Sprint(st.Resources[0]), ":log-group:/aws/lambda/"+name+":log-stream:*") {
				t.Errorf("WriteOwnLogs: %v on %v", st.Actions, st.Resources)
			}
		case "DecryptEnvironment":
			if !sameSet(st.Actions, []string{"kms:Decrypt"}) || len(st.Resources) != 1 {
				t.Errorf("DecryptEnvironment: %v on %v", st.Actions, st.Resources)
			}
		default:
			t.Errorf("role statement %q %v on %v: the trigger may write its logs, nothing else", st.Sid, st.Actions, st.Resources)
		}
	}
	if !sameSet(sids, []string{"WriteOwnLogs", "DecryptEnvironment"}) {
		t.Errorf("role statements %v, want WriteOwnLogs and DecryptEnvironment", sids)
	}
}

// TestPreTokenTrigger checks the trigger of uat and prod (the department copied by default)
// and that the Entra example has none.
func TestPreTokenTrigger(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		if s.cfg.IsEntra() {
			_, fns := s.mainJSON.ofType("AWS::Lambda::Function")
			for _, f := range fns {
				if f.Properties["FunctionName"] == s.cfg.Name("pretoken") {
					t.Error("the Cognito trigger is deployed without Cognito")
				}
			}
			return
		}
		checkPreToken(t, s.cfg, s.mainJSON, "true")
		// The services read the claim the trigger writes: their default, custom:department.
		for _, fn := range []string{"identity", "inference", "admin", "apikey"} {
			if v, ok := envOf(t, s, fn)[EnvDepartmentClaim]; ok {
				t.Errorf("%s: %s = %v, not the trigger's custom:department", fn, EnvDepartmentClaim, v)
			}
		}
	})
}

// TestPreTokenTriggerSwitchedOff: identity.departmentClaim false keeps the trigger (the Entra
// groups need it) but tells it to leave the department out, and an environment without
// Entra group mappings gives it an empty object, not null.
func TestPreTokenTriggerSwitchedOff(t *testing.T) {
	cfg, tmpl := synthVariant(t, func(c *config.Config) {
		c.Identity.DepartmentClaim = new(false)
		c.Identity.EntraGroups = nil
	})
	checkPreToken(t, cfg, tmpl, "false")
}
