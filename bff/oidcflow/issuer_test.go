package oidcflow

import "testing"

func TestCheckIssuer(t *testing.T) {
	t.Parallel()
	const (
		tenant   = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
		template = "https://login.microsoftonline.com/{tenantid}/v2.0"
	)
	tenants := []string{tenant}
	for _, tc := range []struct {
		name                 string
		discovered, configed string
		tenants              []string
		ok                   bool
	}{
		{"exact", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x", nil, true},
		{"exact tenant", "https://login.microsoftonline.com/" + tenant + "/v2.0", "https://login.microsoftonline.com/" + tenant + "/v2.0", nil, true},
		{"common with tenants", template, "https://login.microsoftonline.com/common/v2.0", tenants, true},
		{"organizations with tenants", template, "https://login.microsoftonline.com/organizations/v2.0", tenants, true},
		{"common without tenants", template, "https://login.microsoftonline.com/common/v2.0", nil, false},
		{"consumers is not an alias", template, "https://login.microsoftonline.com/consumers/v2.0", tenants, false},
		{"template for a tenant issuer", template, "https://login.microsoftonline.com/" + tenant + "/v2.0", tenants, false},
		{"template on another host", "https://evil.example/{tenantid}/v2.0", "https://login.microsoftonline.com/common/v2.0", tenants, false},
		{"placeholder twice", "https://login.microsoftonline.com/{tenantid}/{tenantid}", "https://login.microsoftonline.com/common/common", tenants, false},
		{"trailing slash", "https://login.microsoftonline.com/" + tenant + "/v2.0/", "https://login.microsoftonline.com/" + tenant + "/v2.0", nil, false},
		{"prefix", "https://login.microsoftonline.com/" + tenant, "https://login.microsoftonline.com/" + tenant + "/v2.0", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := checkIssuer(tc.discovered, tc.configed, tc.tenants); (err == nil) != tc.ok {
				t.Fatalf("checkIssuer(%q, %q) = %v, want ok=%v", tc.discovered, tc.configed, err, tc.ok)
			}
		})
	}
}

func TestTenantIssuer(t *testing.T) {
	t.Parallel()
	const (
		a        = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
		b        = "11111111-2222-3333-4444-555555555555"
		template = "https://login.microsoftonline.com/{tenantid}/v2.0"
	)
	iss := func(tid string) string { return "https://login.microsoftonline.com/" + tid + "/v2.0" }
	for _, tc := range []struct {
		name, iss, tid string
		ok             bool
	}{
		{"allowed tenant, its issuer", iss(a), a, true},
		{"tenant not allowed", iss(b), b, false},
		{"issuer of another tenant", iss(b), a, false},
		{"no tid", iss(a), "", false},
		{"the template as issuer", template, a, false},
		{"v1 issuer", "https://sts.windows.net/" + a + "/", a, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tenantIssuer(template, tc.iss, tc.tid, []string{a}); (err == nil) != tc.ok {
				t.Fatalf("tenantIssuer(%q, %q) = %v, want ok=%v", tc.iss, tc.tid, err, tc.ok)
			}
		})
	}
}
