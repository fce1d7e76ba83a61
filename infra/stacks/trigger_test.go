package stacks

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGroupsTrigger runs the pre-token-generation trigger's Python with python3 on Cognito
// V2 events: mapped Entra group ids become Portico groups, Cognito groups stay, unmapped ids
// confer nothing.
func TestGroupsTrigger(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		// In CI a missing python3 is a broken machine, not a reason to skip: `make infra-test`
		// installs it (as root) before running these tests.
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 not installed (CI=true): `make infra-test` installs Debian's python3 as root")
		}
		t.Skip("python3 not installed: apt-get install python3, or run `make infra-test` as root")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.py"), []byte(groupsTriggerCode), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, groupsAttr string
		cognito          []string
		want             []string
	}{
		{"list", "[g-ml, g-other, g-admin]", []string{"pool_EntraID"}, []string{"Administrators", "MLUsers", "pool_EntraID"}},
		{"single value", "g-ml", nil, []string{"MLUsers"}},
		{"unmapped only", "[g-other]", nil, []string{}},
		{"local user", "", []string{"Administrators"}, []string{"Administrators"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			event := map[string]any{
				"request": map[string]any{
					"userAttributes":     map[string]any{"custom:groups": tt.groupsAttr},
					"groupConfiguration": map[string]any{"groupsToOverride": tt.cognito},
				},
				"response": map[string]any{},
			}
			in, _ := json.Marshal(event)
			cmd := exec.Command(py, "-c", "import json,sys,index; print(json.dumps(index.handler(json.load(sys.stdin), None)))")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), `PORTICO_ENTRA_GROUPS={"g-admin":"Administrators","g-ml":"MLUsers"}`)
			cmd.Stdin = bytes.NewReader(in)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v", err)
			}
			var got struct {
				Response struct {
					ClaimsAndScopeOverrideDetails struct {
						GroupOverrideDetails struct {
							GroupsToOverride []string `json:"groupsToOverride"`
						} `json:"groupOverrideDetails"`
					} `json:"claimsAndScopeOverrideDetails"`
				} `json:"response"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			g := got.Response.ClaimsAndScopeOverrideDetails.GroupOverrideDetails.GroupsToOverride
			if g == nil {
				g = []string{}
			}
			if !sameSet(g, tt.want) {
				t.Errorf("groups = %v, want %v", g, tt.want)
			}
		})
	}
}
