package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	On          map[string]any `yaml:"on"`
	Permissions map[string]any `yaml:"permissions"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	Needs       any               `yaml:"needs"`
	Environment string            `yaml:"environment"`
	Permissions map[string]string `yaml:"permissions"`
	Steps       []struct {
		Name string            `yaml:"name"`
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

func (j job) stepNames() []string {
	var out []string
	for _, s := range j.Steps {
		out = append(out, s.Name)
	}
	return out
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeployWorkflow: the workflow parses, builds and tests before anything deploys,
// deploys UAT then smoke-tests it, deploys prod only after UAT and behind the prod
// environment (whose reviewers approve), and reaches AWS only through OIDC.
func TestDeployWorkflow(t *testing.T) {
	t.Parallel()
	raw := read(t, ".github/workflows/deploy.yml")
	var w workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("deploy.yml: %v", err)
	}
	if len(w.Permissions) != 0 {
		t.Errorf("workflow-wide permissions %v, want none", w.Permissions)
	}
	if _, ok := w.On["push"]; !ok {
		t.Error("the workflow does not run on push")
	}
	want := []struct {
		job, needs, environment string
		steps                   []string // in this order
		oidc                    bool
	}{
		{"build", "", "", []string{"Test (make test)", "Build Lambda artifacts", "Build SPA", "Synthesise uat and prod", "Upload artifacts"}, false},
		{"deploy-uat", "build", "uat", []string{"Download artifacts", "AWS credentials (OIDC)", "Deploy UAT", "Upload SPA to UAT", "Smoke test UAT"}, true},
		{"deploy-prod", "deploy-uat", "prod", []string{"Download artifacts", "AWS credentials (OIDC)", "Deploy prod", "Upload SPA to prod", "Smoke test prod"}, true},
	}
	if len(w.Jobs) != len(want) {
		t.Errorf("jobs %v, want %d", w.Jobs, len(want))
	}
	for _, wj := range want {
		j, ok := w.Jobs[wj.job]
		if !ok {
			t.Errorf("no job %s", wj.job)
			continue
		}
		if needs, _ := j.Needs.(string); needs != wj.needs {
			t.Errorf("%s needs %v, want %q", wj.job, j.Needs, wj.needs)
		}
		if j.Environment != wj.environment {
			t.Errorf("%s environment %q, want %q", wj.job, j.Environment, wj.environment)
		}
		names := j.stepNames()
		last := -1
		for _, s := range wj.steps {
			i := slices.Index(names, s)
			if i < 0 || i < last {
				t.Errorf("%s: step %q missing or out of order in %v", wj.job, s, names)
			}
			last = i
		}
		if got := j.Permissions["id-token"] == "write"; got != wj.oidc {
			t.Errorf("%s: id-token write = %v, want %v", wj.job, got, wj.oidc)
		}
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials") {
				if !strings.Contains(s.With["role-to-assume"], "vars.AWS_DEPLOY_ROLE_ARN") {
					t.Errorf("%s: credentials without the deployer role: %v", wj.job, s.With)
				}
			}
		}
	}
	for _, stored := range []string{"aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "secrets."} {
		if strings.Contains(string(raw), stored) {
			t.Errorf("deploy.yml names %q: AWS access must come from OIDC, not a stored key", stored)
		}
	}
}

// TestDeployScript: the steps script deploys both stacks of the environment, uploads the
// SPA, and runs `portico smoke` with the stack's machine client.
func TestDeployScript(t *testing.T) {
	t.Parallel()
	info, err := os.Stat(filepath.Join("..", "..", ".github", "deploy.sh"))
	if err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf(".github/deploy.sh missing or not executable: %v", err)
	}
	s := string(read(t, ".github/deploy.sh"))
	for _, want := range []string{
		`chmod +x build/lambda/*/bootstrap`,
		`npx cdk deploy --all -c env="$env" --require-approval never`,
		`aws s3 sync frontend/dist/portico/browser`,
		`go run ./services/cmd/portico -timeout 10m smoke`,
		`out MachineClientSecretArn`,
		`::add-mask::`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("deploy.sh lacks %q", want)
		}
	}
}
