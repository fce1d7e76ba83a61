package main

import (
	"errors"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
	"github.com/portico-dev/portico/services/policy"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"development defaults", nil, true},
		{"missing policy file", map[string]string{EnvPolicyFile: filepath.Join(t.TempDir(), "missing.yaml")}, false},
		{"empty client list", map[string]string{EnvClientIDs: " , "}, false},
		{"entra", map[string]string{EnvTokenProfile: "entra", EnvEntraTenant: "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00",
			EnvEntraAud: "c0ffee00-1234-4abc-9def-000000000001",
			EnvIssuer:   "https://login.microsoftonline.com/6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00/v2.0"}, true},
		{"entra without audience", map[string]string{EnvTokenProfile: "entra", EnvEntraTenant: "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00",
			EnvIssuer: "https://login.microsoftonline.com/6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00/v2.0"}, false},
		{"entra with a multi-tenant issuer", map[string]string{EnvTokenProfile: "entra", EnvEntraTenant: "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00",
			EnvEntraAud: "a", EnvIssuer: "https://login.microsoftonline.com/organizations/v2.0"}, false},
		{"unknown profile", map[string]string{EnvTokenProfile: "okta"}, false},
		{"policy from a SQLite store", map[string]string{EnvStore: "sqlite:/tmp/p.db"}, false},
		{"malformed store", map[string]string{EnvStore: "dynamodb"}, false},
		{"unknown policy mode", map[string]string{EnvPolicyMode: "git"}, false},
		{"file mode ignores the store", map[string]string{EnvPolicyMode: "file", EnvStore: "sqlite:/tmp/p.db"}, true},
		{"refresh too short", map[string]string{EnvPolicyRefresh: "10ms"}, false},
		{"refresh not a duration", map[string]string{EnvPolicyRefresh: "5"}, false},
		{"refresh", map[string]string{EnvPolicyRefresh: "2s"}, true},
		{"key table", map[string]string{EnvKeyStore: "dynamodb:portico-keys", "AWS_REGION": "us-east-1"}, true},
		{"keys in SQLite", map[string]string{EnvKeyStore: "sqlite:/tmp/keys.db"}, false},
		{"malformed key store", map[string]string{EnvKeyStore: "keys"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := fromEnv(func(k string) string { return tt.env[k] })
			if err == nil {
				_, err = build(cfg, logger)
			}
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestProductionRefusesDevDefaults: on Lambda or with PORTICO_ENV=production the issuer, the
// client ids and the policy file must be explicit, and one error names each one missing.
func TestProductionRefusesDevDefaults(t *testing.T) {
	t.Parallel()
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, policy.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	complete := map[string]string{EnvMode: "production", EnvIssuer: "https://issuer.example", EnvClientIDs: "web,machine", EnvPolicyFile: policyFile}
	without := func(k string) map[string]string {
		m := maps.Clone(complete)
		delete(m, k)
		return m
	}
	all := []string{EnvIssuer, EnvClientIDs, EnvPolicyFile}
	tests := []struct {
		name    string
		env     map[string]string
		missing []string // nil: starts
	}{
		{"complete production", complete, nil},
		{"nothing in production", map[string]string{EnvMode: "production"}, all},
		{"nothing on Lambda", map[string]string{EnvRuntimeAPI: "127.0.0.1:9001"}, all},
		{"Lambda overrides development", map[string]string{EnvRuntimeAPI: "127.0.0.1:9001", EnvMode: "development"}, all},
		{"without issuer", without(EnvIssuer), []string{EnvIssuer}},
		{"without client ids", without(EnvClientIDs), []string{EnvClientIDs}},
		{"without policy file", without(EnvPolicyFile), []string{EnvPolicyFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := fromEnv(func(k string) string { return tt.env[k] })
			if tt.missing == nil {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := build(cfg, slog.New(slog.DiscardHandler)); err != nil || cfg.issuer != complete[EnvIssuer] {
					t.Errorf("build: %v, %+v", err, cfg)
				}
				return
			}
			var missing *runmode.MissingError
			if !errors.As(err, &missing) || !slices.Equal(missing.Variables, tt.missing) {
				t.Errorf("fromEnv = %v, want missing %v", err, tt.missing)
			}
		})
	}
}

// TestLogFormat: the authorizer follows the one PORTICO_LOG_FORMAT rule.
func TestLogFormat(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]logs.Format{"": logs.Text, "json": logs.JSON} {
		cfg, err := fromEnv(func(k string) string { return map[string]string{EnvLogFormat: env}[k] })
		if err != nil || cfg.logFormat != want {
			t.Errorf("%s=%q: %v, %v", EnvLogFormat, env, cfg, err)
		}
	}
	cfg, err := fromEnv(func(k string) string {
		return map[string]string{EnvRuntimeAPI: "x", EnvIssuer: "i", EnvClientIDs: "c", EnvPolicyFile: "p"}[k]
	})
	if err != nil || cfg.logFormat != logs.JSON {
		t.Errorf("on Lambda: %v, %v", cfg, err)
	}
	if _, err := fromEnv(func(k string) string { return map[string]string{EnvLogFormat: "xml"}[k] }); err == nil {
		t.Error("xml accepted")
	}
}

// TestLambdaBinary builds the stripped arm64 bootstrap and checks its size (≤ 20 MB).
func TestLambdaBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, strings.TrimSpace(string(b)))
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 20<<20 {
		t.Errorf("bootstrap is %d bytes, over 20 MB", fi.Size())
	}
	t.Logf("bootstrap: %.1f MB", float64(fi.Size())/(1<<20))
}

// TestInitErrorOnLambda runs the binary on a local Runtime API with no configuration: it
// reports one init error naming every missing variable and exits non-zero.
func TestInitErrorOnLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "portico-authorizer")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	api := runtimeapitest.New()
	t.Cleanup(api.Close)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), EnvRuntimeAPI + "=" + api.Addr()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("exited 0:\n%s", out)
	}
	select {
	case report := <-api.InitErrors():
		msg := runtimeapitest.ErrorMessage(report.Body)
		for _, want := range []string{EnvIssuer, EnvClientIDs, EnvPolicyFile} {
			if !strings.Contains(msg, want) {
				t.Errorf("init error %q does not name %s", msg, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no init error reported\n%s", out)
	}
}
