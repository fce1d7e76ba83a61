package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PORTICO_POLICY_FILE": filepath.Join(t.TempDir(), "missing.yaml")}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := build(func(k string) string { return env[k] }, logger); err == nil {
		t.Error("a missing policy file was accepted")
	}
	env = map[string]string{"PORTICO_CLIENT_IDS": " , "}
	if _, err := build(func(k string) string { return env[k] }, logger); err == nil {
		t.Error("an empty client list was accepted")
	}
	if _, err := build(func(string) string { return "" }, logger); err != nil {
		t.Errorf("defaults: %v", err)
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
