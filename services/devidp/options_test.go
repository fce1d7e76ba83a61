package devidp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/devidp"
)

func TestDefaultUsers(t *testing.T) {
	t.Parallel()
	users := devidp.DefaultUsers()
	if len(users) != 3 {
		t.Fatalf("%d default users, want 3", len(users))
	}
	seen := map[string]bool{}
	for _, u := range users {
		if u.Password != devidp.DevPassword || u.Subject == "" || seen[u.Subject] {
			t.Errorf("%s: password %q subject %q", u.Username, u.Password, u.Subject)
		}
		seen[u.Subject] = true
	}
	// Subjects are stable across runs.
	if again := devidp.DefaultUsers(); again[0].Subject != users[0].Subject {
		t.Error("subject differs between loads")
	}
}

func TestParseUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"ok", "users:\n  - {username: eve, password: pw, groups: [X]}\n", ""},
		{"fixed sub", "users:\n  - {username: eve, password: pw, sub: abc}\n", ""},
		{"empty", "users: []\n", "no users"},
		{"no password", "users:\n  - {username: eve}\n", "required"},
		{"duplicate", "users:\n  - {username: eve, password: a}\n  - {username: eve, password: b}\n", "duplicate"},
		{"unknown field", "users:\n  - {username: eve, password: a, grups: [X]}\n", "grups"},
		{"not yaml", "users: [", "parse users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			users, err := devidp.ParseUsers([]byte(tt.yaml))
			if tt.wantErr == "" {
				if err != nil || len(users) != 1 || users[0].Subject == "" {
					t.Fatalf("users %v err %v", users, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnvOptions(t *testing.T) {
	t.Parallel()
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(usersFile, []byte("users:\n  - {username: eve, password: pw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		getenv  func(string) string
		wantErr string
		check   func(t *testing.T, s *devidp.Server)
	}{
		{"defaults", env(devidp.EnvDataDir, ""), "", func(t *testing.T, s *devidp.Server) {
			if s.Issuer() != "http://localhost:9000" || s.RedirectURIs()[0] != "http://localhost:8080/auth/callback" {
				t.Errorf("issuer %s redirect %v", s.Issuer(), s.RedirectURIs())
			}
			if _, ok := s.User("alice"); !ok {
				t.Error("no alice")
			}
		}},
		{"everything", env(
			devidp.EnvIssuer, "http://127.0.0.1:9999/",
			devidp.EnvUsersFile, usersFile,
			devidp.EnvAccessTokenTTL, "30s",
			devidp.EnvRedirectURIs, "http://a/cb, http://b/cb",
		), "", func(t *testing.T, s *devidp.Server) {
			if s.Issuer() != "http://127.0.0.1:9999" {
				t.Errorf("issuer %s", s.Issuer())
			}
			if got := s.RedirectURIs(); len(got) != 2 || got[1] != "http://b/cb" {
				t.Errorf("redirect URIs %v", got)
			}
			if _, ok := s.User("eve"); !ok {
				t.Error("users file ignored")
			}
		}},
		{"bad ttl", env(devidp.EnvRefreshTokenTTL, "30"), devidp.EnvRefreshTokenTTL, nil},
		{"negative ttl", env(devidp.EnvIDTokenTTL, "-1h"), devidp.EnvIDTokenTTL, nil},
		{"missing users file", env(devidp.EnvUsersFile, "/nonexistent/users.yaml"), devidp.EnvUsersFile, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := devidp.EnvOptions(tt.getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to name %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := devidp.New(append(opts, devidp.WithDataDir(t.TempDir()))...)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestNewRejectsBadIssuer(t *testing.T) {
	t.Parallel()
	for _, iss := range []string{"", "localhost:9000", "ftp://x", "http://"} {
		if _, err := devidp.New(devidp.WithIssuer(iss)); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
}
