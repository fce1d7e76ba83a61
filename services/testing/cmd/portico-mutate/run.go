package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// copyTree copies the files of root that git tracks or would track (tracked, and untracked
// but not ignored: the working tree as the developer has it, without .tools, node_modules or
// build output) to dir.
func copyTree(ctx context.Context, root, dir string) error {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue // symlinks (e.g. a shared node_modules) and submodules stay behind
		}
		b, err := os.ReadFile(src) //nolint:gosec // G304: a file git lists in the repository
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// testEnv is the environment of the test runs: the process's, with PORTICO_DYNALITE pointing
// at the repository's dynalite when unset (the copy has no .tools).
func testEnv(root string) []string {
	env := os.Environ()
	if os.Getenv("PORTICO_DYNALITE") == "" {
		if p := filepath.Join(root, ".tools", "dynalite", "node_modules", ".bin", "dynalite"); fileExists(p) {
			env = append(env, "PORTICO_DYNALITE="+p)
		}
	}
	return env
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goTest runs go test -count=1 on pkgs in dir and returns its output.
func goTest(ctx context.Context, dir string, env []string, timeout time.Duration, pkgs []string) ([]byte, error) {
	args := append([]string{"test", "-count=1", "-timeout", timeout.String()}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: go test of the mutation list's packages
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// run applies m to the copy at dir, runs its packages' tests and restores the files.
func (m mutation) run(ctx context.Context, dir string, env []string, timeout time.Duration) (result, error) {
	files, err := m.apply(dir)
	if err != nil {
		return result{}, err
	}
	originals := map[string][]byte{}
	for name := range files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))) //nolint:gosec // G304: a file of the temporary copy
		if err != nil {
			return result{}, err
		}
		originals[name] = b
	}
	restore := func() error {
		var errs []error
		for name, b := range originals {
			errs = append(errs, os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b, 0o644)) //nolint:gosec // G306: the temporary copy
		}
		return errors.Join(errs...)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b, 0o644); err != nil { //nolint:gosec // G306: the temporary copy
			return result{}, errors.Join(err, restore())
		}
	}
	start := time.Now()
	out, testErr := goTest(ctx, dir, env, timeout, m.pkgs)
	took := time.Since(start)
	if err := restore(); err != nil {
		return result{}, fmt.Errorf("restore the copy: %w", err)
	}
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	caught, by, err := classify(out, testErr)
	if err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, tail(out, 40))
	}
	return result{m: m, caught: caught, by: by, took: took}, nil
}

var (
	failLine   = regexp.MustCompile(`^--- FAIL: (\S+)`)
	buildError = regexp.MustCompile(`(?m)\[(build|setup) failed\]|^# \S+\n`)
)

// classify reads a go test run: caught when it failed with failing tests (or a failing
// package: a panic or TestMain), with the top-level tests that failed; an error when the
// mutated code did not build, since a mutation must compile to say anything about the tests.
func classify(out []byte, testErr error) (caught bool, by []string, err error) {
	if testErr == nil {
		return false, nil, nil
	}
	var exit *exec.ExitError
	if !errors.As(testErr, &exit) {
		return false, nil, fmt.Errorf("go test: %w", testErr)
	}
	if buildError.Match(out) {
		return false, nil, errors.New("the mutated code does not compile (fix the mutation)")
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := failLine.FindStringSubmatch(sc.Text()); m != nil {
			top, _, _ := strings.Cut(m[1], "/")
			if !slices.Contains(by, top) {
				by = append(by, top)
			}
		}
	}
	if len(by) == 0 {
		by = []string{"the package (no test named: a panic or TestMain)"}
	}
	return true, by, nil
}
