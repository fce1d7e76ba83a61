package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/client"
	"github.com/portico-dev/portico/services/client/smoke"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/testing/bench"
)

// smokePolicy is the development policy's machine scope with the demo SageMaker endpoint
// added, so that the smoke test reaches every kind of check.
const smokePolicy = `version: 1
usageAdmins: [MLUsers]
groups:
  - name: MLUsers
    models: [amazon.nova-lite-v1:0]
scopes:
  - scope: portico/inference
    models:
      - amazon.nova-lite-v1:0
      - anthropic.claude-3-5-haiku-20241022-v1:0
    endpoints: [portico-demo-llm]
    quotas:
      userRequestsPerMinute: 1000
      userTokensPerDay: 1000000
  - scope: portico/identity
`

const (
	novaLite = "amazon.nova-lite-v1:0"
	haiku    = "anthropic.claude-3-5-haiku-20241022-v1:0"
	demoLLM  = "portico-demo-llm"
)

// TestSmokeAgainstDevStack builds the real binaries and runs the dev stack (the bench
// harness: dev IdP, local AWS endpoint, services, BFF, each its own process on a loopback
// port), then runs `portico smoke` against it: every check passes; then with faults
// injected into the local AWS endpoint, the report names each failing model or endpoint
// with the class of its failure, and the command exits 1.
func TestSmokeAgainstDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the real binaries")
	}
	t.Parallel()
	ctx := context.Background()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bins, err := bench.BuildBinaries(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := bench.StartStackWith(ctx, bins, dir, bench.StackOptions{Policy: []byte(smokePolicy)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stop stack: %v", err)
		}
	})
	env := map[string]string{"PORTICO_SERVICES_URL": stack.Services.URL, "PORTICO_ISSUER": stack.IdP.URL}
	getenv := func(k string) string { return env[k] }
	cfg := client.Config{BaseURL: stack.Services.URL, Issuer: stack.IdP.URL}
	every := []string{
		"discovery " + stack.IdP.URL, "token portico-machine", "GetMe", "ListModels",
		"Converse " + novaLite, "ConverseStream " + novaLite,
		"Converse " + haiku, "ConverseStream " + haiku,
		"InvokeEndpoint " + demoLLM, "GetUsage",
	}
	slices.Sort(every)

	t.Run("passes", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if status := run(ctx, []string{"smoke"}, &stdout, &stderr, getenv); status != 0 {
			t.Fatalf("portico smoke exited %d\nstdout:\n%s\nstderr:\n%s", status, &stdout, &stderr)
		}
		if !strings.Contains(stdout.String(), "(grpc)") || !strings.Contains(stdout.String(), "PASS: 10 checks passed") {
			t.Errorf("table:\n%s", &stdout)
		}
		// Over Connect too, as through API Gateway; every check, and nothing else, passed.
		cfg := cfg
		cfg.Protocol = client.ProtocolConnect
		r := smoke.Run(ctx, cfg, smoke.Options{})
		if got := names(r.Checks); !slices.Equal(got, every) || !r.OK() || r.Protocol != "connect" {
			t.Errorf("checks %v (ok %v, %s), want %v all ok over connect\n%s", got, r.OK(), r.Protocol, every, table(t, r))
		}
		if c, _ := r.Find("Converse", novaLite); !strings.Contains(c.Detail, " 1 out") {
			t.Errorf("Converse detail %q, want one output token", c.Detail)
		}
	})

	t.Run("names what fails and why", func(t *testing.T) {
		rounds := []struct {
			faults []localaws.Fault
			want   map[string]smoke.Class // failing checks; every other one passes
		}{
			{
				faults: []localaws.Fault{
					{Target: novaLite, Fault: localaws.FaultAccessDenied},
					{Target: haiku, Fault: localaws.FaultQuota},
					{Target: demoLLM, Fault: localaws.FaultNotReady},
				},
				want: map[string]smoke.Class{
					"Converse " + novaLite:       smoke.ClassAccessDenied,
					"ConverseStream " + novaLite: smoke.ClassAccessDenied,
					"Converse " + haiku:          smoke.ClassThrottled,
					"ConverseStream " + haiku:    smoke.ClassThrottled,
					"InvokeEndpoint " + demoLLM:  smoke.ClassUnavailable,
				},
			},
			{
				faults: []localaws.Fault{
					{Target: novaLite, Fault: localaws.FaultOnDemand},
					{Target: haiku, Fault: localaws.FaultSubscription},
				},
				want: map[string]smoke.Class{
					"Converse " + novaLite:       smoke.ClassRegion,
					"ConverseStream " + novaLite: smoke.ClassRegion,
					"Converse " + haiku:          smoke.ClassSubscription,
					"ConverseStream " + haiku:    smoke.ClassSubscription,
				},
			},
			{
				faults: []localaws.Fault{{Target: haiku, Fault: localaws.FaultFirstUse}},
				want: map[string]smoke.Class{
					"Converse " + haiku:       smoke.ClassSubscription,
					"ConverseStream " + haiku: smoke.ClassSubscription,
				},
			},
		}
		for i, round := range rounds {
			for _, f := range round.faults {
				postFault(t, stack.AWS.URL, f)
			}
			r := smoke.Run(ctx, cfg, smoke.Options{})
			clearFaults(t, stack.AWS.URL)
			if got := names(r.Checks); !slices.Equal(got, every) {
				t.Fatalf("round %d: checks %v, want %v", i, got, every)
			}
			for _, c := range r.Checks {
				name := strings.TrimSpace(c.Name + " " + c.Target)
				class, fails := round.want[name]
				switch {
				case fails && (c.Status != smoke.StatusFailed || c.Class != class):
					t.Errorf("round %d: %s: %s %q (%s), want failed as %q", i, name, c.Status, c.Class, c.Detail, class)
				case !fails && c.Status != smoke.StatusOK:
					t.Errorf("round %d: %s: %s %q (%s), want ok", i, name, c.Status, c.Class, c.Detail)
				}
			}
		}

		// The command prints the table and exits 1.
		for _, f := range rounds[0].faults {
			postFault(t, stack.AWS.URL, f)
		}
		t.Cleanup(func() { clearFaults(t, stack.AWS.URL) })
		var stdout, stderr bytes.Buffer
		if status := run(ctx, []string{"smoke"}, &stdout, &stderr, getenv); status != 1 {
			t.Fatalf("portico smoke exited %d, want 1\n%s%s", status, &stdout, &stderr)
		}
		for _, row := range []string{
			`Converse\s+` + regexp.QuoteMeta(novaLite) + `\s+FAIL\s+access denied\s`,
			`ConverseStream\s+` + regexp.QuoteMeta(haiku) + `\s+FAIL\s+throttled\s`,
			`InvokeEndpoint\s+` + demoLLM + `\s+FAIL\s+unavailable\s`,
			`GetUsage\s+-\s+ok\s`,
			`FAIL: 5 of 10 checks failed: .*Converse amazon\.nova-lite-v1:0 \(access denied\)`,
		} {
			if !regexp.MustCompile(row).MatchString(stdout.String()) {
				t.Errorf("table lacks a row matching %s:\n%s", row, &stdout)
			}
		}
	})

	t.Run("stops without a token", func(t *testing.T) {
		cfg := cfg
		cfg.ClientSecret = "wrong"
		r := smoke.Run(ctx, cfg, smoke.Options{})
		if got := names(r.Checks); !slices.Equal(got, []string{"discovery " + stack.IdP.URL, "token portico-machine"}) {
			t.Fatalf("checks %v, want discovery and token", got)
		}
		if c := r.Checks[1]; c.Status != smoke.StatusFailed || c.Class != smoke.ClassUnauthenticated {
			t.Errorf("token check %+v, want failed as unauthenticated", c)
		}
	})
}

// names lists the checks as "name target", sorted.
func names(cs []smoke.Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = strings.TrimSpace(c.Name + " " + c.Target)
	}
	slices.Sort(out)
	return out
}

func table(t *testing.T, r *smoke.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// postFault injects a fault into the local AWS endpoint through its control endpoint.
func postFault(t *testing.T, awsURL string, f localaws.Fault) {
	t.Helper()
	body, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(awsURL+"/_portico/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST fault %+v: %s", f, resp.Status)
	}
}

func clearFaults(t *testing.T, awsURL string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, awsURL+"/_portico/faults", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}
