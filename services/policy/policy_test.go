package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
)

var catalog = []string{
	"us.anthropic.claude-sonnet-4-20250514-v1:0",
	"anthropic.claude-3-5-haiku-20241022-v1:0",
	"amazon.nova-pro-v1:0",
	"amazon.nova-lite-v1:0",
	"amazon.titan-text-express-v1",
	"meta.llama3-1-70b-instruct-v1:0",
	"mistral.mistral-large-2407-v1:0",
	"ai21.jamba-1-5-mini-v1:0",
}

const sonnet = "us.anthropic.claude-sonnet-4-20250514-v1:0"

func person(groups ...string) *principal.Principal {
	slices.Sort(groups)
	return &principal.Principal{Kind: principal.KindPerson, Subject: "s", Username: "u", Groups: groups}
}

func machine(scopes ...string) *principal.Principal {
	slices.Sort(scopes)
	return &principal.Principal{Kind: principal.KindMachine, Subject: "m", Username: "m", Scopes: scopes}
}

func devPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Default(policy.WithModelIDs(catalog...), policy.WithEndpointNames("portico-demo-llm"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDevPolicy(t *testing.T) {
	t.Parallel()
	p := devPolicy(t)
	tests := []struct {
		name       string
		pr         *principal.Principal
		models     int
		sonnet     bool
		endpoint   bool
		usageAdmin bool
		known      bool
	}{
		{"nil", nil, 0, false, false, false, false},
		{"bob, no group", person(), 0, false, false, false, false},
		{"unknown group", person("Sales"), 0, false, false, false, false},
		{"alice, MLUsers", person("MLUsers"), 7, false, true, false, true},
		{"dana, Administrators and MLUsers", person("Administrators", "MLUsers"), 8, true, true, true, true},
		{"machine with inference", machine("portico/inference"), 2, false, false, false, true},
		{"machine with identity only", machine("portico/identity"), 0, false, false, false, true},
		{"machine without scopes", machine(), 0, false, false, false, false},
		{"machine claiming a group", &principal.Principal{Kind: principal.KindMachine, Groups: []string{"Administrators"}}, 0, false, false, false, false},
		{"person holding a machine scope", &principal.Principal{Kind: principal.KindPerson, Scopes: []string{"portico/inference"}}, 0, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := p.Entitlements(tt.pr)
			if got := len(e.ModelIDs()); got != tt.models {
				t.Errorf("models = %v, want %d", e.ModelIDs(), tt.models)
			}
			if got := e.AllowsModel(sonnet); got != tt.sonnet {
				t.Errorf("AllowsModel(sonnet) = %v", got)
			}
			if got := e.AllowsEndpoint("portico-demo-llm"); got != tt.endpoint {
				t.Errorf("AllowsEndpoint = %v", got)
			}
			if e.UsageAdmin != tt.usageAdmin || p.IsUsageAdmin(tt.pr) != tt.usageAdmin {
				t.Errorf("UsageAdmin = %v", e.UsageAdmin)
			}
			if e.Known() != tt.known {
				t.Errorf("Known = %v", e.Known())
			}
			if !slices.IsSorted(e.ModelIDs()) {
				t.Errorf("models not sorted")
			}
			if tt.models == 0 && (e.Quotas() != nil || len(e.EndpointNames()) != 0) {
				t.Errorf("nothing granted but quotas %v, endpoints %v", e.Quotas(), e.EndpointNames())
			}
		})
	}
	if m := p.Entitlements(machine("portico/inference")).ModelIDs(); !slices.Equal(m, []string{"amazon.nova-lite-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"}) {
		t.Errorf("machine models = %v", m)
	}
}

func TestMultiGroupQuotas(t *testing.T) {
	t.Parallel()
	const doc = `
version: 1
usageAdmins: []
groups:
  - name: A
    models: [m1, m2]
    guardrail: {id: gA, version: "1"}
    quotas: {userTokensPerDay: 100, userTokensPerMonth: 1000, userRequestsPerMinute: 5, groupTokensPerMonth: 10000}
  - name: B
    models: [m2, m3]
    guardrail: {id: gB, version: "2"}
    quotas: {userTokensPerDay: 50, userTokensPerMonth: 5000, groupTokensPerMonth: 20000}
  - name: C
    models: [m3]
guardrails:
  - {model: m3, id: gM, version: DRAFT}
`
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Entitlements(person("A", "B", "C"))
	user := func(w typev1.QuotaWindow, u typev1.QuotaUnit, n int64) store.Limit {
		return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: w, Unit: u, Max: n}
	}
	pool := func(g string, n int64) store.Limit {
		return store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: g, Window: typev1.QuotaWindow_QUOTA_WINDOW_MONTH, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: n}
	}
	tests := []struct {
		resource string
		quotas   []store.Limit
		charge   []string
		guard    string
	}{
		{"m1", []store.Limit{user(typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, 5), user(typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, 100), user(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, 1000), pool("A", 10000)}, []string{"A"}, "gA"},
		// A and B grant m2: B has no per-minute limit, so none; the larger day and month limits win.
		{"m2", []store.Limit{user(typev1.QuotaWindow_QUOTA_WINDOW_DAY, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, 100), user(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, typev1.QuotaUnit_QUOTA_UNIT_TOKENS, 5000), pool("A", 10000), pool("B", 20000)}, []string{"A", "B"}, "gA"},
		// C grants m3 without limits: unlimited per user; B's pool still applies.
		{"m3", []store.Limit{pool("B", 20000)}, []string{"B"}, "gM"},
		{"m4", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			t.Parallel()
			if got := e.QuotasFor(tt.resource); !slices.Equal(got, tt.quotas) {
				t.Errorf("QuotasFor = %+v, want %+v", got, tt.quotas)
			}
			if got := e.ChargeGroups(tt.resource); !slices.Equal(got, tt.charge) {
				t.Errorf("ChargeGroups = %v, want %v", got, tt.charge)
			}
			id, _, ok := e.Guardrail(tt.resource)
			if id != tt.guard || ok != (tt.guard != "") {
				t.Errorf("Guardrail = %q, %v; want %q", id, ok, tt.guard)
			}
		})
	}
	if e.UsageAdmin {
		t.Error("empty usageAdmins still made an admin")
	}
	// Overall: C makes every per-user window unlimited; pools of A and B.
	if got := e.Quotas(); !slices.Equal(got, []store.Limit{pool("A", 10000), pool("B", 20000)}) {
		t.Errorf("Quotas = %+v", got)
	}
	onlyB := p.Entitlements(person("B"))
	if _, v, _ := onlyB.Guardrail("m2"); v != "2" {
		t.Errorf("B's guardrail version = %q", v)
	}
}

func TestQuotaProto(t *testing.T) {
	t.Parallel()
	// The policy's limits are the store's; the API's QuotaLimit is made from them at the API's edge.
	q := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: "MLUsers", Window: typev1.QuotaWindow_QUOTA_WINDOW_MONTH, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 7}
	got := q.Proto()
	if got.GetSubject() != typev1.QuotaSubject_QUOTA_SUBJECT_GROUP || got.GetGroup() != "MLUsers" ||
		got.GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_MONTH || got.GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_TOKENS || got.GetLimit() != 7 {
		t.Errorf("Proto = %v", got)
	}
	r := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_MINUTE, Unit: typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, Max: 1}.Proto()
	if r.GetSubject() != typev1.QuotaSubject_QUOTA_SUBJECT_USER || r.GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_MINUTE || r.GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_REQUESTS {
		t.Errorf("Proto = %v", r)
	}
	if n := len(devPolicy(t).Entitlements(person("MLUsers")).Quotas()); n != 4 {
		t.Errorf("MLUsers has %d quotas, want 4", n)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // "line:col: fragment"
	}{
		{"syntax", "version: 1\ngroups: [\n", []string{"2:"}},
		{"unknown top-level key", "version: 1\ngroup: []\n", []string{"2:1: unknown field \"group\""}},
		{"unknown group key", "version: 1\ngroups:\n  - name: A\n    modles: [x]\n", []string{"4:5: unknown field \"modles\""}},
		{"wrong version", "version: 2\n", []string{"1:10: version must be 1"}},
		{"duplicate group", "version: 1\ngroups:\n  - name: A\n  - name: B\n  - name: A\n", []string{"5:11: group \"A\" is already defined on line 3"}},
		{"negative limit", "version: 1\ngroups:\n  - name: A\n    quotas:\n      userTokensPerDay: -5\n", []string{"5:25: limit must be positive"}},
		{"zero limit", "version: 1\ngroups:\n  - name: A\n    quotas:\n      userRequestsPerMinute: 0\n", []string{"5:30: limit must be positive"}},
		{"day above month", "version: 1\ngroups:\n  - name: A\n    quotas:\n      userTokensPerDay: 50\n      userTokensPerMonth: 10\n", []string{"5:25: userTokensPerDay (50) is more than"}},
		{"unknown model", "version: 1\ngroups:\n  - name: A\n    models:\n      - amazon.nova-lite-v1:0\n      - gpt-4\n", []string{"6:9: model \"gpt-4\" is not in the catalog"}},
		{"unknown endpoint", "version: 1\ngroups:\n  - name: A\n    endpoints: [nope]\n", []string{"4:17: endpoint \"nope\" is not in the catalog"}},
		{"model twice", "version: 1\ngroups:\n  - name: A\n    models: [amazon.nova-lite-v1:0, amazon.nova-lite-v1:0]\n", []string{"4:37: model \"amazon.nova-lite-v1:0\" is listed twice"}},
		{"group pool on a scope", "version: 1\nscopes:\n  - scope: s\n    quotas: {groupTokensPerMonth: 5}\n", []string{"4:35: groupTokensPerMonth applies to groups"}},
		{"undefined usage admin", "version: 1\nusageAdmins: [Admins]\n", []string{"2:15: usage-admin group \"Admins\" is not defined"}},
		{"guardrail without version", "version: 1\nguardrails:\n  - model: amazon.nova-lite-v1:0\n    id: g\n", []string{"3:10: guardrail needs a version"}},
		{"group without name", "version: 1\ngroups:\n  - models: [amazon.nova-lite-v1:0]\n", []string{"3:11: group needs a name"}},
		{"wrong type", "version: 1\ngroups:\n  - name: A\n    quotas:\n      userTokensPerDay: lots\n", []string{"5:25:"}},
		{"second document", "version: 1\n---\nversion: 1\nguardrails:\n  - {model: amazon.nova-lite-v1:0, id: g, version: \"1\"}\n", []string{"2:1: a policy file holds one YAML document"}},
		{"group name with spaces", "version: 1\ngroups:\n  - name: \" MLUsers\"\n", []string{"3:11: group name \" MLUsers\" contains white space"}},
		{"scope with a space", "version: 1\nscopes:\n  - scope: portico/inference portico/identity\n", []string{"3:12: scope \"portico/inference portico/identity\" contains white space"}},
		{"duplicate scope", "version: 1\nscopes:\n  - scope: s\n  - scope: s\n", []string{"4:12: scope \"s\" is already defined on line 3"}},
		{"scope entry without scope", "version: 1\nscopes:\n  - models: [amazon.nova-lite-v1:0]\n", []string{"3:11: scope entry needs a scope"}},
		{"a group and a scope may share a name", "version: 1\ngroups:\n  - name: s\nscopes:\n  - scope: s\n    quotas: {groupTokensPerMonth: 5}\n", []string{"6:35: groupTokensPerMonth applies to groups"}},
		{"usage admin with a space", "version: 1\nusageAdmins: [\"Administrators \"]\n", []string{"2:15: usage-admin group \"Administrators \" is not defined"}},
		{"group id not a GUID", "version: 1\ngroups:\n  - name: A\ngroupIds:\n  A-team: A\n", []string{"5:9: groupIds key \"A-team\" is not a group object id"}},
		{"group id mapped to an undefined group", "version: 1\ngroups:\n  - name: A\ngroupIds:\n  3c712982-5a4a-5558-a89a-40aae47dd36a: B\n", []string{"5:39: groupIds maps 3c712982-5a4a-5558-a89a-40aae47dd36a to \"B\""}},
		{"several problems", "version: 1\ngroups:\n  - name: A\n    models: [nope]\n    quotas: {userTokensPerDay: -1}\n  - name: A\n", []string{"4:14: model \"nope\"", "5:32: limit must be positive", "6:11: group \"A\" is already defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Parse([]byte(tt.doc), policy.WithModelIDs(catalog...), policy.WithEndpointNames("portico-demo-llm"), policy.WithSource("p.yaml"))
			var ve *policy.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("problems = %v, want %d:\n%s", ve.Problems, len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := ve.Problems[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, w)
				}
			}
			if !strings.Contains(err.Error(), "p.yaml:") {
				t.Errorf("error does not name the source: %v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, policy.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path, policy.WithModelIDs(catalog...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.GroupNames(), []string{"MLUsers", "Administrators", "Contractors"}) || len(p.ScopeNames()) != 2 {
		t.Errorf("groups %v scopes %v", p.GroupNames(), p.ScopeNames())
	}
	if _, err := policy.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func BenchmarkEntitlements(b *testing.B) {
	p := devPolicy(b)
	dana := person("Administrators", "MLUsers")
	b.ReportAllocs()
	for b.Loop() {
		e := p.Entitlements(dana)
		if !e.AllowsModel(sonnet) || len(e.QuotasFor(sonnet)) != 3 || !e.UsageAdmin {
			b.Fatal("wrong decision")
		}
	}
}

func TestGroupIDs(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte("version: 1\ngroups:\n  - name: A\n  - name: B\ngroupIds:\n  3C712982-5A4A-5558-A89A-40AAE47DD36A: A\n  848e5663-c387-5179-b019-9329ddd70372: B\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.GroupIDs()
	if len(got) != 2 || got["3c712982-5a4a-5558-a89a-40aae47dd36a"] != "A" || got["848e5663-c387-5179-b019-9329ddd70372"] != "B" {
		t.Fatalf("GroupIDs() = %v", got)
	}
	got["x"] = "y" // a copy: the policy is immutable
	if _, ok := p.GroupIDs()["x"]; ok {
		t.Fatal("GroupIDs returned the policy's own map")
	}
}

func TestHistoryEnabled(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte(`version: 1
groups:
  - name: MLUsers
    models: [m1]
  - name: Contractors
    models: [m1]
    history: false
  - name: Open
    history: true
scopes:
  - scope: portico/inference
    models: [m1]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		p    *principal.Principal
		want bool
	}{
		{"MLUsers", &principal.Principal{Kind: principal.KindPerson, Groups: []string{"MLUsers"}}, true},
		{"Contractors", &principal.Principal{Kind: principal.KindPerson, Groups: []string{"Contractors"}}, false},
		{"both: privacy wins", &principal.Principal{Kind: principal.KindPerson, Groups: []string{"Contractors", "MLUsers", "Open"}}, false},
		{"no policy group", &principal.Principal{Kind: principal.KindPerson}, true},
		{"machine", &principal.Principal{Kind: principal.KindMachine, Scopes: []string{"portico/inference"}}, false},
	} {
		if got := p.Entitlements(tt.p).HistoryEnabled(); got != tt.want {
			t.Errorf("%s: HistoryEnabled = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := policy.Parse([]byte("version: 1\nscopes:\n  - scope: s\n    history: false\n")); err == nil {
		t.Error("history on a scope was accepted")
	}
}
