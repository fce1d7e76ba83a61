// Command portico-mutate checks that the tests catch known-dangerous changes (what `make
// mutate` runs). It copies the working tree (the files git tracks or would track) to a
// temporary directory, runs the tests of the mutated code's packages there once unmutated
// (they must pass), then applies each mutation of its list in turn to the copy — exact source
// text replaced, the original restored afterwards — and expects those tests to fail. The
// working tree is never modified. It writes a table of the mutations, the packages tested and
// whether the tests caught each (with the first failing tests) to -out, and exits 1 if any
// mutation survived, no longer applies (its text is not found exactly once) or does not
// compile.
//
// Usage:
//
//	go run ./services/testing/cmd/portico-mutate [-out docs/mutations.md] [-run regexp] [-timeout 10m]
//
// -run selects mutations by name; a run with -run writes no report unless -out is given.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// edit replaces old with new, which must occur exactly once, in file (relative to the module
// root).
type edit struct{ file, old, new string }

// mutation is a known-dangerous change and the packages whose tests must catch it.
type mutation struct {
	name  string
	pkgs  []string
	edits []edit
}

// result is the outcome of one mutation.
type result struct {
	m      mutation
	caught bool
	by     []string // the top-level tests that failed
	took   time.Duration
}

func main() {
	out := flag.String("out", "", "report path (default docs/mutations.md; none with -run)")
	run := flag.String("run", "", "only the mutations whose name matches this regular expression")
	timeout := flag.Duration("timeout", 10*time.Minute, "go test -timeout for each run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mutate(ctx, *out, *run, *timeout); err != nil {
		log.Fatalf("portico-mutate: %v", err)
	}
}

func mutate(ctx context.Context, out, run string, timeout time.Duration) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	selected := mutations
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		selected = slices.DeleteFunc(slices.Clone(mutations), func(m mutation) bool { return !re.MatchString(m.name) })
		if len(selected) == 0 {
			return fmt.Errorf("-run %q selects no mutation", run)
		}
	} else if out == "" {
		out = filepath.Join(root, "docs", "mutations.md")
	}
	// Every mutation must apply before anything runs: a stale one fails loudly.
	var stale []error
	for _, m := range selected {
		if _, err := m.apply(root); err != nil {
			stale = append(stale, err)
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("mutations that no longer apply (update services/testing/cmd/portico-mutate/mutations.go):\n%w", errors.Join(stale...))
	}

	dir, err := os.MkdirTemp("", "portico-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := copyTree(ctx, root, dir); err != nil {
		return fmt.Errorf("copy the tree: %w", err)
	}
	env := testEnv(root)
	var pkgs []string
	for _, m := range selected {
		for _, p := range m.pkgs {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	logf("copied the tree to %s; baseline: go test %s", dir, strings.Join(pkgs, " "))
	if o, err := goTest(ctx, dir, env, timeout, pkgs); err != nil {
		return fmt.Errorf("the unmutated tests fail, so no mutation can be judged: %w\n%s", err, tail(o, 40))
	}

	var results []result
	var problems []string
	start := time.Now()
	for i, m := range selected {
		logf("[%d/%d] %s: go test %s", i+1, len(selected), m.name, strings.Join(m.pkgs, " "))
		r, err := m.run(ctx, dir, env, timeout)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		results = append(results, r)
		if r.caught {
			logf("    caught by %s (%s)", strings.Join(r.by, ", "), r.took.Round(time.Second))
		} else {
			logf("    NOT CAUGHT (%s)", r.took.Round(time.Second))
			problems = append(problems, m.name)
		}
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(report(results, commit(ctx, root), time.Since(start))), 0o644); err != nil { //nolint:gosec // G306: a checked-in document
			return err
		}
		logf("wrote %s", out)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d of %d mutations not caught: %s", len(problems), len(results), strings.Join(problems, "; "))
	}
	logf("all %d mutations caught", len(results))
	return nil
}

// moduleRoot finds the directory holding go.mod, upwards from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s portico-mutate: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// commit names the tree: the short commit, with "+changes" when the working tree differs.
func commit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "+changes"
	}
	return c
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
