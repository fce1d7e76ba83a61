package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// fuzzTarget is one Go fuzz target.
type fuzzTarget struct{ pkg, name string }

var fuzzFunc = regexp.MustCompile(`^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

// findFuzzTargets lists the fuzz targets of the Go packages under dirs (relative to root).
func findFuzzTargets(root string, dirs ...string) ([]fuzzTarget, error) {
	var out []fuzzTarget
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() && (de.Name() == "node_modules" || de.Name() == "testdata" || strings.HasPrefix(de.Name(), ".")) {
				return filepath.SkipDir
			}
			if de.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := os.Open(path) //nolint:gosec // G304: a _test.go file of the repository's own tree
			if err != nil {
				return err
			}
			defer f.Close()
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m := fuzzFunc.FindStringSubmatch(sc.Text()); m != nil {
					out = append(out, fuzzTarget{pkg: "./" + filepath.ToSlash(rel), name: m[1]})
				}
			}
			return sc.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b fuzzTarget) int { return strings.Compare(a.pkg+a.name, b.pkg+b.name) })
	return out, nil
}

// runFuzz runs every fuzz target for d each, one after the other (go test -fuzz takes one
// target of one package), and fails if any finds a crasher; the failing input is kept by
// go test under the package's testdata/fuzz for the regression run.
func runFuzz(ctx context.Context, d time.Duration) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	targets, err := findFuzzTargets(root, "services", "bff")
	if err != nil {
		return err
	}
	var failed []string
	for _, t := range targets {
		corpus := filepath.Join(root, t.pkg, "testdata", "fuzz", t.name)
		before := corpusFiles(corpus)
		args := []string{"test", "-run", "^$", "-fuzz", "^" + t.name + "$", "-fuzztime", d.String(), t.pkg}
		logf("go %s", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: go test -fuzz of a target found in the repository's own tests
		cmd.Dir = root
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = io.MultiWriter(os.Stderr, &out), io.MultiWriter(os.Stderr, &out)
		err := cmd.Run()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if deadlineRace(out.String(), before, corpusFiles(corpus)) {
				logf("%s %s: go's fuzz coordinator reported its own -fuzztime deadline and wrote no failing input (golang/go#75804, fixed in Go 1.27): not a finding", t.pkg, t.name)
				continue
			}
			failed = append(failed, t.pkg+" "+t.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("fuzzing found failures in: %s", strings.Join(failed, ", "))
	}
	logf("%d fuzz targets ran %s each without a failure", len(targets), d)
	return nil
}

// corpusFiles lists the inputs in a target's testdata/fuzz folder (none when it is absent).
func corpusFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// deadlineRace reports whether a failed go test -fuzz run is Go 1.26's coordinator race
// (golang/go#75804): the run's only complaint is "context deadline exceeded" as -fuzztime
// ends, and no failing input was written to the corpus. A real finding always writes one.
func deadlineRace(output string, before, after []string) bool {
	if len(after) > len(before) || !strings.Contains(output, "\n    context deadline exceeded\n") {
		return false
	}
	return !strings.Contains(output, "Failing input written to") && !strings.Contains(output, "panic:")
}
