package token_test

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/token"
)

func TestSettingsCheck(t *testing.T) {
	t.Parallel()
	names := token.SettingNames{Profile: "P", Issuer: "I", TenantID: "T", Audience: "A", Scope: "S"}
	const tid = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
	entra := func(tenant, audience, scope string) token.Settings {
		return token.Settings{Profile: token.ProfileEntra, TenantID: tenant, Audience: audience, Scope: scope}
	}
	for _, tc := range []struct {
		name   string
		s      token.Settings
		issuer string
		want   []string // fragments, one per problem
	}{
		{"cognito default", token.Settings{}, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x", nil},
		{"cognito with Entra settings", token.Settings{Profile: token.ProfileCognito, TenantID: tid}, "https://x", []string{"T applies to P=entra only"}},
		{"unknown profile", token.Settings{Profile: "okta"}, "https://x", []string{`P="okta"`}},
		{"entra", entra(tid, "c0ffee00-1234-4abc-9def-000000000001", "access"), "https://login.microsoftonline.com/" + tid + "/v2.0", nil},
		{"entra dev IdP", entra(tid, "api://portico", ""), "http://localhost:9000/" + tid + "/v2.0", nil},
		{"entra without tenant or audience", entra("", "", ""), "https://login.microsoftonline.com/x/v2.0", []string{"T=", "A is required", "I="}},
		{"entra tenant upper case", entra(strings.ToUpper(tid), "a", ""), "https://login.microsoftonline.com/" + strings.ToUpper(tid) + "/v2.0", []string{"T="}},
		{"entra v1 issuer", entra(tid, "a", ""), "https://sts.windows.net/" + tid + "/", []string{"I="}},
		{"entra common issuer", entra(tid, "a", ""), "https://login.microsoftonline.com/common/v2.0", []string{"I="}},
		{"entra template issuer", entra(tid, "a", ""), "https://login.microsoftonline.com/{tenantid}/v2.0", []string{"I="}},
		{"entra another tenant's issuer", entra(tid, "a", ""), "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0", []string{"I="}},
		{"entra full scope name", entra(tid, "a", "api://portico/access"), "https://login.microsoftonline.com/" + tid + "/v2.0", []string{"S="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := tc.s.Check(tc.issuer, names)
			if len(errs) != len(tc.want) {
				t.Fatalf("problems %v, want %d", errs, len(tc.want))
			}
			all := ""
			for _, e := range errs {
				all += e.Error() + "\n"
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q lack %q", all, w)
				}
			}
		})
	}
}
