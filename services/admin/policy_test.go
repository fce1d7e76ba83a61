package admin_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

// govPolicy is the dev policy with MLUsers also reading usage: alice is a usage admin but
// not a policy admin, dana both, bob neither.
var govPolicy = strings.Replace(string(policy.DefaultYAML()), "usageAdmins: [Administrators]", "usageAdmins: [Administrators, MLUsers]", 1)

type govFixture struct {
	url    string
	st     *sqlitestore.Store
	live   *livepolicy.Source
	tokens map[string]string
}

// newGovFixture starts the AdminService over its own store and run-time policy (in mode).
func newGovFixture(t *testing.T, mode livepolicy.Mode) *govFixture {
	t.Helper()
	idp := devidptest.Start(t)
	f := &govFixture{tokens: map[string]string{}}
	for _, u := range []string{"alice", "dana", "bob"} {
		f.tokens[u] = idp.AccessToken(t, u)
	}
	f.tokens["machine"] = idp.MachineToken(t, authn.ScopeInference, authn.ScopeIdentity)
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "gov.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.st = st
	f.live, err = livepolicy.Open(t.Context(), livepolicy.Config{Mode: mode, Store: st, Seed: []byte(govPolicy), SeedSource: "gov.yaml",
		Options: livepolicy.CatalogOptions(catalog.Default())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.live.Close)
	svc := admin.NewService(admin.Config{Live: f.live, Alerts: st, Store: st, Catalog: catalog.Default()})
	mux := http.NewServeMux()
	mux.Handle(adminv1connect.NewAdminServiceHandler(svc))
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}})
	srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *govFixture) client(who string) adminv1connect.AdminServiceClient {
	return adminv1connect.NewAdminServiceClient(&http.Client{Transport: bearer{f.tokens[who], http.DefaultTransport}}, f.url)
}

// policyAudit returns the audit records of policy actions, newest first.
func (f *govFixture) policyAudit(t *testing.T) []store.Record {
	t.Helper()
	page, err := f.st.ListAudit(t.Context(), store.AuditFilter{ModelID: admin.AuditModel, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

// TestPolicyAuthz is a table of callers against every policy RPC: reading needs the
// usage-admin or policy-admin grant, changing it the policy-admin grant; a refused change
// is audited.
func TestPolicyAuthz(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeStore)
	ctx := context.Background()
	yamlDoc := &adminv1.UpdatePolicyRequest_Yaml{Yaml: govPolicy}
	calls := map[string]func(adminv1connect.AdminServiceClient) error{
		"GetPolicy": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.GetPolicy(ctx, &adminv1.GetPolicyRequest{})
			return err
		},
		"ListPolicyVersions": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.ListPolicyVersions(ctx, &adminv1.ListPolicyVersionsRequest{})
			return err
		},
		"ListNearLimit": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.ListNearLimit(ctx, &adminv1.ListNearLimitRequest{})
			return err
		},
		"ValidatePolicy": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.ValidatePolicy(ctx, &adminv1.ValidatePolicyRequest{Source: &adminv1.ValidatePolicyRequest_Yaml{Yaml: govPolicy}})
			return err
		},
		"UpdatePolicy": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{BaseVersion: 99, Source: yamlDoc})
			return err
		},
		"RollbackPolicy": func(c adminv1connect.AdminServiceClient) error {
			_, err := c.RollbackPolicy(ctx, &adminv1.RollbackPolicyRequest{Version: 1, BaseVersion: 99})
			return err
		},
	}
	denied := connect.CodePermissionDenied
	// dana's edits are based on version 99: they pass authorisation and fail on the base.
	stale := connect.CodeFailedPrecondition
	tests := []struct {
		who  string
		want map[string]connect.Code
	}{
		{"dana", map[string]connect.Code{"UpdatePolicy": stale, "RollbackPolicy": stale}},
		{"alice", map[string]connect.Code{"ValidatePolicy": denied, "UpdatePolicy": denied, "RollbackPolicy": denied}},
		{"bob", map[string]connect.Code{"GetPolicy": denied, "ListPolicyVersions": denied, "ListNearLimit": denied,
			"ValidatePolicy": denied, "UpdatePolicy": denied, "RollbackPolicy": denied}},
		{"machine", map[string]connect.Code{"GetPolicy": denied, "ListPolicyVersions": denied, "ListNearLimit": denied,
			"ValidatePolicy": denied, "UpdatePolicy": denied, "RollbackPolicy": denied}},
		{"nobody", map[string]connect.Code{"GetPolicy": connect.CodeUnauthenticated, "ListPolicyVersions": connect.CodeUnauthenticated,
			"ListNearLimit": connect.CodeUnauthenticated, "ValidatePolicy": connect.CodeUnauthenticated,
			"UpdatePolicy": connect.CodeUnauthenticated, "RollbackPolicy": connect.CodeUnauthenticated}},
	}
	for _, tt := range tests {
		for name, call := range calls {
			err := call(f.client(tt.who))
			if got, want := connect.CodeOf(err), tt.want[name]; (err == nil) != (want == 0) || (err != nil && got != want) {
				t.Errorf("%s %s: %v, want %v", tt.who, name, err, want)
			}
		}
	}
	if len(refusedCount(f.policyAudit(t))) != 3 {
		t.Errorf("audited refusals by %v, want alice, bob and dana only", refusedCount(f.policyAudit(t)))
	}
	if v := f.live.Snapshot().Version.Version; v != 1 {
		t.Errorf("a refused call changed the policy: version %d", v)
	}
	// Every refused change is in the audit trail: alice's and bob's two each, dana's two stale
	// ones. Machine clients never reach the AdminService (the authn middleware refuses them:
	// no scope grants it).
	refused := map[string]int{}
	for _, r := range f.policyAudit(t) {
		if r.Outcome == store.OutcomeOK || !strings.HasPrefix(r.Detail, "refused: ") {
			t.Errorf("record %+v", r)
		}
		refused[r.User+" "+r.Outcome]++
	}
	for who, n := range map[string]int{"alice permission_denied": 2, "bob permission_denied": 2, "dana failed_precondition": 2} {
		if refused[who] != n {
			t.Errorf("%d audited refusals for %q, want %d (all: %v)", refused[who], who, n, refused)
		}
	}
	// alice reads the policy but may not edit it.
	got, err := f.client("alice").GetPolicy(ctx, &adminv1.GetPolicyRequest{})
	if err != nil || got.GetEditable() {
		t.Errorf("alice's GetPolicy: editable %v, %v", got.GetEditable(), err)
	}
}

// TestPolicyEdit walks an edit: read, validate (problems with paths), save from the
// structured form, a stale base refused, history, rollback, audit.
func TestPolicyEdit(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeStore)
	ctx := context.Background()
	dana := f.client("dana")
	got, err := dana.GetPolicy(ctx, &adminv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	p := got.GetPolicy()
	if got.GetYaml() != govPolicy || !got.GetEditable() || got.GetVersion().GetVersion() != 1 ||
		got.GetVersion().GetKind() != adminv1.PolicyChangeKind_POLICY_CHANGE_KIND_SEED || len(p.GetGroups()) != 3 ||
		p.GetGroups()[0].GetQuotas().GetUserTokensPerDay() != 200000 || !slices.Equal(p.GetPolicyAdmins(), []string{"Administrators"}) ||
		len(p.GetGroupIds()) != 3 || len(p.GetScopes()) != 2 {
		t.Fatalf("GetPolicy = %v", got)
	}

	// The structured form renders to the same policy: saving it unchanged changes nothing.
	v, err := dana.ValidatePolicy(ctx, &adminv1.ValidatePolicyRequest{Source: &adminv1.ValidatePolicyRequest_Policy{Policy: p}})
	if err != nil || len(v.GetProblems()) != 0 || !slices.Equal(v.GetChanges(), []string{"no change to the policy's content"}) {
		t.Fatalf("round trip: %v, %v", v, err)
	}

	// Every problem at once, each with its field path; nothing saved.
	bad := proto.Clone(p).(*adminv1.Policy)
	bad.Groups[0].Models = append(bad.Groups[0].Models, "gpt-4")
	bad.Groups[0].Quotas.UserTokensPerDay = proto.Int64(-5)
	bad.Groups[0].Quotas.UserCostPerMonth = proto.String("12,50")
	bad.Groups[1].Name = "MLUsers"
	bad.PolicyAdmins = nil
	want := []string{"groupIds", "groups[0].models[7]", "groups[0].quotas.userCostPerMonth", "groups[0].quotas.userTokensPerDay",
		"groups[1].name", "policyAdmins", "usageAdmins[0]"}
	v, err = dana.ValidatePolicy(ctx, &adminv1.ValidatePolicyRequest{Source: &adminv1.ValidatePolicyRequest_Policy{Policy: bad}})
	if err != nil {
		t.Fatal(err)
	}
	if got := problemPaths(v.GetProblems()); !slices.Equal(got, want) {
		t.Errorf("ValidatePolicy paths = %q, want %q", got, want)
	}
	for _, pr := range v.GetProblems() {
		if pr.GetLine() != 0 || pr.GetColumn() != 0 || pr.GetMessage() == "" {
			t.Errorf("a structured policy's problem points into YAML nobody wrote: %v", pr)
		}
	}
	_, err = dana.UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{BaseVersion: 1, Source: &adminv1.UpdatePolicyRequest_Policy{Policy: bad}})
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !slices.Equal(problemPaths(invalidDetail(t, err)), want) {
		t.Errorf("UpdatePolicy of a bad policy: %v, want invalid_argument with the problems %q", err, want)
	}
	// YAML problems carry their line too.
	_, err = dana.UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{BaseVersion: 1, Source: &adminv1.UpdatePolicyRequest_Yaml{
		Yaml: strings.Replace(govPolicy, "userTokensPerDay: 200000", "userTokensPerDay: -1", 1)}})
	if ps := invalidDetail(t, err); len(ps) != 1 || ps[0].GetPath() != "groups[0].quotas.userTokensPerDay" || ps[0].GetLine() == 0 {
		t.Errorf("YAML problem = %v", ps)
	}
	for _, req := range []*adminv1.UpdatePolicyRequest{{BaseVersion: 1}, {BaseVersion: 1, Source: &adminv1.UpdatePolicyRequest_Yaml{Yaml: "version: 1\n---\nversion: 1\n"}}} {
		if _, err := dana.UpdatePolicy(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("UpdatePolicy(%v): %v, want invalid_argument", req, err)
		}
	}

	// A valid edit from the structured form.
	good := proto.Clone(p).(*adminv1.Policy)
	good.Groups[0].Quotas.UserTokensPerDay = proto.Int64(1000)
	good.Groups[0].Quotas.UserCostPerMonth = proto.String("12.50")
	up, err := dana.UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{BaseVersion: 1, Source: &adminv1.UpdatePolicyRequest_Policy{Policy: good}, Comment: "tighter"})
	if err != nil {
		t.Fatal(err)
	}
	if uv := up.GetVersion(); uv.GetVersion() != 2 || uv.GetAuthor() != "dana" || uv.GetComment() != "tighter" || uv.GetCreateTime() == nil ||
		!slices.Equal(uv.GetChanges(), []string{"groups[MLUsers].quotas.userCostPerMonth: set to 12.50", "groups[MLUsers].quotas.userTokensPerDay: 200000 -> 1000"}) {
		t.Errorf("UpdatePolicy = %v", uv)
	}
	if got := f.live.Policy().Entitlements(alicePrincipal).QuotasFor(haiku); !hasLimit(got, typev1.QuotaUnit_QUOTA_UNIT_COST, 12_500_000_000) {
		t.Errorf("the budget is not in force: %v", got)
	}
	// The same base again: stale.
	if _, err := dana.UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{BaseVersion: 1, Source: &adminv1.UpdatePolicyRequest_Policy{Policy: good}}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("stale UpdatePolicy: %v", err)
	}
	rb, err := dana.RollbackPolicy(ctx, &adminv1.RollbackPolicyRequest{Version: 1, BaseVersion: 2})
	if err != nil || rb.GetVersion().GetVersion() != 3 || rb.GetVersion().GetRestoredVersion() != 1 {
		t.Fatalf("RollbackPolicy = %v, %v", rb, err)
	}
	for _, req := range []*adminv1.RollbackPolicyRequest{{Version: 0, BaseVersion: 3}, {Version: -1, BaseVersion: 3}} {
		if _, err := dana.RollbackPolicy(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("RollbackPolicy(%v): %v", req, err)
		}
	}
	if _, err := dana.RollbackPolicy(ctx, &adminv1.RollbackPolicyRequest{Version: 42, BaseVersion: 3}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("RollbackPolicy to a missing version: %v", err)
	}
	list, err := dana.ListPolicyVersions(ctx, &adminv1.ListPolicyVersionsRequest{PageSize: 2})
	if err != nil || len(list.GetVersions()) != 2 || list.GetVersions()[0].GetVersion() != 3 || list.GetNextPageToken() == "" {
		t.Fatalf("ListPolicyVersions = %v, %v", list, err)
	}
	for _, req := range []*adminv1.ListPolicyVersionsRequest{{PageSize: -1}, {PageSize: 501}, {PageToken: "!!"}} {
		if _, err := dana.ListPolicyVersions(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ListPolicyVersions(%v): %v", req, err)
		}
	}
	var saved []string
	for _, r := range f.policyAudit(t) {
		if r.Outcome == store.OutcomeOK {
			saved = append(saved, r.Detail)
		}
	}
	if len(saved) != 2 || !strings.HasPrefix(saved[0], "policy version 3 (rollback to version 1): ") ||
		saved[1] != "policy version 2: groups[MLUsers].quotas.userCostPerMonth: set to 12.50; groups[MLUsers].quotas.userTokensPerDay: 200000 -> 1000" {
		t.Errorf("audit of saved versions = %q", saved)
	}
}

// TestFileModeIsReadOnly: with PORTICO_POLICY_MODE=file the policy reads as not editable and
// every change is refused, audited.
func TestFileModeIsReadOnly(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeFile)
	ctx := context.Background()
	got, err := f.client("dana").GetPolicy(ctx, &adminv1.GetPolicyRequest{})
	if err != nil || got.GetMode() != adminv1.PolicyMode_POLICY_MODE_FILE || got.GetEditable() || got.GetYaml() != govPolicy {
		t.Fatalf("GetPolicy in file mode = %v, %v", got, err)
	}
	_, err = f.client("dana").UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{Source: &adminv1.UpdatePolicyRequest_Yaml{Yaml: govPolicy}})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "managed by file") {
		t.Errorf("UpdatePolicy in file mode: %v", err)
	}
	if _, err := f.client("dana").RollbackPolicy(ctx, &adminv1.RollbackPolicyRequest{Version: 1}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("RollbackPolicy in file mode: %v", err)
	}
	if n := len(f.policyAudit(t)); n != 2 {
		t.Errorf("%d audited refusals, want 2", n)
	}
}

// TestListNearLimit lists one entry per limit, at its highest threshold, user empty for a
// group limit; marks of ended windows are gone.
func TestListNearLimit(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeStore)
	now := time.Now().UTC()
	day := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 1000}
	pool := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: "MLUsers", Window: typev1.QuotaWindow_QUOTA_WINDOW_MONTH, Unit: typev1.QuotaUnit_QUOTA_UNIT_COST, Max: 5_000}
	dkey, dresets := store.CounterKey("alice", day, now)
	pkey, presets := store.CounterKey("alice", pool, now)
	okey, oresets := store.CounterKey("alice", day, now.AddDate(0, 0, -2))
	for _, m := range []store.AlertMark{
		{Key: dkey, Threshold: 80, User: "alice", Department: "Research", Limit: day, Used: 800, ResetsAt: dresets, Time: now},
		{Key: dkey, Threshold: 100, User: "alice", Department: "Research", Limit: day, Used: 1000, ResetsAt: dresets, Time: now},
		{Key: pkey, Threshold: 80, User: "alice", Limit: pool, Used: 4_100, ResetsAt: presets, Time: now},
		{Key: okey, Threshold: 80, User: "alice", Limit: day, Used: 900, ResetsAt: oresets, Time: now.AddDate(0, 0, -2)},
	} {
		if _, err := f.st.MarkAlert(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.client("alice").ListNearLimit(context.Background(), &adminv1.ListNearLimitRequest{})
	if err != nil {
		t.Fatal(err)
	}
	es := res.GetEntries()
	if len(es) != 2 || es[0].GetUser() != "alice" || es[0].GetAlert().GetThresholdPercent() != 100 || es[0].GetDepartment() != "Research" ||
		es[0].GetAlert().GetStatus().GetUsed() != 1000 || es[1].GetUser() != "" || es[1].GetAlert().GetStatus().GetLimit().GetGroup() != "MLUsers" ||
		es[1].GetAlert().GetThresholdPercent() != 80 || es[1].GetAlert().GetStatus().GetLimit().GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_COST {
		t.Errorf("ListNearLimit = %v", es)
	}
}

// TestListNearLimitPages walks every page of a long list with several page sizes: each
// limit comes once, at its highest threshold, highest threshold first, then newest first.
func TestListNearLimitPages(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeStore)
	now := time.Now().UTC()
	day := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 1000}
	const people = 23
	for i := range people {
		user := fmt.Sprintf("user-%02d", i)
		key, resets := store.CounterKey(user, day, now)
		ths := []int{store.ThresholdNear}
		if i%3 == 0 {
			ths = append(ths, store.ThresholdFull)
		}
		for _, th := range ths {
			m := store.AlertMark{Key: key, Threshold: th, User: user, Limit: day, Used: int64(th) * 10, ResetsAt: resets, Time: now.Add(-time.Duration(i) * time.Second)}
			if _, err := f.st.MarkAlert(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, size := range []int32{1, 4, 0, 500} {
		var got []*adminv1.NearLimit
		req := &adminv1.ListNearLimitRequest{PageSize: size}
		for pages := 0; pages <= people; pages++ {
			res, err := f.client("alice").ListNearLimit(t.Context(), req)
			if err != nil {
				t.Fatalf("page size %d, page %d: %v", size, pages, err)
			}
			if size > 0 && len(res.GetEntries()) > int(size) {
				t.Fatalf("page size %d: a page of %d", size, len(res.GetEntries()))
			}
			got = append(got, res.GetEntries()...)
			if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		var users []string
		for i, e := range got {
			users = append(users, e.GetUser())
			if i > 0 {
				prev := got[i-1]
				if pt, et := prev.GetAlert().GetThresholdPercent(), e.GetAlert().GetThresholdPercent(); pt < et ||
					pt == et && prev.GetCrossedAt().AsTime().Before(e.GetCrossedAt().AsTime()) {
					t.Errorf("page size %d: %s (%d %%) listed after %s (%d %%)", size, e.GetUser(), et, prev.GetUser(), pt)
				}
			}
			var n int
			if _, err := fmt.Sscanf(e.GetUser(), "user-%d", &n); err != nil || (n%3 == 0) != (e.GetAlert().GetThresholdPercent() == 100) {
				t.Errorf("page size %d: %s at %d %%", size, e.GetUser(), e.GetAlert().GetThresholdPercent())
			}
		}
		slices.Sort(users)
		if len(slices.Compact(users)) != people || len(got) != people {
			t.Errorf("page size %d: %d entries for %d people: %v", size, len(got), people, users)
		}
	}
}

// TestListNearLimitRefusesBadPages is a table of page sizes and tokens ListNearLimit did
// not make, each refused INVALID_ARGUMENT.
func TestListNearLimitRefusesBadPages(t *testing.T) {
	t.Parallel()
	f := newGovFixture(t, livepolicy.ModeStore)
	ctx := t.Context()
	now := time.Now().UTC()
	day := store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY, Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 1000}
	for _, u := range []string{"alice", "carol"} {
		key, resets := store.CounterKey(u, day, now)
		if _, err := f.st.MarkAlert(ctx, store.AlertMark{Key: key, Threshold: 80, User: u, Limit: day, ResetsAt: resets, Time: now}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := f.client("alice").ListNearLimit(ctx, &adminv1.ListNearLimitRequest{PageSize: 1})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page = %v, %v; want a next page token", first, err)
	}
	// A real token of another listing: two refused edits make two audit records.
	for range 2 {
		_, _ = f.client("bob").UpdatePolicy(ctx, &adminv1.UpdatePolicyRequest{Source: &adminv1.UpdatePolicyRequest_Yaml{Yaml: govPolicy}})
	}
	audit, err := f.client("alice").ListAuditEvents(ctx, &adminv1.ListAuditEventsRequest{PageSize: 1})
	if err != nil || audit.GetNextPageToken() == "" {
		t.Fatalf("audit page = %v, %v; want a next page token", audit, err)
	}
	token := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	tests := []struct {
		name string
		req  *adminv1.ListNearLimitRequest
		want string
	}{
		{"negative page size", &adminv1.ListNearLimitRequest{PageSize: -1}, "page_size -1"},
		{"oversized page size", &adminv1.ListNearLimitRequest{PageSize: 501}, "page_size 501"},
		{"huge page size", &adminv1.ListNearLimitRequest{PageSize: 1 << 30}, "page_size"},
		{"garbage token", &adminv1.ListNearLimitRequest{PageToken: "not a token!"}, "page_token"},
		{"empty JSON token", &adminv1.ListNearLimitRequest{PageToken: token("{}")}, "page_token"},
		{"ListAuditEvents' token", &adminv1.ListNearLimitRequest{PageToken: audit.GetNextPageToken()}, "page_token"},
		{"ListPolicyVersions' token shape", &adminv1.ListNearLimitRequest{PageToken: token(`{"v":2}`)}, "page_token"},
		{"ListConversationCounts' token shape", &adminv1.ListNearLimitRequest{PageToken: token(`{"s":"x","p":1}`)}, "page_token"},
		{"altered list key", &adminv1.ListNearLimitRequest{PageToken: token(`{"alertAfter":"919#1#user/alice"}`)}, "page_token"},
		{"list key of another type", &adminv1.ListNearLimitRequest{PageToken: token(`{"alertAfter":919}`)}, "page_token"},
		{"truncated token", &adminv1.ListNearLimitRequest{PageToken: first.GetNextPageToken()[:len(first.GetNextPageToken())-2]}, "page_token"},
		{"token with a trailing byte", &adminv1.ListNearLimitRequest{PageToken: first.GetNextPageToken() + "QQ"}, "page_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.client("alice").ListNearLimit(ctx, tt.req)
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ListNearLimit(%v) = %v; want INVALID_ARGUMENT naming %s", tt.req, err, tt.want)
			}
		})
	}
	// The real token continues where the first page ended.
	next, err := f.client("alice").ListNearLimit(ctx, &adminv1.ListNearLimitRequest{PageSize: 1, PageToken: first.GetNextPageToken()})
	if err != nil || len(next.GetEntries()) != 1 || next.GetEntries()[0].GetUser() == first.GetEntries()[0].GetUser() || next.GetNextPageToken() != "" {
		t.Errorf("second page = %v, %v; want the other person and no token", next, err)
	}
}

func problemPaths(ps []*adminv1.PolicyProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.GetPath())
	}
	slices.Sort(out)
	return out
}

// invalidDetail returns the problems of an error's PolicyInvalid detail.
func invalidDetail(t *testing.T, err error) []*adminv1.PolicyProblem {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a connect error", err)
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if pi, ok := v.(*adminv1.PolicyInvalid); ok {
				return pi.GetProblems()
			}
		}
	}
	t.Fatalf("err = %v has no PolicyInvalid detail", err)
	return nil
}

func hasLimit(ls []store.Limit, u typev1.QuotaUnit, max int64) bool {
	return slices.ContainsFunc(ls, func(l store.Limit) bool { return l.Unit == u && l.Max == max })
}

var alicePrincipal = &principal.Principal{Kind: principal.KindPerson, Subject: "sub-alice", Username: "alice", Groups: []string{"MLUsers"}}

func refusedCount(rs []store.Record) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.User]++
	}
	return out
}
