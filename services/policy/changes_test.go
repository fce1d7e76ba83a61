package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/policy"
)

func TestChanges(t *testing.T) {
	t.Parallel()
	dev := string(policy.DefaultYAML())
	tests := []struct {
		name string
		to   string
		want []string
	}{
		{"comments only", "# a comment\n" + dev, []string{"no change to the policy's content"}},
		{"a limit", strings.Replace(dev, "userTokensPerDay: 200000", "userTokensPerDay: 1000", 1),
			[]string{"groups[MLUsers].quotas.userTokensPerDay: 200000 -> 1000"}},
		{"a model out, a budget in", strings.Replace(strings.Replace(dev, "      - amazon.titan-text-express-v1\n", "", 1),
			"userTokensPerDay: 200000", "userTokensPerDay: 200000\n      userCostPerMonth: \"12.50\"", 1),
			[]string{"groups[MLUsers].models: -amazon.titan-text-express-v1", "groups[MLUsers].quotas.userCostPerMonth: set to 12.50"}},
		{"a group added", strings.Replace(dev, "# Machine clients", "  - name: Contractors\n    models: [amazon.nova-lite-v1:0]\n\n# Machine clients", 1),
			[]string{"groups[Contractors]: added"}},
		{"a scope removed", strings.Replace(dev, "  - scope: portico/identity\n", "", 1), []string{"scopes[portico/identity]: removed"}},
		{"usage admins emptied", strings.Replace(dev, "usageAdmins: [Administrators]", "usageAdmins: []", 1),
			[]string{"usageAdmins: -Administrators"}},
		{"not YAML", "groups: [", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := policy.Changes([]byte(dev), []byte(tt.to))
			if tt.want == nil {
				if len(got) < 5 {
					t.Errorf("everything removed: %v", got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Changes = %q\nwant      %q", got, tt.want)
			}
		})
	}
	// Reordering groups is no change.
	a := "version: 1\ngroups:\n  - name: A\n  - name: B\n"
	b := "version: 1\ngroups:\n  - name: B\n  - name: A\n"
	if got := policy.Changes([]byte(a), []byte(b)); !slices.Equal(got, []string{"no change to the policy's content"}) {
		t.Errorf("reorder: %q", got)
	}
}
