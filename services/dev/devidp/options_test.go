package devidp_test

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/dev/devidp"
)

func TestDefaultUsers(t *testing.T) {
	t.Parallel()
	users := devidp.DefaultUsers()
	if len(users) != 4 {
		t.Fatalf("%d default users, want 4", len(users))
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

func TestNewRejectsBadIssuer(t *testing.T) {
	t.Parallel()
	for _, iss := range []string{"", "localhost:9000", "ftp://x", "http://"} {
		if _, err := devidp.New(devidp.WithIssuer(iss)); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
}
