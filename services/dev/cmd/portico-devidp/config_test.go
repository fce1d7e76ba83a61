package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/platform/logs"
)

func TestFromEnv(t *testing.T) {
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
		wantErr []string
		check   func(t *testing.T, c *config, s *devidp.Server)
	}{
		{"defaults", env(), nil, func(t *testing.T, c *config, s *devidp.Server) {
			if c.addr != "localhost:9000" || c.logFormat != logs.Text {
				t.Errorf("addr %s, format %s", c.addr, c.logFormat)
			}
			if s.Issuer() != "http://localhost:9000" || s.RedirectURIs()[0] != "http://localhost:8080/auth/callback" {
				t.Errorf("issuer %s redirect %v", s.Issuer(), s.RedirectURIs())
			}
			if _, ok := s.User("alice"); !ok {
				t.Error("no alice")
			}
		}},
		{"everything", env(
			EnvAddr, "127.0.0.1:0",
			EnvLogFormat, "json",
			EnvIssuer, "http://127.0.0.1:9999/",
			EnvUsersFile, usersFile,
			EnvAccessTokenTTL, "30s",
			EnvRedirectURIs, "http://a/cb, http://b/cb",
		), nil, func(t *testing.T, c *config, s *devidp.Server) {
			if c.addr != "127.0.0.1:0" || c.logFormat != logs.JSON {
				t.Errorf("addr %s, format %s", c.addr, c.logFormat)
			}
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
		{"bad ttl", env(EnvRefreshTokenTTL, "30"), []string{EnvRefreshTokenTTL}, nil},
		{"negative ttl", env(EnvIDTokenTTL, "-1h"), []string{EnvIDTokenTTL}, nil},
		{"missing users file", env(EnvUsersFile, "/nonexistent/users.yaml"), []string{EnvUsersFile}, nil},
		{"bad log format", env(EnvLogFormat, "xml"), []string{EnvLogFormat}, nil},
		{"every problem at once", env(EnvLogFormat, "xml", EnvAccessTokenTTL, "0s", EnvUsersFile, "/nonexistent"),
			[]string{EnvLogFormat, EnvAccessTokenTTL, EnvUsersFile}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := fromEnv(tt.getenv)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v, want it to name %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := devidp.New(append(c.options, devidp.WithDataDir(t.TempDir()))...)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c, s)
		})
	}
}
