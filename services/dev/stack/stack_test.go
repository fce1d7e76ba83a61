package stack_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/portico-dev/portico/services/dev/stack"
)

// config is a stack on made-up addresses, so that a value taken from the dev defaults
// instead of the Config shows.
func config() stack.Config {
	return stack.Config{
		Addrs:   stack.Addrs{DevIdP: "127.0.0.1:1001", LocalAWS: "127.0.0.1:1002", Services: "127.0.0.1:1003", BFF: "127.0.0.1:1004"},
		DataDir: "/run/d",
		SPADir:  "/run/spa",
	}
}

func TestPiecesFollowTheConfig(t *testing.T) {
	t.Parallel()
	tps := 0.0
	withAll := config()
	withAll.PolicyFile, withAll.CookieKeys, withAll.TokensPerSecond = "/run/policy.yaml", "k1:key", &tps
	tests := []struct {
		name  string
		cfg   stack.Config
		piece string
		want  map[string]string // "" means: must be unset
	}{
		{"idp", config(), stack.DevIdP, map[string]string{
			"PORTICO_IDP_ADDR": "127.0.0.1:1001", "PORTICO_IDP_ISSUER": "http://127.0.0.1:1001", "PORTICO_IDP_DATA_DIR": "/run/d/idp",
			"PORTICO_IDP_REDIRECT_URIS": "http://127.0.0.1:1004/auth/callback", "PORTICO_IDP_LOGOUT_URIS": "http://127.0.0.1:1004/,http://127.0.0.1:1004/auth/signed-out",
		}},
		{"localaws at its default pace", config(), stack.LocalAWS, map[string]string{"PORTICO_LOCALAWS_ADDR": "127.0.0.1:1002", "PORTICO_LOCALAWS_TOKENS_PER_SECOND": ""}},
		{"localaws as fast as possible", withAll, stack.LocalAWS, map[string]string{"PORTICO_LOCALAWS_TOKENS_PER_SECOND": "0"}},
		{"services", config(), stack.Services, map[string]string{
			"PORTICO_SERVICES_ADDR": "127.0.0.1:1003", "PORTICO_ISSUER": "http://127.0.0.1:1001", "PORTICO_STORE": "sqlite:/run/d/portico.db",
			"PORTICO_ATTACHMENT_STORE": "dir:/run/d/attachments", "PORTICO_KEY_STORE": "sqlite:/run/d/keys.db", "PORTICO_PUBLIC_API_URL": "http://127.0.0.1:1003/v1",
			"PORTICO_CLIENT_IDS": "portico-web,portico-machine", "PORTICO_BFF_CLIENT_IDS": "portico-web", "PORTICO_POLICY_FILE": "",
		}},
		{"services with a policy", withAll, stack.Services, map[string]string{"PORTICO_POLICY_FILE": "/run/policy.yaml"}},
		{"bff", config(), stack.BFF, map[string]string{
			"PORTICO_BFF_ADDR": "127.0.0.1:1004", "PORTICO_PUBLIC_URL": "http://127.0.0.1:1004", "PORTICO_OIDC_ISSUER": "http://127.0.0.1:1001",
			"PORTICO_OIDC_CLIENT_ID": "portico-web", "PORTICO_SERVICES_URL": "http://127.0.0.1:1003", "PORTICO_SPA_DIR": "/run/spa",
			"PORTICO_COOKIE_KEYS": "",
		}},
		{"bff with cookie keys", withAll, stack.BFF, map[string]string{"PORTICO_COOKIE_KEYS": "k1:key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := tt.cfg.Piece(tt.piece)
			if !ok {
				t.Fatalf("no piece %q", tt.piece)
			}
			for k, want := range tt.want {
				if got, set := p.Env[k]; got != want || (want == "" && set) {
					t.Errorf("%s: %s=%q (set %v), want %q", p.Name, k, got, set, want)
				}
			}
		})
	}
}

func TestPiecesOrderAndCommands(t *testing.T) {
	t.Parallel()
	pieces := config().Pieces()
	var names []string
	for _, p := range pieces {
		names = append(names, p.Name)
		// The command must exist where the description says: a moved command breaks this.
		if _, err := os.Stat(filepath.Join("..", "..", "..", p.Pkg, "main.go")); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if p.HealthURL() != "http://"+p.Addr+"/healthz" || p.Binary() != filepath.Base(p.Pkg) {
			t.Errorf("%s: health URL %s, binary %s", p.Name, p.HealthURL(), p.Binary())
		}
	}
	if want := []string{stack.DevIdP, stack.LocalAWS, stack.Services, stack.BFF}; !slices.Equal(names, want) {
		t.Errorf("start order %v, want %v", names, want)
	}
	if _, ok := config().Piece("idp"); ok {
		t.Error("Piece found an unknown name")
	}
}

func TestDevAddrs(t *testing.T) {
	t.Parallel()
	want := stack.Addrs{DevIdP: "localhost:9000", LocalAWS: "localhost:4566", Services: "localhost:8081", BFF: "localhost:8080"}
	if got := stack.DevAddrs(); got != want {
		t.Errorf("DevAddrs() = %+v, want %+v (docs/contracts.md)", got, want)
	}
}

func TestEnviron(t *testing.T) {
	t.Parallel()
	got := stack.Environ(
		map[string]string{"B": "1", "A": "x", "C": "keep"},
		stack.LocalAWSEnv("127.0.0.1:1002"),
		map[string]string{"A": "later wins", "C": ""},
	)
	want := []string{
		"A=later wins", "AWS_ACCESS_KEY_ID=portico-dev", "AWS_ENDPOINT_URL=http://127.0.0.1:1002",
		"AWS_REGION=us-east-1", "AWS_SECRET_ACCESS_KEY=portico-dev-secret", "B=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q\nwant      %q", got, want)
	}
}
