package main

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/platform/logs"
)

// TestFromEnv reads the configuration, refusing what it cannot parse with every problem named.
func TestFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		groups     map[string]string
		department bool
		wantErr    []string // each must appear in the error; nil: no error
	}{
		{"defaults", nil, map[string]string{}, true, nil},
		{"mapping and off", map[string]string{EnvEntraGroups: `{"g-ml":"MLUsers"}`, EnvAccessTokenDepartment: "false"},
			map[string]string{"g-ml": "MLUsers"}, false, nil},
		{"an empty mapping", map[string]string{EnvEntraGroups: `{}`, EnvAccessTokenDepartment: "true"}, map[string]string{}, true, nil},
		{"not JSON", map[string]string{EnvEntraGroups: `g-ml=MLUsers`}, nil, false, []string{EnvEntraGroups}},
		{"null", map[string]string{EnvEntraGroups: `null`}, nil, false, []string{EnvEntraGroups}},
		{"a list", map[string]string{EnvEntraGroups: `["MLUsers"]`}, nil, false, []string{EnvEntraGroups}},
		{"an empty id", map[string]string{EnvEntraGroups: `{"":"MLUsers"}`}, nil, false, []string{EnvEntraGroups}},
		{"an empty group", map[string]string{EnvEntraGroups: `{"g-ml":""}`}, nil, false, []string{EnvEntraGroups}},
		{"not a boolean", map[string]string{EnvAccessTokenDepartment: "yes please"}, nil, false, []string{EnvAccessTokenDepartment}},
		{"an unknown log format", map[string]string{EnvLogFormat: "xml"}, nil, false, []string{EnvLogFormat}},
		{"all wrong, all named", map[string]string{EnvEntraGroups: `[`, EnvAccessTokenDepartment: "maybe", EnvLogFormat: "xml"}, nil, false,
			[]string{EnvEntraGroups, EnvAccessTokenDepartment, EnvLogFormat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := fromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				if err != nil || !maps.Equal(cfg.entraGroups, tt.groups) || cfg.department != tt.department || cfg.logFormat != logs.Text {
					t.Errorf("fromEnv = %+v, %v; want groups %v, department %v", cfg, err, tt.groups, tt.department)
				}
				return
			}
			if err == nil {
				t.Fatalf("fromEnv = %+v, want an error", cfg)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}

// TestLogFormat: the trigger follows the one PORTICO_LOG_FORMAT rule (json on Lambda).
func TestLogFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want logs.Format
	}{
		{nil, logs.Text},
		{map[string]string{EnvLogFormat: "json"}, logs.JSON},
		{map[string]string{EnvRuntimeAPI: "127.0.0.1:9001"}, logs.JSON},
		{map[string]string{EnvRuntimeAPI: "127.0.0.1:9001", EnvLogFormat: "text"}, logs.Text},
	} {
		cfg, err := fromEnv(func(k string) string { return tt.env[k] })
		if err != nil || cfg.logFormat != tt.want {
			t.Errorf("%v: %+v, %v; want %s", tt.env, cfg, err, tt.want)
		}
	}
}

// buildBinary builds the command for this machine into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portico-pretoken")
	if b, err := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// TestOnLambda runs the binary on a local Runtime API and answers a Cognito event: the raw
// event reaches the trigger and its answer is Lambda's response.
func TestOnLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	bin := buildBinary(t)
	api := runtimeapitest.New()
	t.Cleanup(api.Close)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), EnvRuntimeAPI + "=" + api.Addr(), EnvEntraGroups + `={"g-ml":"MLUsers"}`}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct{ payload, want string }{
		{string(readEvent(t, "federated")), `"custom:department":"Research"`},
		{"not JSON", "not JSON"},
	} {
		res, err := api.Enqueue([]byte(tt.payload), 10*time.Second).Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorType != "" || !strings.Contains(string(res.Body), tt.want) {
			t.Errorf("answer %s (error %s %s), want it to hold %s", res.Body, res.ErrorType, res.ErrorBody, tt.want)
		}
	}
}

// TestInitErrorOnLambda runs the binary on a local Runtime API with a mapping it cannot read:
// it reports one init error naming the variable and exits non-zero.
func TestInitErrorOnLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	bin := buildBinary(t)
	api := runtimeapitest.New()
	t.Cleanup(api.Close)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), EnvRuntimeAPI + "=" + api.Addr(), EnvEntraGroups + "=[g-ml]"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("exited 0:\n%s", out)
	}
	select {
	case report := <-api.InitErrors():
		if msg := runtimeapitest.ErrorMessage(report.Body); !strings.Contains(msg, EnvEntraGroups) {
			t.Errorf("init error %q does not name %s", msg, EnvEntraGroups)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no init error reported\n%s", out)
	}
}

// TestLambdaBinary builds the stripped arm64 bootstrap as `make build` does and checks its size
// (≤ 10 MB: the trigger holds no SDK).
func TestLambdaBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, strings.TrimSpace(string(b)))
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 10<<20 {
		t.Errorf("bootstrap is %d bytes, over 10 MB", fi.Size())
	}
	t.Logf("bootstrap: %.1f MB", float64(fi.Size())/(1<<20))
}
