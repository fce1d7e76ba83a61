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
