package catalog

import (
	"slices"
	"strings"
	"testing"
)

// TestRoute pins how each dev model runs from the regions Portico deploys to: on demand, or
// through which inference profile, or not at all.
func TestRoute(t *testing.T) {
	t.Parallel()
	c := Default()
	tests := []struct {
		model, region string
		want          string // the id sent to the provider; "" when the model cannot run there
		profile       bool
		errHas        string
	}{
		{"amazon.nova-pro-v1:0", "us-east-1", "amazon.nova-pro-v1:0", false, ""},
		{"amazon.nova-pro-v1:0", "us-west-2", "us.amazon.nova-pro-v1:0", true, ""},
		{"amazon.nova-lite-v1:0", "eu-west-1", "eu.amazon.nova-lite-v1:0", true, ""},
		{"amazon.nova-lite-v1:0", "ap-southeast-2", "apac.amazon.nova-lite-v1:0", true, ""},
		{"amazon.nova-lite-v1:0", "sa-east-1", "", false, "not from sa-east-1"},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", "us-west-2", "anthropic.claude-3-5-haiku-20241022-v1:0", false, ""},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1", "us.anthropic.claude-3-5-haiku-20241022-v1:0", true, ""},
		{"meta.llama3-1-70b-instruct-v1:0", "us-east-2", "us.meta.llama3-1-70b-instruct-v1:0", true, ""},
		{"ai21.jamba-1-5-mini-v1:0", "us-east-1", "ai21.jamba-1-5-mini-v1:0", false, ""},
		{"ai21.jamba-1-5-mini-v1:0", "us-west-2", "", false, "runs on demand in [us-east-1]"},
		{"mistral.mistral-large-2407-v1:0", "us-east-1", "", false, "not from us-east-1"},
		{"amazon.titan-text-express-v1", "eu-west-2", "amazon.titan-text-express-v1", false, ""},
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", "us-west-2", "us.anthropic.claude-sonnet-4-20250514-v1:0", true, ""},
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", "eu-west-1", "", false, "not eu-west-1"},
		{"portico-demo-llm", "eu-west-1", "portico-demo-llm", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.model+"@"+tt.region, func(t *testing.T) {
			t.Parallel()
			m, ok := c.Lookup(tt.model)
			if !ok {
				t.Fatalf("no model %s", tt.model)
			}
			r, err := m.Route(tt.region)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Route = %+v, %v; want an error with %q", r, err, tt.errHas)
				}
				return
			}
			if err != nil || r.ModelID != tt.want || (r.Profile != nil) != tt.profile {
				t.Fatalf("Route = %+v, %v; want %s (profile %v)", r, err, tt.want, tt.profile)
			}
		})
	}
}

// TestRouteWithoutFacts: a foundation model the catalog says nothing about runs nowhere.
func TestRouteWithoutFacts(t *testing.T) {
	t.Parallel()
	m := Model{ID: "x.y-v1", Kind: KindFoundationModel, Provider: ProviderBedrock, DisplayName: "Y"}
	if _, err := m.Route("us-east-1"); err == nil || !strings.Contains(err.Error(), "does not say where it runs") {
		t.Fatalf("err = %v", err)
	}
}

func TestInRegion(t *testing.T) {
	t.Parallel()
	c := Default()
	west, err := c.InRegion("us-west-2")
	if err == nil || !strings.Contains(err.Error(), "ai21.jamba-1-5-mini-v1:0") || strings.Contains(err.Error(), "nova") {
		t.Fatalf("us-west-2: err = %v, want exactly Jamba refused", err)
	}
	for id, want := range map[string]string{
		"amazon.nova-pro-v1:0":                     "us.amazon.nova-pro-v1:0",
		"anthropic.claude-3-5-haiku-20241022-v1:0": "anthropic.claude-3-5-haiku-20241022-v1:0",
		"ai21.jamba-1-5-mini-v1:0":                 "ai21.jamba-1-5-mini-v1:0", // kept as is
	} {
		m, _ := west.Lookup(id)
		if m.InvokeID() != want {
			t.Errorf("us-west-2: %s invokes %s, want %s", id, m.InvokeID(), want)
		}
	}
	if m, _ := c.Lookup("amazon.nova-pro-v1:0"); m.InvokeID() != "amazon.nova-pro-v1:0" {
		t.Errorf("the original catalog changed: %s", m.InvokeID())
	}
	east, err := c.InRegion("us-east-1")
	if err == nil || !strings.Contains(err.Error(), "mistral.mistral-large-2407-v1:0") {
		t.Fatalf("us-east-1: err = %v, want Mistral Large refused", err)
	}
	if m, _ := east.Lookup("meta.llama3-1-70b-instruct-v1:0"); m.InvokeID() != "us.meta.llama3-1-70b-instruct-v1:0" {
		t.Errorf("us-east-1: Llama invokes %s", m.InvokeID())
	}
	if _, err := c.InRegion("eu-west-1"); err == nil {
		t.Error("eu-west-1 runs every dev model?")
	}
}

func TestARNs(t *testing.T) {
	t.Parallel()
	c := Default()
	tests := []struct {
		model, region string
		want          []string
	}{
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", "us-east-1", []string{
			"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
			"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
			"arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
			"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
		}},
		{"amazon.nova-lite-v1:0", "us-east-1", []string{"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"}},
		{"amazon.nova-lite-v1:0", "us-west-2", []string{
			"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.amazon.nova-lite-v1:0",
			"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
			"arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-lite-v1:0",
			"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0",
		}},
		{"amazon.nova-lite-v1:0", "us-gov-west-1", []string{"arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.nova-lite-v1:0"}},
		{"portico-demo-llm", "us-east-1", []string{"arn:aws:sagemaker:us-east-1:123456789012:endpoint/portico-demo-llm"}},
	}
	for _, tt := range tests {
		m, _ := c.Lookup(tt.model)
		got, err := m.ARNs(tt.region, "123456789012")
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s@%s ARNs = %v, %v; want %v", tt.model, tt.region, got, err, tt.want)
		}
	}
	global := Model{ID: "x.m-v1:0", FoundationModel: "x.m-v1:0", Kind: KindFoundationModel, Provider: ProviderBedrock,
		Profiles: []Profile{{ID: "global.x.m-v1:0", Regions: []string{"eu-west-1"}}}}
	got, err := global.ARNs("eu-west-1", "1")
	if err != nil || !slices.Contains(got, "arn:aws:bedrock:::foundation-model/x.m-v1:0") || !slices.Contains(got, "arn:aws:bedrock:eu-west-1:1:inference-profile/global.x.m-v1:0") {
		t.Errorf("global profile ARNs = %v, %v", got, err)
	}
	if _, _, err := c.IAMResources("us-west-2", "1"); err == nil || !strings.Contains(err.Error(), "jamba") {
		t.Errorf("IAMResources in us-west-2: err = %v, want Jamba refused", err)
	}
	sub, _ := c.InRegion("us-west-2") // IAM follows the facts, not an earlier InRegion
	if _, _, err := sub.IAMResources("us-west-2", "1"); err == nil {
		t.Error("IAMResources ignores a model that cannot run")
	}
}

// TestParseRejectsRegionFacts: region facts that cannot be right are refused at load.
func TestParseRejectsRegionFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new, message string
	}{
		{"profile for another model", "kind: foundation-model\n", "kind: foundation-model\n    profiles: [{id: us.amazon.nova-pro-v1:0, regions: [us-east-1]}]\n", "is not <geography>.amazon.nova-lite-v1:0"},
		{"unknown geography", "kind: foundation-model\n", "kind: foundation-model\n    profiles: [{id: mars.amazon.nova-lite-v1:0, regions: [us-east-1]}]\n", "geography"},
		{"profile without regions", "kind: foundation-model\n", "kind: foundation-model\n    profiles: [{id: us.amazon.nova-lite-v1:0}]\n", "needs the regions"},
		{"bad on-demand region", "kind: foundation-model\n", "kind: foundation-model\n    onDemandRegions: [us-east]\n", "not an AWS region"},
		{"regions on a foundation model", "kind: foundation-model\n", "kind: foundation-model\n    regions: [us-east-1]\n", "onDemandRegions and profiles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(validModel, tt.old) {
				t.Fatalf("test document lacks %q", tt.old)
			}
			_, err := Parse("test.yaml", []byte(strings.Replace(validModel, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want %q", err, tt.message)
			}
		})
	}
}
