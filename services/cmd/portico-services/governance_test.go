package main_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// quotaLimit returns the limit a RESOURCE_EXHAUSTED error's QuotaExceeded detail names.
func quotaLimit(err error) *typev1.QuotaLimit {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if q, ok := v.(*typev1.QuotaExceeded); ok {
				return q.GetStatus().GetLimit()
			}
		}
	}
	return nil
}

// TestPolicyEditAppliesAcrossProcesses is the scenario with two service processes on
// one store (a SQLite file; a dynalite table): dana lowers MLUsers' daily tokens through one
// process, and alice's next requests through the other are refused with the new limit in
// their QuotaExceeded detail once it has checked the version (PORTICO_POLICY_REFRESH=1s);
// dana rolls back through the second, and alice works again through the first; the audit
// trail shows both changes.
func TestPolicyEditAppliesAcrossProcesses(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	local := httptest.NewServer(localaws.New(localaws.Config{TokensPerSecond: 1000}))
	t.Cleanup(local.Close)
	alice, dana := idp.AccessToken(t, "alice"), idp.AccessToken(t, "dana")
	ddb := dynalitetest.Start(t)
	table := ddb.Table("governance")
	if err := dynamostore.EnsureTable(t.Context(), ddb.Client, table); err != nil {
		t.Fatal(err)
	}
	backends := map[string][]string{
		"sqlite":   {"PORTICO_STORE=sqlite:" + filepath.Join(t.TempDir(), "shared.db")},
		"dynamodb": {"PORTICO_STORE=dynamodb:" + table, "AWS_ENDPOINT_URL_DYNAMODB=" + ddb.URL},
	}
	for name, storeEnv := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := append([]string{"PORTICO_ISSUER=" + idp.Issuer(), "AWS_ENDPOINT_URL=" + local.URL, "PORTICO_POLICY_REFRESH=1s"}, storeEnv...)
			urlA, urlB := spawn(t, env...).url(t), spawn(t, env...).url(t)
			ctx := context.Background()
			adminA := adminv1connect.NewAdminServiceClient(h2cClient(), urlA)
			adminB := adminv1connect.NewAdminServiceClient(h2cClient(), urlB)
			inferA := inferencev1connect.NewInferenceServiceClient(h2cClient(), urlA)
			inferB := inferencev1connect.NewInferenceServiceClient(h2cClient(), urlB)
			converse := func(c inferencev1connect.InferenceServiceClient) error {
				_, err := c.Converse(withBearer(ctx, alice), &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{{
					Role: inferencev1.Role_ROLE_USER, Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "hello"}}},
				}}})
				return err
			}
			// eventually calls c until want(err) holds, for at most 15 s (the refresh is 1 s).
			eventually := func(what string, c inferencev1connect.InferenceServiceClient, want func(error) bool) error {
				deadline := time.Now().Add(15 * time.Second)
				for {
					err := converse(c)
					if want(err) {
						return err
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: still %v", what, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			if err := converse(inferB); err != nil {
				t.Fatalf("alice before the edit: %v", err)
			}

			got, err := adminA.GetPolicy(withBearer(ctx, dana), &adminv1.GetPolicyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if !got.GetEditable() || got.GetMode() != adminv1.PolicyMode_POLICY_MODE_STORE || got.GetVersion().GetVersion() < 1 {
				t.Fatalf("GetPolicy = editable %v, mode %v, version %v", got.GetEditable(), got.GetMode(), got.GetVersion())
			}
			base := got.GetVersion().GetVersion()
			edited := proto.Clone(got.GetPolicy()).(*adminv1.Policy)
			for _, g := range edited.GetGroups() {
				if g.GetName() == "MLUsers" {
					g.Quotas.UserTokensPerDay = proto.Int64(20)
				}
			}
			up, err := adminA.UpdatePolicy(withBearer(ctx, dana), &adminv1.UpdatePolicyRequest{BaseVersion: base,
				Source: &adminv1.UpdatePolicyRequest_Policy{Policy: edited}, Comment: "lower MLUsers"})
			if err != nil {
				t.Fatal(err)
			}
			if up.GetVersion().GetVersion() != base+1 || !strings.Contains(strings.Join(up.GetVersion().GetChanges(), "\n"), "groups[MLUsers].quotas.userTokensPerDay: 200000 -> 20") {
				t.Errorf("UpdatePolicy = %v", up.GetVersion())
			}
			err = eventually("alice through B after the edit", inferB, func(err error) bool { return connect.CodeOf(err) == connect.CodeResourceExhausted })
			if l := quotaLimit(err); l.GetLimit() != 20 || l.GetUnit() != typev1.QuotaUnit_QUOTA_UNIT_TOKENS || l.GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_DAY {
				t.Errorf("QuotaExceeded names %v, want the new 20 tokens per day", l)
			}

			// A second editor still on the old base is refused.
			if _, err := adminB.UpdatePolicy(withBearer(ctx, dana), &adminv1.UpdatePolicyRequest{BaseVersion: base,
				Source: &adminv1.UpdatePolicyRequest_Yaml{Yaml: got.GetYaml()}}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
				t.Errorf("stale UpdatePolicy: %v, want failed_precondition", err)
			}
			rb, err := adminB.RollbackPolicy(withBearer(ctx, dana), &adminv1.RollbackPolicyRequest{Version: base, BaseVersion: base + 1})
			if err != nil {
				t.Fatal(err)
			}
			if rb.GetVersion().GetKind() != adminv1.PolicyChangeKind_POLICY_CHANGE_KIND_ROLLBACK || rb.GetVersion().GetRestoredVersion() != base {
				t.Errorf("RollbackPolicy = %v", rb.GetVersion())
			}
			eventually("alice through A after the rollback", inferA, func(err error) bool { return err == nil })

			audit, err := adminA.ListAuditEvents(withBearer(ctx, dana), &adminv1.ListAuditEventsRequest{User: "dana", ModelId: "policy", PageSize: 500})
			if err != nil {
				t.Fatal(err)
			}
			var details []string
			for _, e := range audit.GetEvents() {
				details = append(details, e.GetOutcome()+" "+e.GetProcedure()+" "+e.GetDetail())
			}
			all := strings.Join(details, "\n")
			for _, want := range []string{
				"ok /portico.admin.v1.AdminService/UpdatePolicy policy version",
				"failed_precondition /portico.admin.v1.AdminService/UpdatePolicy refused: update based on version",
				"ok /portico.admin.v1.AdminService/RollbackPolicy policy version",
			} {
				if !strings.Contains(all, want) {
					t.Errorf("audit lacks %q:\n%s", want, all)
				}
			}

			// Chargeback: alice's requests are recorded under her department (the dev IdP's
			// custom:department claim), and ListUsage breaks usage down and filters by it.
			day := time.Now().UTC().Format(time.DateOnly)
			byDept, err := adminB.ListUsage(withBearer(ctx, dana), &adminv1.ListUsageRequest{StartDay: day, EndDay: day, Department: "Research",
				GroupBy: []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_DEPARTMENT, adminv1.UsageDimension_USAGE_DIMENSION_USER}})
			if err != nil {
				t.Fatal(err)
			}
			if rows := byDept.GetRows(); len(rows) != 1 || rows[0].GetDepartment() != "Research" || rows[0].GetUser() != "alice" || rows[0].GetTotals().GetRequests() < 2 {
				t.Errorf("usage of Research by user = %v", rows)
			}

			// GetMe tells dana she may edit, and alice that she may not.
			identity := identityv1connect.NewIdentityServiceClient(h2cClient(), urlB)
			for who, want := range map[string]bool{"dana": true, "alice": false} {
				me, err := identity.GetMe(withBearer(ctx, map[string]string{"dana": dana, "alice": alice}[who]), &identityv1.GetMeRequest{})
				if err != nil || me.GetPolicyAdmin() != want || me.GetPrincipal().GetDepartment() == "" {
					t.Errorf("GetMe(%s) = policy admin %v, department %q, %v", who, me.GetPolicyAdmin(), me.GetPrincipal().GetDepartment(), err)
				}
			}
		})
	}
}

// TestIdentityAloneNeverWritesThePolicy: a process serving identity alone (its function may
// only read the table) serves the file while the store is empty, and writes no version.
func TestIdentityAloneNeverWritesThePolicy(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	db := filepath.Join(t.TempDir(), "identity.db")
	url := spawn(t, "PORTICO_ISSUER="+idp.Issuer(), "PORTICO_SERVICE=identity", "PORTICO_STORE=sqlite:"+db).url(t)
	identity := identityv1connect.NewIdentityServiceClient(h2cClient(), url)
	me, err := identity.GetMe(withBearer(context.Background(), idp.AccessToken(t, "dana")), &identityv1.GetMeRequest{})
	if err != nil || !me.GetPolicyAdmin() || len(me.GetEntitlements().GetModelIds()) == 0 {
		t.Fatalf("GetMe = %v, %v", me, err)
	}
	st, err := sqlitestore.Open(t.Context(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	if n, err := st.LatestPolicyVersion(t.Context()); n != 0 || err != nil {
		t.Errorf("identity wrote policy version %d (%v)", n, err)
	}
}
