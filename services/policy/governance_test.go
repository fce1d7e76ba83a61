package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want int64
	}{
		{"12.50", 12_500_000_000},
		{"0.000001", 1_000},
		{"1", 1_000_000_000},
		{"007.1", 7_100_000_000},
		{"1000000000", 1_000_000_000_000_000_000},
		{"999999999.999999", 999_999_999_999_999_000},
	}
	for _, tt := range good {
		if got, err := policy.ParseAmount(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	// Each is refused: a float, a sign, too many decimals (below a micro-unit), a currency,
	// separators, white space, zero, absurd amounts, an exponent, empty.
	for _, in := range []string{"", "0", "0.000000", "-1", "+1", "1.0000001", "$5", "5 USD", "1,000", " 1", "1 ",
		"1e3", ".5", "5.", "1000000000.000001", "1000000001", "99999999999999999999999", "0x10", "NaN", "1.5.0"} {
		if got, err := policy.ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) = %d, want an error", in, got)
		}
	}
}

// problems returns the problems of doc as "path: message" strings.
func problems(t *testing.T, doc string, opts ...policy.Option) []policy.Problem {
	t.Helper()
	_, err := policy.Parse([]byte(doc), append([]policy.Option{policy.WithModelIDs(catalog...), policy.WithEndpointNames("portico-demo-llm")}, opts...)...)
	var ve *policy.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	return ve.Problems
}

func TestGovernanceValidation(t *testing.T) {
	t.Parallel()
	const head = "version: 1\npolicyAdmins: [A]\ngroups:\n  - name: A\n"
	tests := []struct {
		name string
		doc  string
		opts []policy.Option
		want []string // "path: message fragment"
	}{
		{"budgets", head + "    quotas: {userCostPerDay: \"1.50\", userCostPerMonth: \"30\", groupCostPerDay: \"10\", groupCostPerMonth: \"100.000001\"}\n", nil, nil},
		{"budget not a decimal", head + "    quotas: {userCostPerMonth: \"12,50\"}\n", nil, []string{"groups[0].quotas.userCostPerMonth: budget \"12,50\" is not a decimal"}},
		{"negative budget", head + "    quotas: {groupCostPerMonth: \"-1\"}\n", nil, []string{"groups[0].quotas.groupCostPerMonth: budget \"-1\""}},
		{"absurd budget", head + "    quotas: {userCostPerDay: \"5000000000\"}\n", nil, []string{"groups[0].quotas.userCostPerDay: budget 5000000000 is absurd"}},
		{"budget below a micro-unit", head + "    quotas: {userCostPerDay: \"0.0000001\"}\n", nil, []string{"groups[0].quotas.userCostPerDay: budget \"0.0000001\""}},
		{"daily budget above monthly", head + "    quotas: {userCostPerDay: \"31\", userCostPerMonth: \"30\"}\n", nil, []string{"groups[0].quotas.userCostPerDay: userCostPerDay (31) is more than userCostPerMonth (30)"}},
		{"group budget day above month", head + "    quotas: {groupCostPerDay: \"31\", groupCostPerMonth: \"30\"}\n", nil, []string{"groups[0].quotas.groupCostPerDay: groupCostPerDay (31)"}},
		{"group budget on a scope", "version: 1\nscopes:\n  - scope: s\n    quotas: {groupCostPerMonth: \"5\"}\n", nil, []string{"scopes[0].quotas.groupCostPerMonth: groupCostPerMonth applies to groups"}},
		{"absurd tokens", head + "    quotas: {userTokensPerDay: 1000000000000001}\n", nil, []string{"groups[0].quotas.userTokensPerDay: limit 1000000000000001 is absurd"}},
		{"absurd requests", head + "    quotas: {userRequestsPerMinute: 1000000001}\n", nil, []string{"groups[0].quotas.userRequestsPerMinute: limit 1000000001 is absurd"}},
		{"undefined policy admin", "version: 1\npolicyAdmins: [Admins]\ngroups:\n  - name: A\n", nil, []string{"policyAdmins[0]: policy-admin group \"Admins\" is not defined"}},
		{"no policy admin at load is read-only, not an error", "version: 1\ngroups:\n  - name: A\n", nil, nil},
		{"an edit without policyAdmins locks everyone out", "version: 1\ngroups:\n  - name: A\n", []policy.Option{policy.RequirePolicyAdmin()}, []string{": policyAdmins names no group"}},
		{"an edit with empty policyAdmins locks everyone out", "version: 1\npolicyAdmins: []\ngroups:\n  - name: A\n", []policy.Option{policy.RequirePolicyAdmin()}, []string{"policyAdmins: policyAdmins names no group"}},
		{"an edit naming only undefined groups", "version: 1\npolicyAdmins: [Gone]\ngroups:\n  - name: A\n", []policy.Option{policy.RequirePolicyAdmin()}, []string{"policyAdmins[0]: policy-admin group \"Gone\" is not defined"}},
		{"unknown model and endpoint, duplicate group, all at once", head + "    models: [gpt-4]\n    endpoints: [nope]\n  - name: A\n", nil,
			[]string{"groups[0].models[0]: model \"gpt-4\"", "groups[0].endpoints[0]: endpoint \"nope\"", "groups[1].name: group \"A\" is already defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problems(t, tt.doc, tt.opts...)
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %+v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if s := got[i].Path + ": " + got[i].Message; !strings.HasPrefix(s, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, s, w)
				}
			}
		})
	}
}

func TestBudgetsAndPolicyAdmins(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte(`version: 1
policyAdmins: [Admins]
groups:
  - name: Team
    models: [amazon.nova-lite-v1:0]
    quotas: {userCostPerDay: "2", userCostPerMonth: "20", groupCostPerDay: "50", groupCostPerMonth: "500"}
  - name: Big
    models: [amazon.nova-lite-v1:0]
    quotas: {userCostPerDay: "3"}
  - name: Admins
scopes:
  - scope: s
    models: [amazon.nova-lite-v1:0]
    quotas: {userCostPerMonth: "7.25"}
`), policy.WithModelIDs(catalog...))
	if err != nil {
		t.Fatal(err)
	}
	const nano = 1_000_000_000
	cost := typev1.QuotaUnit_QUOTA_UNIT_COST
	user, group := typev1.QuotaSubject_QUOTA_SUBJECT_USER, typev1.QuotaSubject_QUOTA_SUBJECT_GROUP
	day, month := typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaWindow_QUOTA_WINDOW_MONTH
	lite := "amazon.nova-lite-v1:0"
	// One group: its budgets, per user and for the group.
	want := []store.Limit{
		{Subject: user, Window: day, Unit: cost, Max: 2 * nano},
		{Subject: user, Window: month, Unit: cost, Max: 20 * nano},
		{Subject: group, Group: "Team", Window: day, Unit: cost, Max: 50 * nano},
		{Subject: group, Group: "Team", Window: month, Unit: cost, Max: 500 * nano},
	}
	if got := p.Entitlements(person("Team")).QuotasFor(lite); !slices.Equal(got, want) {
		t.Errorf("Team quotas = %v\nwant %v", got, want)
	}
	// Two groups: per-user budgets are the most generous (Big has no monthly budget), the
	// group's pools still apply.
	want = []store.Limit{{Subject: user, Window: day, Unit: cost, Max: 3 * nano}, want[2], want[3]}
	if got := p.Entitlements(person("Team", "Big")).QuotasFor(lite); !slices.Equal(got, want) {
		t.Errorf("Team+Big quotas = %v\nwant %v", got, want)
	}
	if got := p.Entitlements(person("Team", "Big")).ChargeGroups(lite); !slices.Equal(got, []string{"Team"}) {
		t.Errorf("ChargeGroups = %v", got)
	}
	if got := p.Entitlements(machine("s")).QuotasFor(lite); !slices.Equal(got, []store.Limit{{Subject: user, Window: month, Unit: cost, Max: 7_250_000_000}}) {
		t.Errorf("scope quotas = %v", got)
	}
	if !p.IsPolicyAdmin(person("Admins")) || p.IsPolicyAdmin(person("Team")) || p.IsPolicyAdmin(machine("Admins")) || p.IsPolicyAdmin(nil) {
		t.Error("IsPolicyAdmin is wrong")
	}
	if p.IsUsageAdmin(person("Admins")) {
		t.Error("a policy admin is not a usage admin unless usageAdmins says so")
	}
	if s := (store.Limit{Subject: user, Window: month, Unit: cost, Max: 7_250_000_000}).String(); s != "user cost per month (7.25)" {
		t.Errorf("String = %q", s)
	}
	dev := devPolicy(t)
	if !dev.IsPolicyAdmin(person("Administrators")) || dev.IsPolicyAdmin(person("MLUsers")) {
		t.Error("dev policy: Administrators are the policy admins")
	}
}
