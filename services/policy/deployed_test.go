package policy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	catalogpkg "github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// TestDeployedPolicies validates, as portico-services does at start-up, the policy file each
// infra environment deploys (infra/config/<env>.yaml and the examples in infra/config/examples: policyFile) against the catalog it
// deploys (catalogFile, or the embedded one), and checks the examples are bounded: every
// model or endpoint a group or scope grants carries a per-minute request limit and daily and
// monthly token limits. The infra module cannot import this package (it is its own module,
// kept free of the services' dependencies), so this test lives here.
func TestDeployedPolicies(t *testing.T) {
	t.Parallel()
	infra := filepath.Join("..", "..", "infra")
	envFiles, err := filepath.Glob(filepath.Join(infra, "config", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join(infra, "config", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	envFiles = append(envFiles, examples...)
	if len(envFiles) == 0 {
		t.Skip("infra/ not checked out next to services/")
	}
	for _, envFile := range envFiles {
		t.Run(filepath.Base(envFile), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(envFile) //nolint:gosec // G304: a file of this repository
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				PolicyFile  string `yaml:"policyFile"`
				CatalogFile string `yaml:"catalogFile"`
			}
			if err := yaml.Unmarshal(b, &env); err != nil {
				t.Fatal(err)
			}
			if env.PolicyFile == "" {
				t.Fatal("deploys no policy file: the embedded development policy would be live")
			}
			cat := catalogpkg.Default()
			if env.CatalogFile != "" {
				if cat, err = catalogpkg.LoadFile(filepath.Join(infra, env.CatalogFile)); err != nil {
					t.Fatal(err)
				}
			}
			var models, endpoints []string
			for _, m := range cat.Models() {
				if m.Provider == catalogpkg.ProviderSageMaker {
					endpoints = append(endpoints, m.ID)
				} else {
					models = append(models, m.ID)
				}
			}
			p, err := policy.Load(filepath.Join(infra, env.PolicyFile), policy.WithModelIDs(models...), policy.WithEndpointNames(endpoints...),
				policy.WithKnowledgeBases(cat.KnowledgeBaseModels()))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.GroupNames()) == 0 {
				t.Fatal("the policy grants no group")
			}
			check := func(who string, e policy.Entitlements) {
				for _, r := range append(e.ModelIDs(), e.EndpointNames()...) {
					type limit struct {
						window typev1.QuotaWindow
						unit   typev1.QuotaUnit
					}
					have := map[limit]bool{}
					for _, q := range e.QuotasFor(r) {
						if q.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_USER {
							have[limit{q.Window, q.Unit}] = true
						}
					}
					for _, want := range []struct {
						limit
						name string
					}{
						{limit{typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, typev1.QuotaUnit_QUOTA_UNIT_REQUESTS}, "userRequestsPerMinute"},
						{limit{typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_TOKENS}, "userTokensPerDay"},
						{limit{typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS}, "userTokensPerMonth"},
					} {
						if !have[want.limit] {
							t.Errorf("%s: %s has no %s", who, r, want.name)
						}
					}
				}
			}
			for _, g := range p.GroupNames() {
				check("group "+g, p.Entitlements(&principal.Principal{Kind: principal.KindPerson, Subject: "s", Username: "u", Groups: []string{g}}))
			}
			for _, s := range p.ScopeNames() {
				check("scope "+s, p.Entitlements(&principal.Principal{Kind: principal.KindMachine, Subject: "m", Username: "m", Scopes: []string{s}}))
			}
		})
	}
}
