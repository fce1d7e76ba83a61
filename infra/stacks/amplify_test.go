package stacks

import (
	"os"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestAmplifySpec checks infra/amplify.yml: the artifact directory Angular writes and the
// same Content-Security-Policy as CloudFront and the BFF.
func TestAmplifySpec(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../amplify.yml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Version  int `yaml:"version"`
		Frontend struct {
			Artifacts struct {
				BaseDirectory string `yaml:"baseDirectory"`
			} `yaml:"artifacts"`
			CustomHeaders []struct {
				Pattern string `yaml:"pattern"`
				Headers []struct {
					Key   string `yaml:"key"`
					Value string `yaml:"value"`
				} `yaml:"headers"`
			} `yaml:"customHeaders"`
		} `yaml:"frontend"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Version != 1 || spec.Frontend.Artifacts.BaseDirectory != "frontend/dist/portico/browser" {
		t.Errorf("version %d, baseDirectory %q", spec.Version, spec.Frontend.Artifacts.BaseDirectory)
	}
	csp := ""
	for _, h := range spec.Frontend.CustomHeaders {
		for _, kv := range h.Headers {
			if kv.Key == "Content-Security-Policy" {
				csp = kv.Value
			}
		}
	}
	if want := ContentSecurityPolicy("https://cognito-idp.REGION.amazonaws.com"); csp != want {
		t.Errorf("amplify.yml CSP =\n%s\nwant\n%s", csp, want)
	}
}
