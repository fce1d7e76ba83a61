package stacks

import (
	"slices"
	"testing"
)

// TestBreakGlass checks the wiring of the break-glass sign-in (issue 19, item 8) with
// Cognito: the web client offers Cognito's own sign-in besides Entra ID's, the BFF names the
// group whose local users it admits (one of the groups the stack creates) and keeps the
// Entra hint that break-glass needs, and nobody can sign up or skip MFA.
func TestBreakGlass(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		env := envOf(t, s, "bff")
		group := cfg.BreakGlassGroup()
		if group == "" || env[EnvBreakGlassGroup] != group {
			t.Errorf("bff: %s = %v, want %q", EnvBreakGlassGroup, env[EnvBreakGlassGroup], group)
		}
		if cfg.Identity.BreakGlassGroup == "" && group != "Administrators" {
			t.Errorf("default break-glass group %q, want Administrators", group)
		}
		if env[EnvIdentityProvider] != EntraProviderName {
			t.Errorf("bff: %s = %v, want %s (the BFF refuses a break-glass group without it)", EnvIdentityProvider, env[EnvIdentityProvider], EntraProviderName)
		}
		_, groups := s.mainJSON.ofType("AWS::Cognito::UserPoolGroup")
		if !slices.ContainsFunc(groups, func(g resource) bool { return g.Properties["GroupName"] == group }) {
			t.Errorf("break-glass group %q is not a group of the user pool", group)
		}

		_, clients := s.mainJSON.ofType("AWS::Cognito::UserPoolClient")
		for _, c := range clients {
			var want []string
			switch c.Properties["ClientName"] {
			case cfg.Name("web"):
				want = []string{"COGNITO", EntraProviderName}
			case cfg.Name("machine"):
				want = []string{"COGNITO"}
			default:
				t.Errorf("unexpected client %v", c.Properties["ClientName"])
				continue
			}
			got := make([]string, 0, 2)
			for _, p := range anyList(c.Properties["SupportedIdentityProviders"]) {
				switch v := p.(type) {
				case string:
					got = append(got, v)
				case map[string]any: // {Ref: <the SAML provider>}
					if ref, _ := v["Ref"].(string); ref != "" {
						if r := s.mainJSON.Resources[ref]; r.Type == "AWS::Cognito::UserPoolIdentityProvider" {
							got = append(got, r.Properties["ProviderName"].(string))
						}
					}
				}
			}
			if !sameSet(got, want) {
				t.Errorf("%v: supported identity providers %v, want %v", c.Properties["ClientName"], got, want)
			}
		}

		_, pools := s.mainJSON.ofType("AWS::Cognito::UserPool")
		if len(pools) != 1 {
			t.Fatalf("%d user pools", len(pools))
		}
		p := pools[0].Properties
		if acu, _ := p["AdminCreateUserConfig"].(map[string]any); acu["AllowAdminCreateUserOnly"] != true {
			t.Errorf("self sign-up allowed: AdminCreateUserConfig %v", p["AdminCreateUserConfig"])
		}
		if p["MfaConfiguration"] != "ON" || !slices.Contains(strList(p["EnabledMfas"]), "SOFTWARE_TOKEN_MFA") || slices.Contains(strList(p["EnabledMfas"]), "SMS_MFA") {
			t.Errorf("MFA %v with %v, want ON with TOTP (SOFTWARE_TOKEN_MFA) only, as docs/deploy.md tells break-glass users", p["MfaConfiguration"], p["EnabledMfas"])
		}
	})
}
