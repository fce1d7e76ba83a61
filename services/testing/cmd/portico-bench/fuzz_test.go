package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFindFuzzTargets(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{
		"services/a/a_test.go":             "package a\n\nfunc FuzzOne(f *testing.F) {}\nfunc FuzzTwo(f *testing.F) {}\nfunc TestX(t *testing.T) {}\n",
		"services/a/b.go":                  "package a\n\nfunc FuzzNotATest(f *testing.F) {}\n",
		"bff/c/c_test.go":                  "package c\n\nfunc FuzzThree(f *testing.F) {}\n",
		"bff/node_modules/x/x_test.go":     "package x\n\nfunc FuzzVendored(f *testing.F) {}\n",
		"services/a/testdata/fuzz_test.go": "package a\n\nfunc FuzzData(f *testing.F) {}\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := findFuzzTargets(root, "services", "bff")
	if err != nil {
		t.Fatal(err)
	}
	want := []fuzzTarget{{"./bff/c", "FuzzThree"}, {"./services/a", "FuzzOne"}, {"./services/a", "FuzzTwo"}}
	if !slices.Equal(got, want) {
		t.Errorf("targets = %v, want %v", got, want)
	}
}

func TestDeadlineRace(t *testing.T) {
	t.Parallel()
	const race = "fuzz: elapsed: 5s, execs: 50935 (10237/sec), new interesting: 17 (total: 125)\n--- FAIL: FuzzParseConverse (5.08s)\n    context deadline exceeded\nFAIL\nexit status 1\n"
	const finding = "--- FAIL: FuzzX (0.21s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:12: boom\n    \n    Failing input written to testdata/fuzz/FuzzX/582528ddfad69eb5\n    To re-run:\n    go test -run=FuzzX/582528ddfad69eb5\nFAIL\n"
	const panicked = "--- FAIL: FuzzX (5.01s)\n    context deadline exceeded\npanic: runtime error: index out of range\n"
	tests := []struct {
		name          string
		output        string
		before, after []string
		want          bool
	}{
		{"the coordinator's own deadline, nothing written", race, []string{"seed"}, []string{"seed"}, true},
		{"a finding writes its input", finding, []string{"seed"}, []string{"seed", "582528ddfad69eb5"}, false},
		{"a finding's message even if the file was not seen", finding, nil, nil, false},
		{"the deadline message but a new input", race, []string{"seed"}, []string{"seed", "abc"}, false},
		{"a panic is a finding", panicked, nil, nil, false},
		{"any other failure", "--- FAIL: FuzzX (0.00s)\n    build failed\n", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := deadlineRace(tt.output, tt.before, tt.after); got != tt.want {
				t.Errorf("deadlineRace = %v, want %v", got, tt.want)
			}
		})
	}
}
