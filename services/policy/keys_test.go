package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

func TestKeySettings(t *testing.T) {
	t.Parallel()
	def := devPolicy(t)
	if def.KeyMaxIdleDays() != 30 || def.KeyMaxIdle() != 30*24*time.Hour || def.KeyMaxExpiryDays() != 90 {
		t.Errorf("defaults: idle %d (%v), expiry %d", def.KeyMaxIdleDays(), def.KeyMaxIdle(), def.KeyMaxExpiryDays())
	}
	p, err := policy.Parse([]byte("version: 1\nkeyMaxIdleDays: 7\nkeyMaxExpiryDays: 365\ngroups:\n  - name: A\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.KeyMaxIdleDays() != 7 || p.KeyMaxExpiryDays() != 365 {
		t.Errorf("idle %d, expiry %d", p.KeyMaxIdleDays(), p.KeyMaxExpiryDays())
	}
	for doc, want := range map[string]string{
		"version: 1\nkeyMaxIdleDays: 0\n":                        "2:17: must be from 1 to 3650 days, got 0",
		"version: 1\nkeyMaxExpiryDays: -3\n":                     "2:19: must be from 1 to 3650 days, got -3",
		"version: 1\nkeyMaxExpiryDays: 4000\n":                   "2:19: must be from 1 to 3650 days, got 4000",
		"version: 1\ngroups:\n  - name: A\n    apiKeys: maybe\n": "4:14:",
	} {
		_, err := policy.Parse([]byte(doc))
		var ve *policy.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0].String(), want) {
			t.Errorf("Parse(%q) = %v, want one problem %q", doc, err, want)
		}
	}
}

func TestKeysAllowed(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte("version: 1\ngroups:\n  - name: A\n  - name: B\n    apiKeys: false\n  - name: C\n    apiKeys: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    *principal.Principal
		want bool
	}{
		{"member of a group", person("A"), true},
		{"apiKeys true", person("C"), true},
		{"apiKeys false", person("B"), false},
		{"any group false wins", person("A", "B", "C"), false},
		{"no policy group", person("Other"), false},
		{"no group", person(), false},
		{"machine client", machine("A"), false},
		{"nobody", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.KeysAllowed(tt.p); got != tt.want {
				t.Errorf("KeysAllowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyModels(t *testing.T) {
	t.Parallel()
	pol := devPolicy(t)
	key := person("MLUsers", "Administrators")
	key.APIKey = "portico_sk_abcdef"
	key.KeyModels = []string{"amazon.nova-lite-v1:0", "portico-demo-llm", sonnet}
	e := pol.Entitlements(key)
	if !e.AllowsModel("amazon.nova-lite-v1:0") || !e.AllowsModel(sonnet) || e.AllowsModel("amazon.nova-pro-v1:0") {
		t.Errorf("models: %v", e.ModelIDs())
	}
	if got := e.ModelIDs(); !slices.Equal(got, []string{"amazon.nova-lite-v1:0", sonnet}) {
		t.Errorf("ModelIDs = %v", got)
	}
	if !e.AllowsEndpoint("portico-demo-llm") || e.QuotasFor("amazon.nova-pro-v1:0") != nil || e.QuotasFor("amazon.nova-lite-v1:0") == nil {
		t.Errorf("endpoint or quotas wrong")
	}
	if e.UsageAdmin {
		t.Error("an API key is never a usage admin")
	}
	if _, _, ok := e.Guardrail("amazon.nova-pro-v1:0"); ok {
		t.Error("guardrail for a model the key may not use")
	}
	all := person("MLUsers")
	all.APIKey = "portico_sk_abcdef"
	if got := pol.Entitlements(all).ModelIDs(); len(got) != 7 {
		t.Errorf("unlimited key: ModelIDs = %v", got)
	}
}
