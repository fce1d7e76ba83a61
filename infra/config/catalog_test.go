package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/catalog"
)

// TestEnvironmentCatalogs: each environment deploys a catalog whose every model runs in its
// region, and whose entries are the services' embedded ones unchanged (so prices and region
// facts are edited in one place and copied, never drifting apart).
func TestEnvironmentCatalogs(t *testing.T) {
	t.Parallel()
	def := catalog.Default()
	for _, env := range Environments {
		c, err := Load(env)
		if err != nil {
			t.Fatal(err)
		}
		if c.CatalogFile == "" {
			t.Fatalf("%s: no catalogFile: the embedded catalog runs in no single region", env)
		}
		cat, err := c.Catalog("..")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ModelARNs(cat); err != nil {
			t.Errorf("%s: %v", env, err)
		}
		if cat.PriceTable() != def.PriceTable() {
			t.Errorf("%s: price table %+v differs from the embedded %+v", env, cat.PriceTable(), def.PriceTable())
		}
		for _, m := range cat.Models() {
			d, ok := def.Lookup(m.ID)
			if !ok || !reflect.DeepEqual(m, d) {
				t.Errorf("%s: model %s differs from the embedded catalog's", env, m.ID)
			}
		}
		b, err := os.ReadFile(filepath.Join("..", c.PolicyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckPolicyModels(b, cat); err != nil {
			t.Errorf("%s: %v", env, err)
		}
	}
}

// TestModelARNs: the grants follow the region — in prod (us-west-2) Nova runs through the US
// profile (profile ARN plus the model in each routing region), Haiku on demand — and the
// embedded catalog is refused where one of its models cannot run.
func TestModelARNs(t *testing.T) {
	t.Parallel()
	c, err := Load("prod")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog("..")
	if err != nil {
		t.Fatal(err)
	}
	bedrock, sagemaker, err := c.ModelARNs(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.amazon.nova-pro-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
		"arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
		"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
	} {
		if !slices.Contains(bedrock, want) {
			t.Errorf("prod grants lack %s", want)
		}
	}
	for _, absent := range []string{
		"arn:aws:bedrock:us-west-2::foundation-model/ai21.jamba-1-5-mini-v1:0", // not in the prod catalog
		"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
	} {
		if slices.Contains(bedrock, absent) {
			t.Errorf("prod grants %s", absent)
		}
	}
	if !slices.Equal(sagemaker, []string{"arn:aws:sagemaker:us-west-2:222222222222:endpoint/portico-demo-llm"}) {
		t.Errorf("SageMaker ARNs = %v", sagemaker)
	}
	for region, refused := range map[string]string{"us-west-2": "ai21.jamba-1-5-mini-v1:0", "us-east-1": "mistral.mistral-large-2407-v1:0"} {
		e := *c
		e.Region, e.CatalogFile = region, ""
		embedded, err := e.Catalog("..")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.ModelARNs(embedded); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("embedded catalog in %s: err = %v, want %s refused", region, err, refused)
		}
	}
}

func TestCheckPolicyModels(t *testing.T) {
	t.Parallel()
	c, err := Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalog("..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, policy string
		want         []string // substrings; none for a policy the catalog covers
	}{
		{"covered", "groups:\n  - name: MLUsers\n    models: [amazon.nova-lite-v1:0]\n    endpoints: [portico-demo-llm]\n", nil},
		{"model not in the catalog", "groups:\n  - name: MLUsers\n    models: [mistral.mistral-large-2407-v1:0]\n", []string{"group MLUsers", "mistral.mistral-large-2407-v1:0"}},
		{"endpoint named as a model", "scopes:\n  - scope: portico/inference\n    models: [portico-demo-llm]\n", []string{"scope portico/inference", "portico-demo-llm"}},
		{"model named as an endpoint", "groups:\n  - name: A\n    endpoints: [amazon.nova-lite-v1:0]\n  - name: B\n    models: [nope]\n", []string{"group A", "group B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := c.CheckPolicyModels([]byte(tt.policy), cat)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %s", err, w)
				}
			}
		})
	}
}
