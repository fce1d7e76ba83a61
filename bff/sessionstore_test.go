package bff_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteSessionsSharedByInstances runs two BFFs on one SQLite session file, as two
// processes of one machine would: a session signed in on one works on the other, and logout
// on either ends it on both.
func TestSQLiteSessionsSharedByInstances(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "sessions.db")
	a := newStack(t, stackOptions{sessionStore: "sqlite:" + path})
	b := newStack(t, stackOptions{sessionStore: "sqlite:" + path})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the session file: %v", err)
	}
	onA := a.browser()
	onA.signIn("alice", "/")
	if resp, body := onA.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe on A: %s %s", resp.Status, body)
	}
	onB := b.browser()
	onB.restore(onA.snapshot())
	if resp, body := onB.call(http.MethodPost, getMe, "{}", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GetMe on B with A's ticket: %s %s", resp.Status, body)
	}
	if resp, _ := onB.call(http.MethodPost, "/auth/logout", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on B: %s", resp.Status)
	}
	resp, body := onA.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusUnauthorized || connectError(t, body) != "unauthenticated" {
		t.Fatalf("GetMe on A after logout on B: %s %s", resp.Status, body)
	}
}
