// Package cmd_test checks that docs/contracts.md documents exactly the environment the
// commands read.
package cmd_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// envName is the shape of every variable a Portico binary reads: Portico's own, the
// OpenTelemetry standard ones and the AWS ones.
var envName = regexp.MustCompile(`^(PORTICO|OTEL|AWS)_[A-Z0-9_]+$`)

// setters are the directories whose code sets variables for other processes (the dev
// launcher, the bench harness) rather than reading them: a name found only there is not
// read by anything unless the AWS SDK reads it.
var setters = []string{"services/dev/stack", "services/dev/cmd/portico-dev", "services/testing/bench"}

// sdkRead are the variables the AWS SDK (aws-sdk-go-v2/config.LoadDefaultConfig) reads for
// the services, which Portico's code only sets (the launcher points them at localaws).
var sdkRead = []string{"AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"}

// codeNames returns every string literal shaped like a variable name in the non-test Go
// files under services/ and bff/, split into the names some reader's code holds and those
// only setters hold.
func codeNames(t *testing.T, root string) (read, setOnly map[string][]string) {
	t.Helper()
	read, set := map[string][]string{}, map[string][]string{}
	for _, dir := range []string{"services", "bff"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			into := read
			if slices.ContainsFunc(setters, func(s string) bool { return strings.HasPrefix(rel, s+"/") }) {
				into = set
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
						into[s] = append(into[s], rel)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setOnly = map[string][]string{}
	for name, files := range set {
		if _, ok := read[name]; !ok {
			setOnly[name] = files
		}
	}
	return read, setOnly
}

// docNames returns every `NAME` in backquotes in the document that is shaped like a
// variable name.
func docNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Z0-9_]+)`").FindAllStringSubmatch(string(data), -1) {
		if envName.MatchString(m[1]) {
			out[m[1]] = true
		}
	}
	return out
}

// TestContractsListEveryVariable: every variable any binary reads is in docs/contracts.md,
// and every variable documented there is read by some binary (or by the AWS SDK on the
// services' behalf).
func TestContractsListEveryVariable(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	read, setOnly := codeNames(t, root)
	documented := docNames(t, filepath.Join(root, "docs", "contracts.md"))

	// Guards against a scan or a parse that finds nothing and so passes: names every
	// binary's configuration is known to read, and a table of a plausible size.
	for _, name := range []string{"PORTICO_ENV", "PORTICO_BFF_CLIENT_IDS", "PORTICO_ISSUER", "PORTICO_COOKIE_KEYS",
		"PORTICO_IDP_ISSUER", "PORTICO_LOCALAWS_ADDR", "PORTICO_LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "AWS_LAMBDA_RUNTIME_API"} {
		if _, ok := read[name]; !ok {
			t.Errorf("the scan of the sources did not find %s: is the scan broken?", name)
		}
	}
	if len(read) < 50 || len(documented) < 50 {
		t.Fatalf("found %d names in the code and %d in docs/contracts.md: the scan is broken", len(read), len(documented))
	}

	for _, name := range slices.Sorted(maps.Keys(read)) {
		if files := read[name]; !documented[name] {
			t.Errorf("%s is read by %v but not documented in docs/contracts.md", name, files)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(setOnly)) {
		if files := setOnly[name]; !slices.Contains(sdkRead, name) {
			t.Errorf("%s is only set (by %v), never read: remove it, or read it", name, files)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(documented)) {
		if _, ok := read[name]; !ok && !slices.Contains(sdkRead, name) {
			t.Errorf("docs/contracts.md documents %s, which no binary reads", name)
		}
	}
	for _, name := range sdkRead {
		if !documented[name] {
			t.Errorf("%s (read by the AWS SDK) is not documented in docs/contracts.md", name)
		}
	}
}
