package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

// TestInitErrorOnLambda runs the binary on a local Runtime API with no configuration: it
// reports one init error naming every variable production requires and exits non-zero.
func TestInitErrorOnLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "portico-bff")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	api := runtimeapitest.New()
	t.Cleanup(api.Close)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), config.EnvRuntimeAPI + "=" + api.Addr()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("exited 0:\n%s", out)
	}
	select {
	case report := <-api.InitErrors():
		msg := runtimeapitest.ErrorMessage(report.Body)
		for _, want := range []string{config.EnvPublicURL, config.EnvIssuer, config.EnvClientID, config.EnvClientSecret,
			config.EnvServicesURL, config.EnvCookieKeys} {
			if !strings.Contains(msg, want) {
				t.Errorf("init error %q does not name %s", msg, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no init error reported\n%s", out)
	}
}
