package layout_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/portico-dev/portico/services/testing/layout"
)

// root is the module root, from this package's directory.
var root = filepath.Join("..", "..", "..")

func TestImportDirections(t *testing.T) {
	t.Parallel()
	imports, err := layout.Imports(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imports {
		if err := layout.Check(im.From, im.To, im.Test); err != nil {
			t.Errorf("%s: %v", im.File, err)
		}
	}
	// The walk must have seen the tree: edges that exist today, across rooms.
	for _, want := range []layout.Import{
		{File: "bff/cmd/portico-bff/main.go", From: "bff/cmd/portico-bff", To: "services/platform/lambdahttp"},
		{File: "services/dev/stack/stack.go", From: "services/dev/stack", To: "services/dev/devidp"},
		{File: "services/testing/layout/layout_test.go", From: "services/testing/layout", To: "services/testing/layout", Test: true},
	} {
		if !slices.Contains(imports, want) {
			t.Errorf("the walk missed %+v", want)
		}
	}
}

func TestCheckRefusesForbiddenImports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to string
		test     bool
	}{
		{"a shipped command runs the dev IdP", "services/cmd/portico-services", "services/dev/devidp", false},
		{"a shipped command uses a test instrument", "services/cmd/portico-services", "services/testing/dynalitetest", false},
		{"the BFF's command uses the dev IdP", "bff/cmd/portico-bff", "services/dev/devidp", false},
		{"a domain package imports the local AWS endpoint", "services/bedrock", "services/dev/localaws", false},
		{"a domain package imports the bench", "services/inference", "services/testing/bench", false},
		{"the BFF reaches into a domain package", "bff/proxy", "services/principal", false},
		{"the BFF reaches into the store", "bff/session/dynamosession", "services/store", false},
		{"a BFF test reaches into a domain package", "bff", "services/token/tokentest", true},
		{"platform imports a domain package", "services/platform/server", "services/principal", false},
		{"a platform test imports a domain package", "services/platform/server", "services/principal", true},
		{"platform imports the BFF", "services/platform/telemetry", "bff/requestid", false},
		{"platform imports the dev IdP", "services/platform/lambdahttp", "services/dev/devidp", false},
		{"a domain package imports the BFF", "services/inference", "bff/proxy", false},
		{"generated code imports a service", "gen/go/portico/type/v1", "services/catalog", false},
		{"a dev stand-in imports a test instrument", "services/dev/devidp", "services/testing/bench", false},
		{"the launcher imports the BFF", "services/dev/cmd/portico-dev", "bff/config", false},
		{"a command links a contract suite", "services/cmd/portico-services", "services/store/storetest", false},
		{"a store links the token test helper", "services/store/sqlitestore", "services/token/tokentest", false},
		{"the BFF links its session contract suite", "bff/session/dynamosession", "bff/session/sessiontest", false},
		{"platform links its own test helper", "services/platform/lambdahttp", "services/platform/server/servertest", false},
		{"the dev IdP's command links its test helper", "services/dev/cmd/portico-devidp", "services/dev/devidp/devidptest", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := layout.Check(tt.from, tt.to, tt.test); err == nil {
				t.Errorf("Check(%q, %q, test=%v) allowed it", tt.from, tt.to, tt.test)
			}
		})
	}
}

func TestCheckAllowsTheLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to string
		test     bool
	}{
		{"a command wires the domain", "services/cmd/portico-services", "services/inference", false},
		{"the BFF uses platform", "bff/cmd/portico-bff", "services/platform/httpserve", false},
		{"the BFF uses the generated clients", "bff/proxy", "gen/go/portico/inference/v1/inferencev1connect", false},
		{"a BFF test runs the dev IdP", "bff", "services/dev/devidp/devidptest", true},
		{"a store test runs dynalite", "services/store/dynamostore", "services/testing/dynalitetest", true},
		{"platform uses the API's shared types", "services/platform/awsrt", "gen/go/portico/type/v1", false},
		{"a domain package uses platform", "services/inference", "services/platform/telemetry", false},
		{"the launcher runs the dev IdP", "services/dev/cmd/portico-dev", "services/dev/devidp", false},
		{"the bench drives the dev stack", "services/testing/bench", "services/dev/stack", false},
		{"the fault tests drive the BFF", "services/testing/faults", "bff/proxy", true},
		{"anything uses the standard library", "services/platform/server", "net/http", false},
		{"a store test runs its contract suite", "services/store/sqlitestore", "services/store/storetest", true},
		{"the bench uses the dev IdP's test helper", "services/testing/bench", "services/dev/devidp/devidptest", false},
		{"a test fixture under internal/ uses a test helper", "services/platform/lambdahttp/internal/echoserver", "services/platform/server/servertest", false},
		{"net/http/httptest is not ours", "services/platform/server", "net/http/httptest", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := layout.Check(tt.from, tt.to, tt.test); err != nil {
				t.Errorf("Check refused: %v", err)
			}
		})
	}
}

func TestRoomOf(t *testing.T) {
	t.Parallel()
	tests := map[string]layout.Room{
		"gen/go/portico/type/v1":       layout.Gen,
		"services/platform":            layout.Platform,
		"services/platform/server":     layout.Platform,
		"services/platformer":          layout.Domain, // a prefix is not a folder
		"services/dev/cmd/portico-dev": layout.Dev,
		"services/testing/bench":       layout.Testing,
		"services/cmd/portico":         layout.Domain,
		"services/store/dynamostore":   layout.Domain,
		"bff/cmd/portico-bff":          layout.BFF,
		"bffx":                         layout.Other,
		"connectrpc.com/connect":       layout.Other,
	}
	for path, want := range tests {
		if got := layout.RoomOf(path); got != want {
			t.Errorf("RoomOf(%q) = %s, want %s", path, got, want)
		}
	}
}
