package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/portico-dev/portico/services/dev/stack"
)

// ExportRevision writes the tree of git revision rev of the repository at repo into dir
// (git archive: no worktree or index of the repository changes) and returns the
// revision's abbreviated commit hash.
func ExportRevision(ctx context.Context, repo, rev, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short", rev+"^{commit}").Output() //nolint:gosec // G204: git with the revision the user asked to compare against
	if err != nil {
		return "", fmt.Errorf("git rev-parse %s: %w", rev, err)
	}
	commit := strings.TrimSpace(string(out))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("export %s: %w", commit, err)
	}
	tarPath := filepath.Join(dir, ".source.tar")
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", "-o", tarPath, commit).CombinedOutput(); err != nil { //nolint:gosec // G204: as above
		return "", fmt.Errorf("git archive %s: %w: %s", commit, err, out)
	}
	if out, err := exec.CommandContext(ctx, "tar", "-x", "-f", tarPath, "-C", dir).CombinedOutput(); err != nil { //nolint:gosec // G204: as above
		return "", fmt.Errorf("untar %s: %w: %s", commit, err, out)
	}
	if err := os.Remove(tarPath); err != nil {
		return "", fmt.Errorf("export %s: %w", commit, err)
	}
	return commit, nil
}

// BuildBinariesOf builds the four server commands of the local stack from the module at
// root, which may be an older revision of Portico whose commands live elsewhere: each is
// found by its binary name (portico-devidp, portico-localaws, portico-services,
// portico-bff) among the module's main packages.
func BuildBinariesOf(ctx context.Context, root, dir string) (Binaries, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{if eq .Name \"main\"}}{{.Dir}}{{end}}", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("go list in %s: %w: %s", root, err, stderr.String())
	}
	byName := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if d := strings.TrimSpace(sc.Text()); d != "" {
			byName[filepath.Base(d)] = d
		}
	}
	pieces := stack.Config{}.Pieces()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range pieces {
		d, ok := byName[p.Binary()]
		if !ok {
			return Binaries{}, fmt.Errorf("%s: no main package named %s", root, p.Binary())
		}
		args = append(args, d)
	}
	build := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: go build of the packages found above
	build.Dir = root
	if msg, err := build.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build in %s: %w\n%s", root, err, msg)
	}
	bin := func(i int) string { return filepath.Join(dir, pieces[i].Binary()) }
	return Binaries{DevIdP: bin(0), LocalAWS: bin(1), Services: bin(2), BFF: bin(3)}, nil
}
