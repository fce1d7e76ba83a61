package main_test

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLambdaBuildLeavesSQLiteOut builds the BFF as `make build` ships it (CGO off, -tags
// lambda.norpc, -trimpath) and checks that SQLite (the sqlite: session store, about 4 MB of
// a stripped arm64 bootstrap) is not linked: on Lambda, sessions are in cookies or DynamoDB.
func TestLambdaBuildLeavesSQLiteOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", out, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lambda.norpc: %v\n%s", err, msg)
	}
	info, err := buildinfo.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range info.Deps {
		if strings.Contains(d.Path, "sqlite") {
			t.Errorf("the Lambda build links %s: SQLite must be left out", d.Path)
		}
	}
}
