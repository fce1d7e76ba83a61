package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testGroups is the Entra group mapping of the tests.
var testGroups = map[string]string{"g-admin": "Administrators", "g-ml": "MLUsers"}

// newTrigger returns a trigger with the test mapping, logging into buf.
func newTrigger(department bool, buf *bytes.Buffer) *trigger {
	return &trigger{
		cfg:    &config{entraGroups: testGroups, department: department},
		logger: slog.New(slog.NewJSONHandler(buf, nil)),
	}
}

// readEvent reads testdata/<name>.json.
func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decode decodes a JSON object, failing the test otherwise.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		t.Fatalf("not a JSON object (%v): %s", err, b)
	}
	return m
}

// TestTrigger answers the V2_0 events of testdata (in the shape of the Cognito developer
// guide's example event) with exactly the expected response: the department in the access
// token only, the mapped Entra groups added to Cognito's, nothing else; every other part of
// the event comes back as it came.
func TestTrigger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event string
		department  bool
		want        string
	}{
		{"federated user", "federated", true,
			`{"claimsAndScopeOverrideDetails":{"accessTokenGeneration":{"claimsToAddOrOverride":{"custom:department":"Research"}},"groupOverrideDetails":{"groupsToOverride":["MLUsers","us-east-1_EXAMPLE_EntraID"]}}}`},
		{"department copy turned off", "federated", false,
			`{"claimsAndScopeOverrideDetails":{"groupOverrideDetails":{"groupsToOverride":["MLUsers","us-east-1_EXAMPLE_EntraID"]}}}`},
		{"local user without attributes: no change", "local", true, `{}`},
		{"refresh: the attribute, never the client's metadata", "refresh", true,
			`{"claimsAndScopeOverrideDetails":{"accessTokenGeneration":{"claimsToAddOrOverride":{"custom:department":"Finance"}},"groupOverrideDetails":{"groupsToOverride":["Administrators"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			in := readEvent(t, tt.event)
			out, err := newTrigger(tt.department, &logs).Invoke(context.Background(), in)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			got, want := decode(t, out), decode(t, in)
			resp, _ := json.Marshal(got["response"])
			if string(resp) != tt.want {
				t.Errorf("response = %s\nwant       %s", resp, tt.want)
			}
			delete(got, "response")
			delete(want, "response")
			if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
				t.Errorf("the event changed outside its response:\n%s\nwant\n%s", a, b)
			}
			if logs.Len() != 0 {
				t.Errorf("logged for a readable event: %s", logs.String())
			}
		})
	}
}

// mustJSON is the canonical (sorted keys) JSON of v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWhatConfersNothing is a table of attempts to get a department or group the trigger must
// not give: each event is testdata/federated.json changed as the case says, and each answer
// must carry exactly the department and groups listed.
func TestWhatConfersNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		change     func(attrs, request map[string]any)
		department any      // the access token's custom:department, nil for none
		groups     []string // groupsToOverride, nil for no override
	}{
		{"a group's name instead of its Entra id", func(a, _ map[string]any) { a["custom:groups"] = "[Administrators, MLUsers]" },
			"Research", nil},
		{"an id differing in case", func(a, _ map[string]any) { a["custom:groups"] = "G-ADMIN" }, "Research", nil},
		{"no groups attribute", func(a, _ map[string]any) { delete(a, "custom:groups") }, "Research", nil},
		{"an empty department", func(a, _ map[string]any) { a["custom:department"] = "" },
			nil, []string{"MLUsers", "us-east-1_EXAMPLE_EntraID"}},
		{"the department only in the client's metadata", func(a, r map[string]any) {
			delete(a, "custom:department")
			r["clientMetadata"] = map[string]any{"custom:department": "Executive"}
		}, nil, []string{"MLUsers", "us-east-1_EXAMPLE_EntraID"}},
		{"the department under a standard attribute's name", func(a, _ map[string]any) {
			delete(a, "custom:department")
			a["department"] = "Executive"
		}, nil, []string{"MLUsers", "us-east-1_EXAMPLE_EntraID"}},
		{"a department that looks like JSON stays a string", func(a, _ map[string]any) { a["custom:department"] = `{"admin":true}` },
			`{"admin":true}`, []string{"MLUsers", "us-east-1_EXAMPLE_EntraID"}},
		{"no groupConfiguration: mapped groups only", func(_, r map[string]any) { r["groupConfiguration"] = nil },
			"Research", []string{"MLUsers"}},
		{"a group Cognito already gives is not added twice", func(_, r map[string]any) {
			r["groupConfiguration"] = map[string]any{"groupsToOverride": []string{"MLUsers"}}
		}, "Research", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			event := decode(t, readEvent(t, "federated"))
			request := event["request"].(map[string]any)
			tt.change(request["userAttributes"].(map[string]any), request)
			var logs bytes.Buffer
			out, err := newTrigger(true, &logs).Invoke(context.Background(), []byte(mustJSON(t, event)))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var got struct {
				Response struct {
					Details map[string]json.RawMessage `json:"claimsAndScopeOverrideDetails"`
				} `json:"response"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			d := got.Response.Details
			keys := []string{}
			for k := range maps.Keys(d) {
				if k != "accessTokenGeneration" && k != "groupOverrideDetails" {
					keys = append(keys, k)
				}
			}
			if len(keys) != 0 {
				t.Errorf("the response overrides %v too: %s", keys, out)
			}
			var access struct {
				Claims map[string]any `json:"claimsToAddOrOverride"`
			}
			if raw, ok := d["accessTokenGeneration"]; ok {
				if err := json.Unmarshal(raw, &access); err != nil || len(access.Claims) != 1 {
					t.Errorf("accessTokenGeneration = %s, want the department claim only", raw)
				}
			}
			if access.Claims[ClaimDepartment] != tt.department {
				t.Errorf("department claim = %#v, want %#v", access.Claims[ClaimDepartment], tt.department)
			}
			var groups struct {
				Groups []string `json:"groupsToOverride"`
			}
			if raw, ok := d["groupOverrideDetails"]; ok {
				if err := json.Unmarshal(raw, &groups); err != nil || groups.Groups == nil {
					t.Errorf("groupOverrideDetails = %s", raw)
				}
			}
			if mustJSON(t, groups.Groups) != mustJSON(t, tt.groups) {
				t.Errorf("groups = %v, want %v", groups.Groups, tt.groups)
			}
		})
	}
}

// TestUnreadableEventComesBackUnchanged: an event the trigger cannot read is returned byte for
// byte, with no error (the sign-in goes on, with Cognito's own tokens), and the log line says
// so without any of the event's content.
func TestUnreadableEventComesBackUnchanged(t *testing.T) {
	t.Parallel()
	const marker = "SECRET-VALUE"
	tests := []struct{ name, payload string }{
		{"not JSON", marker},
		{"truncated", `{"request":{"userAttributes":{"custom:department":"` + marker},
		{"an array", `["` + marker + `"]`},
		{"a string", `"` + marker + `"`},
		{"null", `null`},
		{"userAttributes not an object", `{"request":{"userAttributes":"` + marker + `"}}`},
		{"a department that is a number", `{"request":{"userAttributes":{"custom:department":73519,"email":"` + marker + `"}}}`},
		{"groupsToOverride not a list", `{"request":{"groupConfiguration":{"groupsToOverride":"` + marker + `"}}}`},
		{"request not an object", `{"request":["` + marker + `"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			out, err := newTrigger(true, &logs).Invoke(context.Background(), []byte(tt.payload))
			if err != nil {
				t.Errorf("Invoke: %v: a sign-in would fail", err)
			}
			if string(out) != tt.payload {
				t.Errorf("answer = %s, want the event unchanged", out)
			}
			if !strings.Contains(logs.String(), "returned unchanged") {
				t.Errorf("no log line: %q", logs.String())
			}
			if strings.Contains(logs.String(), marker) || strings.Contains(logs.String(), "73519") {
				t.Errorf("the log carries the event's content: %s", logs.String())
			}
		})
	}
}
