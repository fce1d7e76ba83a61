// Package layout states which of the module's packages may import which, and checks every
// Go file of the module against it (TestImportDirections, part of `go test ./...` and so of
// `make test`). docs/architecture.md draws the same map.
//
// The rooms of the tree, by import path under the module:
//
//	gen/...               generated API code: imports nothing of ours but gen
//	services/platform/... runtime plumbing both the BFF and the services use: imports only
//	                      platform and gen (never a domain package, the BFF, dev or testing)
//	services/<domain>/... the RPC handlers, domain, stores and provider adapters, and the
//	services/cmd/...      shipped commands: never dev, testing or the BFF
//	bff/...               the BFF: reaches services/ only through services/platform/
//	services/dev/...      what only `make dev` runs (dev IdP, local AWS, launcher, the stack
//	                      description): imports anything but testing
//	services/testing/...  instruments (bench, faults, dynalitetest, portico-bench, portico-mutate)
//
// Test files (_test.go) may in addition import dev and testing packages: tests stand up the
// dev IdP, the local AWS endpoint and dynalite. They still may not cross the other lines
// (a platform test does not import a domain package, a BFF test reaches services/ only
// through platform, dev or testing).
//
// A test helper package beside the package it serves (its name ends in "test", as
// net/http/httptest: servertest, storetest, tokentest, sessiontest, devidptest) never
// ships either: only test files, the testing room and test fixtures kept under an internal/
// folder (lambdahttp/internal/echoserver) may import one.
package layout

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Room is a part of the tree that the rules treat alike.
type Room string

// The rooms, by import path under the module.
const (
	Gen      Room = "gen"
	Platform Room = "platform"
	Domain   Room = "domain" // services/ outside platform, dev and testing, with services/cmd
	BFF      Room = "bff"
	Dev      Room = "dev"
	Testing  Room = "testing"
	Other    Room = "other" // not of this module (the standard library, dependencies)
)

// RoomOf places a package given its import path relative to the module ("services/store");
// a path outside the module is Other.
func RoomOf(rel string) Room {
	under := func(dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }
	switch {
	case under("gen"):
		return Gen
	case under("services/platform"):
		return Platform
	case under("services/dev"):
		return Dev
	case under("services/testing"):
		return Testing
	case under("services"):
		return Domain
	case under("bff"):
		return BFF
	}
	return Other
}

// allowed lists, for each importing room, the rooms its non-test files may import.
var allowed = map[Room][]Room{
	Gen:      {Gen},
	Platform: {Platform, Gen},
	Domain:   {Domain, Platform, Gen},
	BFF:      {BFF, Platform, Gen},
	Dev:      {Dev, Domain, Platform, Gen},
	Testing:  {Testing, Dev, Domain, Platform, Gen, BFF},
}

// testAlso are the rooms a test file may import beyond its room's.
var testAlso = []Room{Dev, Testing}

// Check reports why a file in package from (relative import path) may not import to
// (relative import path, or a path outside the module), or nil when it may. test tells a
// _test.go file.
func Check(from, to string, test bool) error {
	fr, tr := RoomOf(from), RoomOf(to)
	if tr == Other || fr == Other {
		return nil
	}
	if IsTestHelper(to) && !test && fr != Testing && !strings.Contains(from+"/", "/internal/") {
		return fmt.Errorf("%s (%s) may not import the test helper %s from its code", from, fr, to)
	}
	ok := slices.Contains(allowed[fr], tr) || (test && slices.Contains(testAlso, tr))
	if !ok {
		kind := "its code"
		if test {
			kind = "its tests"
		}
		return fmt.Errorf("%s (%s) may not import %s (%s) from %s", from, fr, to, tr, kind)
	}
	return nil
}

// IsTestHelper tells a test helper package by its import path: its last element ends in
// "test" (storetest, devidptest, dynalitetest).
func IsTestHelper(path string) bool {
	return strings.HasSuffix(path[strings.LastIndex(path, "/")+1:], "test")
}

// Import is one import of one Go file.
type Import struct {
	// File is the file's path relative to the module root.
	File string
	// From is the importing package's import path relative to the module; To the imported
	// path, relative to the module when it is in it.
	From, To string
	// Test tells a _test.go file.
	Test bool
}

// Imports reads the import clause of every Go file under root (the module root, whose
// go.mod names the module), whatever its build tags, skipping testdata, node_modules and
// nested modules.
func Imports(root string) ([]Import, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	var out []Import
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module (infra/)
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, spec := range f.Imports {
			to, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if r, ok := strings.CutPrefix(to, mod+"/"); ok {
				to = r
			}
			out = append(out, Import{File: rel, From: filepath.ToSlash(filepath.Dir(rel)), To: to, Test: strings.HasSuffix(rel, "_test.go")})
		}
		return nil
	})
	return out, err
}

func modulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod")) //nolint:gosec // G304: the module's own go.mod
	if err != nil {
		return "", fmt.Errorf("go.mod: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	mod, ok := strings.CutPrefix(strings.TrimSpace(line), "module ")
	if !ok {
		return "", fmt.Errorf("go.mod: first line %q is not a module line", line)
	}
	return strings.TrimSpace(mod), nil
}
