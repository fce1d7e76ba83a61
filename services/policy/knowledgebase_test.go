package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/policy"
)

var kbs = map[string]string{"PORTICOHB1": "amazon.nova-lite-v1:0", "OTHERKB001": sonnet}

// TestKnowledgeBaseValidation is a table of knowledge-base grants the policy refuses.
func TestKnowledgeBaseValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want string // "line:col: fragment"; empty: valid
	}{
		{"granted with its model", "version: 1\ngroups:\n  - name: A\n    models: [amazon.nova-lite-v1:0]\n    knowledgeBases: [PORTICOHB1]\n", ""},
		{"scope granted with its model", "version: 1\nscopes:\n  - scope: s\n    models: [amazon.nova-lite-v1:0]\n    knowledgeBases: [PORTICOHB1]\n", ""},
		{"unknown knowledge base", "version: 1\ngroups:\n  - name: A\n    models: [amazon.nova-lite-v1:0]\n    knowledgeBases: [NOPE000000]\n", "5:22: knowledge base \"NOPE000000\" is not in the catalog"},
		{"without its model", "version: 1\ngroups:\n  - name: A\n    models: [amazon.nova-lite-v1:0]\n    knowledgeBases: [OTHERKB001]\n", "5:22: knowledge base \"OTHERKB001\" answers with model"},
		{"scope without its model", "version: 1\nscopes:\n  - scope: s\n    knowledgeBases: [PORTICOHB1]\n", "4:22: knowledge base \"PORTICOHB1\" answers with model"},
		{"twice", "version: 1\ngroups:\n  - name: A\n    models: [amazon.nova-lite-v1:0]\n    knowledgeBases: [PORTICOHB1, PORTICOHB1]\n", "5:34: knowledge base \"PORTICOHB1\" is listed twice"},
		{"empty", "version: 1\ngroups:\n  - name: A\n    knowledgeBases: [\"\"]\n", "4:22: knowledge base id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Parse([]byte(tt.doc), policy.WithModelIDs(catalog...), policy.WithKnowledgeBases(kbs))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid policy refused: %v", err)
				}
				return
			}
			var ve *policy.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("err = %v, want one problem", err)
			}
			if got := ve.Problems[0].String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("problem = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// TestKnowledgeBaseEntitlements: in the dev policy alice's MLUsers may use the handbook, bob
// (no group) may not, and machine clients get no knowledge base.
func TestKnowledgeBaseEntitlements(t *testing.T) {
	t.Parallel()
	p, err := policy.Default(policy.WithModelIDs(catalog...), policy.WithEndpointNames("portico-demo-llm"), policy.WithKnowledgeBases(kbs))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ent  policy.Entitlements
		want []string
	}{
		{"alice", p.Entitlements(person("MLUsers")), []string{"PORTICOHB1"}},
		{"dana", p.Entitlements(person("Administrators", "MLUsers")), []string{"PORTICOHB1"}},
		{"admin only", p.Entitlements(person("Administrators")), nil},
		{"bob", p.Entitlements(person()), nil},
		{"machine", p.Entitlements(machine("portico/inference")), nil},
	}
	for _, tt := range tests {
		if got := tt.ent.KnowledgeBaseIDs(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: KnowledgeBaseIDs = %v, want %v", tt.name, got, tt.want)
		}
		if got := tt.ent.AllowsKnowledgeBase("PORTICOHB1"); got != (len(tt.want) > 0) {
			t.Errorf("%s: AllowsKnowledgeBase = %v", tt.name, got)
		}
		if tt.ent.AllowsKnowledgeBase("OTHERKB001") {
			t.Errorf("%s: allowed an ungranted knowledge base", tt.name)
		}
	}
}
