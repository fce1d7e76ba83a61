package identity_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

// TestGetMeAlertsAndPolicyAdmin: GetMe shows alice the quotas past 80 % (what, used of
// limit, when it resets), not those below or per-minute ones, and tells dana, not alice, that
// she may edit the policy; a store that fails leaves the alerts out and GetMe answers.
func TestGetMeAlertsAndPolicyAdmin(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{"portico-web"}})
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "i.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	alice := &principal.Principal{Kind: principal.KindPerson, Username: "alice", Groups: []string{"MLUsers"}}
	limits := pol.Entitlements(alice).Quotas() // minute requests, day and month tokens, MLUsers' pool
	// 170,000 of 200,000 tokens today (85 %), of 2,000,000 this month (8.5 %).
	tk, err := st.Reserve(t.Context(), store.Reservation{RequestID: "r1", User: "alice", Groups: alice.Groups, ModelID: "m", Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(t.Context(), tk, store.Outcome{InputTokens: 170_000}); err != nil {
		t.Fatal(err)
	}
	serve := func(counters store.CounterReader) identityv1connect.IdentityServiceClient {
		mux := http.NewServeMux()
		mux.Handle(identityv1connect.NewIdentityServiceHandler(identity.NewService(identity.Config{
			Policy: func() *policy.Policy { return pol }, Counters: counters})))
		srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
		t.Cleanup(srv.Close)
		return identityv1connect.NewIdentityServiceClient(srv.Client(), srv.URL)
	}
	getMe := func(c identityv1connect.IdentityServiceClient, who string) *identityv1.GetMeResponse {
		ctx, info := connect.NewClientContext(context.Background())
		info.RequestHeader().Set("Authorization", "Bearer "+idp.AccessToken(t, who))
		me, err := c.GetMe(ctx, &identityv1.GetMeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return me
	}
	c := serve(st)
	me := getMe(c, "alice")
	if me.GetPolicyAdmin() || len(me.GetAlerts()) != 1 {
		t.Fatalf("alice: policy admin %v, alerts %v", me.GetPolicyAdmin(), me.GetAlerts())
	}
	a := me.GetAlerts()[0]
	if s := a.GetStatus(); a.GetThresholdPercent() != 80 || s.GetUsed() != 170_000 || s.GetLimit().GetLimit() != 200_000 ||
		s.GetRemaining() != 30_000 || s.GetLimit().GetWindow() != typev1.QuotaWindow_QUOTA_WINDOW_DAY || s.GetResetsAt() == nil {
		t.Errorf("alice's alert = %v", a)
	}
	if me.GetPrincipal().GetDepartment() != "Research" {
		t.Errorf("alice's department = %q (the dev IdP's access token carries it)", me.GetPrincipal().GetDepartment())
	}
	if dana := getMe(c, "dana"); !dana.GetPolicyAdmin() || len(dana.GetAlerts()) != 0 {
		t.Errorf("dana: policy admin %v, alerts %v", dana.GetPolicyAdmin(), dana.GetAlerts())
	}
	if me := getMe(serve(brokenCounters{}), "alice"); len(me.GetAlerts()) != 0 || me.GetPrincipal().GetUsername() != "alice" {
		t.Errorf("with a failing store: %v", me)
	}
}

type brokenCounters struct{}

func (brokenCounters) Counters(context.Context, string, []store.Limit) ([]store.QuotaStatus, error) {
	return nil, store.Unavailable("counters", errors.New("down"))
}
