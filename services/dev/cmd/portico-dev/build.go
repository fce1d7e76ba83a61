package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// goBuild builds the pieces' commands into binDir with one go build, so they share work.
func goBuild(ctx context.Context, con *console, root, binDir string, env []string, pieces []piece) error {
	if len(pieces) == 0 {
		return nil
	}
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", binDir, err)
	}
	args := []string{"build", "-o", binDir + string(filepath.Separator)}
	for _, p := range pieces {
		args = append(args, "./"+p.Pkg)
	}
	con.printf("go %s", strings.Join(args, " "))
	return runLogged(ctx, con, "build", root, env, "go", args...)
}

// spaStale reports whether the built SPA is missing or older than any file in frontend/src.
// It reports false when there is no Angular app.
func spaStale(root string) (bool, error) {
	frontend := filepath.Join(root, "frontend")
	if _, err := os.Stat(filepath.Join(frontend, "angular.json")); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("stat Angular app: %w", err)
	}
	index, err := os.Stat(filepath.Join(frontend, "dist", "portico", "browser", "index.html"))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat built SPA: %w", err)
	}
	newest, err := newestModTime(filepath.Join(frontend, "src"))
	if err != nil {
		return false, err
	}
	return newest.After(index.ModTime()), nil
}

// newestModTime returns the latest modification time of the files under dir.
func newestModTime(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("scan %s: %w", dir, err)
	}
	return newest, nil
}

// buildSPA runs npm run build in frontend/.
func buildSPA(ctx context.Context, con *console, root string, env []string) error {
	frontend := filepath.Join(root, "frontend")
	if _, err := os.Stat(filepath.Join(frontend, "node_modules")); err != nil {
		return errors.New("frontend/node_modules is missing: run `make tools` (make dev does it) first")
	}
	con.printf("building the SPA: npm run build (in frontend/)")
	if err := runLogged(ctx, con, "spa", frontend, env, "npm", "run", "build"); err != nil {
		return fmt.Errorf("build the SPA: %w", err)
	}
	return nil
}

// runLogged runs a build command with its output on the console under name.
func runLogged(ctx context.Context, con *console, name, dir string, env []string, path string, args ...string) error {
	t := newTail(tailLines)
	out := &lineWriter{name: name, console: con, tail: t}
	cmd := exec.CommandContext(ctx, lookPath(path, env), args...) //nolint:gosec // fixed build commands (go, npm)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	out.flush()
	if err != nil {
		return fmt.Errorf("%s %s: %w", path, strings.Join(args, " "), err)
	}
	return nil
}

// lookPath finds file on the PATH of env (the children's PATH, which puts the pinned tools
// first), falling back to the launcher's own PATH.
func lookPath(file string, env []string) string {
	for _, kv := range env {
		path, ok := strings.CutPrefix(kv, "PATH=")
		if !ok {
			continue
		}
		for _, dir := range filepath.SplitList(path) {
			candidate := filepath.Join(dir, file)
			if info, err := os.Stat(candidate); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
				return candidate
			}
		}
	}
	return file
}
