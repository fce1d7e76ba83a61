package livepolicy_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

var alice = &principal.Principal{Kind: principal.KindPerson, Subject: "sub-alice", Username: "alice", Groups: []string{"MLUsers"}}

const lite = "amazon.nova-lite-v1:0"

// tokensPerDay returns alice's daily tokens limit under p.
func tokensPerDay(p *policy.Policy) int64 {
	for _, l := range p.Entitlements(alice).QuotasFor(lite) {
		if l.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_USER && l.Window == typev1.QuotaWindow_QUOTA_WINDOW_DAY && l.Unit == typev1.QuotaUnit_QUOTA_UNIT_TOKENS {
			return l.Max
		}
	}
	return 0
}

// withTokensPerDay returns the dev policy with MLUsers' userTokensPerDay set to n.
func withTokensPerDay(n string) []byte {
	return []byte(strings.Replace(string(policy.DefaultYAML()), "userTokensPerDay: 200000", "userTokensPerDay: "+n, 1))
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func open(t testing.TB, st store.PolicyStore, mode livepolicy.Mode, now func() time.Time) *livepolicy.Source {
	t.Helper()
	s, err := livepolicy.Open(t.Context(), livepolicy.Config{
		Mode: mode, Store: st, Seed: policy.DefaultYAML(), SeedSource: "dev.yaml",
		Options: livepolicy.CatalogOptions(catalog.Default()), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func sqliteStore(t testing.TB, path string) *sqlitestore.Store {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// backends opens two stores on one backend, as two instances would: two SQLite handles on one
// file, two DynamoDB clients on one dynalite table.
func backends(t *testing.T) map[string][2]store.PolicyStore {
	path := filepath.Join(t.TempDir(), "portico.db")
	srv := dynalitetest.Start(t)
	table := srv.Table("livepolicy")
	if err := dynamostore.EnsureTable(t.Context(), srv.Client, table); err != nil {
		t.Fatal(err)
	}
	return map[string][2]store.PolicyStore{
		"sqlite": {sqliteStore(t, path), sqliteStore(t, path)},
		"dynamodb": {dynamostore.New(dynalitetest.NewClient(srv.URL), table, store.Options{}),
			dynamostore.New(dynalitetest.NewClient(srv.URL), table, store.Options{})},
	}
}

func edit(base int64, doc []byte) livepolicy.Edit {
	return livepolicy.Edit{Base: base, YAML: doc, Author: "dana", AuthorSubject: "sub-dana", Comment: "lower MLUsers"}
}

// TestTwoInstances is the scenario on each backend: two instances share a store; an
// edit on one is applied by the other at its next check; a concurrent edit on a stale base is
// refused; a rollback restores the first version everywhere.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	for name, sts := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := open(t, sts[0], livepolicy.ModeStore, nil)
			b := open(t, sts[1], livepolicy.ModeStore, nil)
			if va, vb := a.Snapshot().Version, b.Snapshot().Version; va.Version != 1 || vb.Version != 1 || va.Kind != store.PolicySeed {
				t.Fatalf("seeded versions: %+v and %+v; want one seed, version 1", va, vb)
			}
			if got := tokensPerDay(b.Policy()); got != 200000 {
				t.Fatalf("seed limit %d", got)
			}
			v, err := a.Update(t.Context(), edit(1, withTokensPerDay("1000")))
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != 2 || v.Kind != store.PolicyUpdate || v.Author != "dana" ||
				!slices.Equal(v.Changes, []string{"groups[MLUsers].quotas.userTokensPerDay: 200000 -> 1000"}) {
				t.Errorf("version = %+v", v)
			}
			if got := tokensPerDay(a.Policy()); got != 1000 {
				t.Errorf("writer applies at once: limit %d", got)
			}
			if got := tokensPerDay(b.Policy()); got != 200000 {
				t.Errorf("before its check, b still has %d", got)
			}
			if err := b.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := tokensPerDay(b.Policy()); got != 1000 || b.Snapshot().Version.Version != 2 {
				t.Errorf("after its check, b has %d (version %d)", got, b.Snapshot().Version.Version)
			}
			// b's editor started from version 1 too: refused, nothing written.
			if _, err := b.Update(t.Context(), edit(1, withTokensPerDay("5"))); !errors.Is(err, store.ErrStaleVersion) {
				t.Errorf("stale edit: %v, want ErrStaleVersion", err)
			}
			r, err := b.Rollback(t.Context(), 1, edit(2, nil))
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != 3 || r.Kind != store.PolicyRollback || r.Restored != 1 || r.YAML != string(policy.DefaultYAML()) {
				t.Errorf("rollback = %+v", r)
			}
			if err := a.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := tokensPerDay(a.Policy()); got != 200000 {
				t.Errorf("after the rollback a has %d", got)
			}
			page, err := a.Versions(t.Context(), store.PolicyVersionFilter{})
			if err != nil || len(page.Versions) != 3 || page.Versions[0].Version != 3 {
				t.Errorf("history = %+v, %v", page, err)
			}
		})
	}
}

// TestCheckNeverBlocks: once a check is due, the getter returns the policy it has and starts
// a check in the background, which applies the new version for later calls.
func TestCheckNeverBlocks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "portico.db")
	c := &clock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	a := open(t, sqliteStore(t, path), livepolicy.ModeStore, nil)
	b := open(t, sqliteStore(t, path), livepolicy.ModeStore, c.Now)
	if _, err := a.Update(t.Context(), edit(1, withTokensPerDay("1000"))); err != nil {
		t.Fatal(err)
	}
	if got := tokensPerDay(b.Policy()); got != 200000 {
		t.Fatalf("no check due yet: %d", got)
	}
	c.Advance(livepolicy.DefaultRefresh)
	deadline := time.Now().Add(10 * time.Second)
	for tokensPerDay(b.Policy()) != 1000 {
		if time.Now().After(deadline) {
			t.Fatal("the background check never applied version 2")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestInvalidEditsChangeNothing(t *testing.T) {
	t.Parallel()
	s := open(t, sqliteStore(t, filepath.Join(t.TempDir(), "p.db")), livepolicy.ModeStore, nil)
	dev := string(policy.DefaultYAML())
	tests := []struct {
		name string
		doc  string
		want []string // problem paths
	}{
		{"unknown model", strings.Replace(dev, "- amazon.nova-pro-v1:0\n", "- gpt-4\n", 1), []string{"groups[0].models[1]"}},
		{"unknown endpoint", strings.Replace(dev, "endpoints: [portico-demo-llm]", "endpoints: [nope]", 1), []string{"groups[0].endpoints[0]"}},
		{"negative limit", strings.Replace(dev, "userTokensPerDay: 200000", "userTokensPerDay: -1", 1), []string{"groups[0].quotas.userTokensPerDay"}},
		{"absurd limit", strings.Replace(dev, "userTokensPerDay: 200000", "userTokensPerDay: 99999999999999999", 1), []string{"groups[0].quotas.userTokensPerDay"}},
		{"duplicate group", strings.Replace(dev, "- name: Administrators", "- name: MLUsers", 1), []string{"groupIds", "groups[1].name", "policyAdmins[0]", "usageAdmins[0]"}},
		{"no policy admin", strings.Replace(dev, "policyAdmins: [Administrators]", "policyAdmins: []", 1), []string{"policyAdmins"}},
		{"bad budget and unknown model at once", strings.Replace(strings.Replace(dev, "userTokensPerDay: 200000", "userCostPerDay: \"1,5\"", 1),
			"- amazon.nova-pro-v1:0\n", "- gpt-4\n", 1), []string{"groups[0].models[1]", "groups[0].quotas.userCostPerDay"}},
		{"not YAML", "groups: [", []string{""}},
		{"too large", dev + "#" + strings.Repeat("x", livepolicy.MaxPolicyBytes), []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, _ := s.Validate([]byte(tt.doc))
			var paths []string
			for _, p := range problems {
				paths = append(paths, p.Path)
			}
			slices.Sort(paths)
			if !slices.Equal(paths, tt.want) {
				t.Errorf("Validate paths = %q, want %q (%+v)", paths, tt.want, problems)
			}
			_, err := s.Update(t.Context(), edit(1, []byte(tt.doc)))
			var ie *livepolicy.InvalidError
			if !errors.As(err, &ie) || len(ie.Problems) != len(tt.want) {
				t.Errorf("Update = %v, want an InvalidError with %d problems", err, len(tt.want))
			}
			if v := s.Snapshot().Version.Version; v != 1 {
				t.Errorf("version %d after a refused edit", v)
			}
		})
	}
	if problems, changes := s.Validate(withTokensPerDay("7")); len(problems) != 0 || len(changes) != 1 {
		t.Errorf("a valid edit: problems %v, changes %v", problems, changes)
	}
	long := edit(1, withTokensPerDay("7"))
	long.Comment = strings.Repeat("é", livepolicy.MaxCommentRunes+1)
	if _, err := s.Update(t.Context(), long); err == nil {
		t.Error("an over-long comment was saved")
	}
	if _, err := s.Rollback(t.Context(), 9, edit(1, nil)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rollback to a missing version: %v, want ErrNotFound", err)
	}
}

// TestBrokenVersionKeepsPolicy: a version an instance cannot compile (written past the
// validation, or naming a model its catalog lost) leaves the policy in force, until a good
// version follows.
func TestBrokenVersionKeepsPolicy(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t, filepath.Join(t.TempDir(), "p.db"))
	s := open(t, st, livepolicy.ModeStore, nil)
	bad := store.PolicyVersion{Version: 2, Time: time.Now(), Kind: store.PolicyUpdate,
		YAML: strings.Replace(string(policy.DefaultYAML()), "- amazon.nova-pro-v1:0\n", "- retired-model\n", 1)}
	if err := st.AddPolicyVersion(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(t.Context()); err == nil {
		t.Error("a version that does not compile was applied")
	}
	if v := s.Snapshot().Version.Version; v != 1 || tokensPerDay(s.Policy()) != 200000 {
		t.Errorf("in force: version %d", v)
	}
	good := store.PolicyVersion{Version: 3, Time: time.Now(), Kind: store.PolicyUpdate, YAML: string(withTokensPerDay("10"))}
	if err := st.AddPolicyVersion(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if tokensPerDay(s.Policy()) != 10 {
		t.Error("the good version after a broken one was not applied")
	}
	// At start-up the latest version must compile, as a file must.
	if err := st.AddPolicyVersion(t.Context(), store.PolicyVersion{Version: 4, Kind: store.PolicyUpdate, YAML: bad.YAML}); err != nil {
		t.Fatal(err)
	}
	if _, err := livepolicy.Open(context.Background(), livepolicy.Config{Store: st, Seed: policy.DefaultYAML(),
		Options: livepolicy.CatalogOptions(catalog.Default())}); err == nil {
		t.Error("Open compiled a broken latest version")
	}
}

func TestFileMode(t *testing.T) {
	t.Parallel()
	s := open(t, nil, livepolicy.ModeFile, nil)
	if tokensPerDay(s.Policy()) != 200000 || s.Mode() != livepolicy.ModeFile {
		t.Fatal("file mode serves the file")
	}
	if _, err := s.Update(t.Context(), edit(0, withTokensPerDay("1"))); !errors.Is(err, livepolicy.ErrFileMode) {
		t.Errorf("Update in file mode: %v", err)
	}
	if _, err := s.Rollback(t.Context(), 1, edit(0, nil)); !errors.Is(err, livepolicy.ErrFileMode) {
		t.Errorf("Rollback in file mode: %v", err)
	}
	for _, m := range []string{"", "store", "file"} {
		if _, err := livepolicy.ParseMode(m); err != nil {
			t.Errorf("ParseMode(%q): %v", m, err)
		}
	}
	if _, err := livepolicy.ParseMode("git"); err == nil {
		t.Error("ParseMode(git) succeeded")
	}
	if _, err := livepolicy.Open(t.Context(), livepolicy.Config{Seed: policy.DefaultYAML()}); err == nil {
		t.Error("store mode without a store opened")
	}
}

// TestReseed: while only imports are stored, a changed file is imported again at start-up;
// after an edit in the app, the store wins.
func TestReseed(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t, filepath.Join(t.TempDir(), "p.db"))
	open(t, st, livepolicy.ModeStore, nil)
	openWith := func(seed []byte) *livepolicy.Source {
		s, err := livepolicy.Open(t.Context(), livepolicy.Config{Store: st, Seed: seed, SeedSource: "dev.yaml",
			Options: livepolicy.CatalogOptions(catalog.Default())})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	s := openWith(withTokensPerDay("300"))
	if v := s.Snapshot().Version; v.Version != 2 || v.Kind != store.PolicySeed || tokensPerDay(s.Policy()) != 300 {
		t.Fatalf("changed file: version %+v", v)
	}
	if s = openWith(withTokensPerDay("300")); s.Snapshot().Version.Version != 2 {
		t.Errorf("an unchanged file wrote version %d", s.Snapshot().Version.Version)
	}
	if _, err := s.Update(t.Context(), edit(2, withTokensPerDay("400"))); err != nil {
		t.Fatal(err)
	}
	if s = openWith(withTokensPerDay("500")); s.Snapshot().Version.Version != 3 || tokensPerDay(s.Policy()) != 400 {
		t.Errorf("after an edit the file was imported: version %d", s.Snapshot().Version.Version)
	}
}

// TestReadOnly: a read-only source (the authorizer) serves the file while the store is empty,
// writes nothing, and follows the versions others write.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.db")
	st := sqliteStore(t, path)
	ro, err := livepolicy.Open(t.Context(), livepolicy.Config{Store: st, Seed: withTokensPerDay("7"), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ro.Close)
	if n, _ := st.LatestPolicyVersion(t.Context()); n != 0 || tokensPerDay(ro.Policy()) != 7 {
		t.Fatalf("read-only seeded version %d, serves %d", n, tokensPerDay(ro.Policy()))
	}
	if _, err := ro.Update(t.Context(), edit(0, withTokensPerDay("8"))); !errors.Is(err, livepolicy.ErrFileMode) {
		t.Errorf("read-only Update: %v", err)
	}
	w := open(t, sqliteStore(t, path), livepolicy.ModeStore, nil) // seeds the dev policy
	if _, err := w.Update(t.Context(), edit(1, withTokensPerDay("9"))); err != nil {
		t.Fatal(err)
	}
	if err := ro.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if tokensPerDay(ro.Policy()) != 9 {
		t.Errorf("read-only did not follow: %d", tokensPerDay(ro.Policy()))
	}
}

// TestRunChecksOnATimer: standalone, Run applies a new version on its own timer, without any
// request triggering a check (b's clock never moves, so its getter never finds one due).
func TestRunChecksOnATimer(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.db")
	a := open(t, sqliteStore(t, path), livepolicy.ModeStore, nil)
	stopped := func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }
	b, err := livepolicy.Open(t.Context(), livepolicy.Config{Store: sqliteStore(t, path), Seed: policy.DefaultYAML(),
		Options: livepolicy.CatalogOptions(catalog.Default()), Refresh: time.Second, Now: stopped})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	go b.Run(t.Context())
	if _, err := a.Update(t.Context(), edit(1, withTokensPerDay("1000"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for tokensPerDay(b.Policy()) != 1000 {
		if time.Now().After(deadline) {
			t.Fatal("Run never applied version 2")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
