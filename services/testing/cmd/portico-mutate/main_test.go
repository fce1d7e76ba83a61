package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReplaceOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, old, new string
		want                string // "" when an error is expected
		wantErr             string
	}{
		{"once", "if a > 0 {", "a > 0", "false", "if false {", ""},
		{"absent", "if a > 0 {", "b > 0", "false", "", "not found"},
		{"twice", "a > 0 || a > 0", "a > 0", "false", "", "found 2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := replaceOnce([]byte(tt.src), tt.old, tt.new)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestApplySeveralEditsOfOneFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.go"), []byte("x := 1\ny := 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mutation{name: "both", edits: []edit{{"a.go", "x := 1", "x := 3"}, {"a.go", "y := 2", "y := 4"}}}
	files, err := m.apply(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["a.go"]); got != "x := 3\ny := 4\n" {
		t.Errorf("a.go = %q", got)
	}
	stale := mutation{name: "stale", edits: []edit{{"a.go", "z := 5", "z := 6"}, {"missing.go", "a", "b"}}}
	_, err = stale.apply(root)
	if err == nil || !strings.Contains(err.Error(), `"z := 5" not found`) || !strings.Contains(err.Error(), "missing.go") {
		t.Errorf("stale mutation: %v, want both edits named", err)
	}
}

// TestMutationsApply keeps the list true to the code: every mutation's text is found exactly
// once in the repository, and its packages exist. A failure here means the mutated code
// changed: update the mutation with it.
func TestMutationsApply(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			if _, err := m.apply(root); err != nil {
				t.Error(err)
			}
			if len(m.pkgs) == 0 {
				t.Error("no packages to test")
			}
			for _, p := range m.pkgs {
				if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(p, "/..."))); err != nil {
					t.Errorf("package %s: %v", p, err)
				}
			}
		})
		if names[m.name] {
			t.Errorf("two mutations named %q", m.name)
		}
		names[m.name] = true
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	exitErr := exec.Command("false").Run()
	var exit *exec.ExitError
	if !errors.As(exitErr, &exit) {
		t.Fatalf("false: %v", exitErr)
	}
	tests := []struct {
		name    string
		out     string
		err     error
		caught  bool
		by      []string
		wantErr bool
	}{
		{"tests pass", "ok  \tx/a\t0.1s\n", nil, false, nil, false},
		{"tests fail", "--- FAIL: TestVerify (0.00s)\n    --- FAIL: TestVerify/crit (0.00s)\n--- FAIL: TestOther (0.00s)\nFAIL\tx/a\t0.1s\n", exitErr, true, []string{"TestVerify", "TestOther"}, false},
		{"package fails", "panic: boom\nFAIL\tx/a\t0.1s\n", exitErr, true, []string{"the package (no test named: a panic or TestMain)"}, false},
		{"does not build", "# x/a\na.go:1:1: undefined: y\nFAIL\tx/a [build failed]\n", exitErr, false, nil, true},
		{"go missing", "", exec.ErrNotFound, false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			caught, by, err := classify([]byte(tt.out), tt.err)
			if (err != nil) != tt.wantErr || caught != tt.caught || !slices.Equal(by, tt.by) {
				t.Errorf("classify = %v, %v, %v; want %v, %v, error %v", caught, by, err, tt.caught, tt.by, tt.wantErr)
			}
		})
	}
}
