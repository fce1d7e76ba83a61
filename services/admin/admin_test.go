package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

const haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"

type fixture struct {
	url    string
	srv    *httptest.Server
	store  store.Store
	tokens map[string]string
	start  time.Time
}

var (
	fixOnce sync.Once
	fix     *fixture
	tempDir string
)

func TestMain(m *testing.M) {
	var err error
	if tempDir, err = os.MkdirTemp("", "portico-admin-test"); err != nil {
		panic(err)
	}
	code := m.Run()
	if fix != nil {
		fix.srv.Close()
		_ = fix.store.Close()
	}
	_ = os.RemoveAll(tempDir)
	os.Exit(code)
}

// setup starts, once for the package, the dev IdP, a SQLite store seeded with 60 requests
// (alice 40 over 4 days, dana 20) and the AdminService behind the real authn middleware.
func setup(t *testing.T) *fixture {
	fixOnce.Do(func() { fix = newFixture(t) })
	if fix == nil {
		t.Fatal("fixture failed")
	}
	return fix
}

type keep struct{ testing.TB }

func (keep) Cleanup(func()) {}

func newFixture(t *testing.T) *fixture {
	tb := keep{t}
	idp := devidptest.Start(tb)
	f := &fixture{tokens: map[string]string{}, start: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	for _, u := range []string{"alice", "dana", "bob"} {
		f.tokens[u] = idp.AccessToken(tb, u)
	}
	f.tokens["machine"] = idp.MachineToken(tb, authn.ScopeInference, authn.ScopeIdentity)
	now := f.start
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tempDir, "p.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	for i := range 60 {
		who, groups := "alice", []string{"MLUsers"}
		if i >= 40 {
			who, groups = "dana", []string{"Administrators", "MLUsers"}
		}
		now = f.start.Add(time.Duration(i%4) * 24 * time.Hour).Add(time.Duration(i) * time.Minute)
		tk, err := st.Reserve(context.Background(), store.Reservation{
			RequestID: fmt.Sprintf("req-%02d", i), User: who, Subject: who, Groups: groups, ClientID: "portico-web",
			Procedure: "/portico.inference.v1.InferenceService/Converse", ModelID: haiku, Tokens: 100,
		})
		if err != nil {
			t.Fatal(err)
		}
		o := store.Outcome{InputTokens: 10, OutputTokens: 20, CostNanos: 1000}
		if i%10 == 0 {
			o = store.Outcome{Code: "invalid_argument", ErrorMessage: "bad"}
		}
		if err := st.Settle(context.Background(), tk, o); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := admin.NewService(admin.Config{Policy: func() *policy.Policy { return pol }, Store: st, Catalog: catalog.Default()})
	mux := http.NewServeMux()
	mux.Handle(adminv1connect.NewAdminServiceHandler(svc))
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}})
	srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
	f.url, f.srv = srv.URL, srv
	return f
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func (f *fixture) client(who string) adminv1connect.AdminServiceClient {
	return adminv1connect.NewAdminServiceClient(&http.Client{Transport: bearer{f.tokens[who], http.DefaultTransport}}, f.url)
}

func TestAuthz(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, tt := range []struct {
		who  string
		code connect.Code
	}{{"dana", 0}, {"alice", connect.CodePermissionDenied}, {"bob", connect.CodePermissionDenied}, {"machine", connect.CodePermissionDenied}} {
		t.Run(tt.who, func(t *testing.T) {
			t.Parallel()
			c := f.client(tt.who)
			_, err := c.ListUsage(context.Background(), &adminv1.ListUsageRequest{StartDay: "2026-11-01", EndDay: "2026-11-30"})
			if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
				t.Errorf("ListUsage: err = %v, want %v", err, tt.code)
			}
			_, err = c.ListAuditEvents(context.Background(), &adminv1.ListAuditEventsRequest{})
			if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
				t.Errorf("ListAuditEvents: err = %v, want %v", err, tt.code)
			}
		})
	}
}

func TestListUsageValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	user, model := adminv1.UsageDimension_USAGE_DIMENSION_USER, adminv1.UsageDimension_USAGE_DIMENSION_MODEL
	tests := []struct {
		name       string
		start, end string
		groupBy    []adminv1.UsageDimension
		msg        string // "" means valid
	}{
		{name: "bad start", start: "2026-13-01", end: "2026-12-01", msg: "start_day"},
		{name: "empty start", start: "", end: "2026-12-01", msg: "start_day"},
		{name: "bad end", start: "2026-11-01", end: "30/11/2026", msg: "end_day"},
		{name: "end before start", start: "2026-11-02", end: "2026-11-01", msg: "before"},
		{name: "367 days", start: "2026-01-01", end: "2027-01-03", msg: "at most 366"},
		{name: "366 days", start: "2024-01-01", end: "2025-01-01"},
		{name: "one day", start: "2026-11-20", end: "2026-11-20"},
		{name: "unspecified dimension", start: "2026-11-01", end: "2026-11-30", groupBy: []adminv1.UsageDimension{0}, msg: "group_by[0]"},
		{name: "unknown dimension", start: "2026-11-01", end: "2026-11-30", groupBy: []adminv1.UsageDimension{user, 99}, msg: "group_by[1]"},
		{name: "repeated dimension", start: "2026-11-01", end: "2026-11-30", groupBy: []adminv1.UsageDimension{user, model, user}, msg: "repeats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.client("dana").ListUsage(context.Background(), &adminv1.ListUsageRequest{StartDay: tt.start, EndDay: tt.end, GroupBy: tt.groupBy})
			if tt.msg == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want invalid_argument containing %q", err, tt.msg)
			}
		})
	}
}

func TestListUsage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res, err := f.client("dana").ListUsage(context.Background(), &adminv1.ListUsageRequest{
		StartDay: "2026-11-01", EndDay: "2026-11-30",
		GroupBy: []adminv1.UsageDimension{adminv1.UsageDimension_USAGE_DIMENSION_USER, adminv1.UsageDimension_USAGE_DIMENSION_DAY},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.GetTotals(); tot.GetRequests() != 60 || tot.GetErrors() != 6 || tot.GetTotalTokens() != 54*30 || res.GetPriceTableVersion() == "" {
		t.Errorf("totals = %v", res.GetTotals())
	}
	if len(res.GetRows()) != 8 || res.GetRows()[0].GetUser() != "alice" || res.GetRows()[0].GetDay() != "2026-11-20" || res.GetRows()[7].GetUser() != "dana" {
		t.Errorf("rows = %v", res.GetRows())
	}
	one, err := f.client("dana").ListUsage(context.Background(), &adminv1.ListUsageRequest{StartDay: "2026-11-21", EndDay: "2026-11-21", User: "alice"})
	if err != nil || len(one.GetRows()) != 1 || one.GetTotals().GetRequests() != 10 {
		t.Errorf("alice on the 21st = %v, %v", one, err)
	}
}

func TestListAuditEvents(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.client("dana")
	ctx := context.Background()
	bad := []struct {
		name string
		req  *adminv1.ListAuditEventsRequest
		msg  string
	}{
		{"page size 501", &adminv1.ListAuditEventsRequest{PageSize: 501}, "page_size"},
		{"negative page size", &adminv1.ListAuditEventsRequest{PageSize: -1}, "page_size"},
		{"start after end", &adminv1.ListAuditEventsRequest{StartTime: timestamppb.New(f.start.Add(time.Hour)), EndTime: timestamppb.New(f.start)}, "before end_time"},
		{"invalid time", &adminv1.ListAuditEventsRequest{StartTime: &timestamppb.Timestamp{Nanos: -1}}, "start_time"},
		{"malformed page token", &adminv1.ListAuditEventsRequest{PageToken: "!!not-a-token"}, "page token"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.ListAuditEvents(ctx, tt.req)
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want invalid_argument containing %q", err, tt.msg)
			}
		})
	}
	t.Run("default page and paging", func(t *testing.T) {
		t.Parallel()
		first, err := c.ListAuditEvents(ctx, &adminv1.ListAuditEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.GetEvents()) != 50 || first.GetNextPageToken() == "" {
			t.Fatalf("first page: %d events, token %q", len(first.GetEvents()), first.GetNextPageToken())
		}
		all := first.GetEvents()
		req := &adminv1.ListAuditEventsRequest{PageToken: first.GetNextPageToken()}
		for req.PageToken != "" {
			page, err := c.ListAuditEvents(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.GetEvents()...)
			req.PageToken = page.GetNextPageToken()
		}
		if len(all) != 60 {
			t.Fatalf("%d events, want 60", len(all))
		}
		seen := map[string]bool{}
		for i, e := range all {
			if seen[e.GetRequestId()] {
				t.Errorf("%s listed twice", e.GetRequestId())
			}
			seen[e.GetRequestId()] = true
			if i > 0 && e.GetTime().AsTime().After(all[i-1].GetTime().AsTime()) {
				t.Errorf("not newest first at %d", i)
			}
		}
	})
	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		res, err := c.ListAuditEvents(ctx, &adminv1.ListAuditEventsRequest{User: "dana", PageSize: 500})
		if err != nil || len(res.GetEvents()) != 20 {
			t.Fatalf("dana's events: %d, %v", len(res.GetEvents()), err)
		}
		e := res.GetEvents()[0]
		if e.GetUser() != "dana" || e.GetModelId() != haiku || e.GetProcedure() == "" || e.GetEstimatedCost() == nil || len(e.GetGroups()) != 2 {
			t.Errorf("event = %v", e)
		}
		day, err := c.ListAuditEvents(ctx, &adminv1.ListAuditEventsRequest{
			StartTime: timestamppb.New(f.start.Add(24 * time.Hour)), EndTime: timestamppb.New(f.start.Add(48 * time.Hour)), PageSize: 500,
		})
		if err != nil || len(day.GetEvents()) != 15 {
			t.Errorf("events of the second day: %d, %v", len(day.GetEvents()), err)
		}
	})
}
