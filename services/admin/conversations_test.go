package admin_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/admin"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	convsqlite "github.com/portico-dev/portico/services/conversation/sqlitestore"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

type convFixture struct {
	url, bare string // with a conversation store; without one
	st        *sqlitestore.Store
	conv      conversation.Store
	tokens    map[string]string
}

// newConvFixture starts the AdminService with a conversation store (url) and without one
// (bare), behind the real authn middleware.
func newConvFixture(t *testing.T) *convFixture {
	t.Helper()
	idp := devidptest.Start(t)
	f := &convFixture{tokens: map[string]string{}}
	for _, u := range []string{"alice", "dana", "bob"} {
		f.tokens[u] = idp.AccessToken(t, u)
	}
	f.tokens["machine"] = idp.MachineToken(t, authn.ScopeInference, authn.ScopeIdentity)
	dir := t.TempDir()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "p.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cs, err := convsqlite.Open(t.Context(), filepath.Join(dir, "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	f.st, f.conv = st, cs
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}})
	serve := func(conv conversation.Store) string {
		svc := admin.NewService(admin.Config{Policy: func() *policy.Policy { return pol }, Store: st, Catalog: catalog.Default(), Conversations: conv})
		mux := http.NewServeMux()
		mux.Handle(adminv1connect.NewAdminServiceHandler(svc))
		srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	f.url, f.bare = serve(cs), serve(nil)
	return f
}

func (f *convFixture) client(who string, bare bool) adminv1connect.AdminServiceClient {
	url := f.url
	if bare {
		url = f.bare
	}
	return adminv1connect.NewAdminServiceClient(&http.Client{Transport: bearer{f.tokens[who], http.DefaultTransport}}, url)
}

// all reads every page with pages of size.
func (f *convFixture) all(t *testing.T, size int32) ([]*adminv1.ConversationCount, *adminv1.ConversationCount, [][]byte) {
	t.Helper()
	var people []*adminv1.ConversationCount
	var wire [][]byte
	req := &adminv1.ListConversationCountsRequest{PageSize: size}
	for range 50 {
		res, err := f.client("dana", false).ListConversationCounts(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		wire = append(wire, b)
		people = append(people, res.GetPeople()...)
		if res.GetNextPageToken() == "" {
			return people, res.GetTotals(), wire
		}
		req.PageToken = res.GetNextPageToken()
	}
	t.Fatal("still a next page after 50")
	return nil, nil, nil
}

// TestConversationCountsAuthz is a table of callers: only a usage admin reads the counts;
// every refusal is PERMISSION_DENIED, a person's audited, whether or not the service has a
// store.
func TestConversationCountsAuthz(t *testing.T) {
	t.Parallel()
	f := newConvFixture(t)
	for _, tt := range []struct {
		who  string
		bare bool
		code connect.Code
	}{
		{"dana", false, 0},
		{"dana", true, connect.CodeFailedPrecondition},
		{"alice", false, connect.CodePermissionDenied},
		{"bob", false, connect.CodePermissionDenied},
		{"machine", false, connect.CodePermissionDenied},
		{"bob", true, connect.CodePermissionDenied},
	} {
		_, err := f.client(tt.who, tt.bare).ListConversationCounts(t.Context(), &adminv1.ListConversationCountsRequest{})
		if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
			t.Errorf("%s (bare %v): err = %v, want %v", tt.who, tt.bare, err, tt.code)
		}
		if tt.code == connect.CodeFailedPrecondition && !strings.Contains(err.Error(), "no conversation store") {
			t.Errorf("%s (bare): %v does not say why", tt.who, err)
		}
	}
	unauth := adminv1connect.NewAdminServiceClient(http.DefaultClient, f.url)
	if _, err := unauth.ListConversationCounts(t.Context(), &adminv1.ListConversationCountsRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("no token: %v", err)
	}
	page, err := f.st.ListAudit(t.Context(), store.AuditFilter{ModelID: admin.ConversationsAuditModel, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]int{}
	for _, r := range page.Records {
		if r.Outcome != "permission_denied" || r.Procedure != adminv1connect.AdminServiceListConversationCountsProcedure || r.Detail != "refused: conversation counts" {
			t.Errorf("audit record %+v", r)
		}
		refused[r.User]++
	}
	// A machine client is refused by the authn middleware before the handler (no scope
	// grants the AdminService), so only people's refusals are the handler's to record.
	if len(page.Records) != 3 || refused["alice"] != 1 || refused["bob"] != 2 || len(refused) != 2 {
		t.Errorf("audited refusals %v, want alice 1 and bob 2", refused)
	}
}

// TestConversationCounts checks that the counts equal what the store holds after creates,
// answers and deletes, over pages of every size, with totals; that the response never
// holds a title, a conversation or message id or any text; and that bad requests are
// refused.
func TestConversationCounts(t *testing.T) {
	t.Parallel()
	f := newConvFixture(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var secrets []string
	start := func(owner, title, prompt string) string {
		id := conversationtest.Start(t, f.conv, owner, title, prompt, at)
		_, msgs, err := f.conv.Get(ctx, owner, id)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, id, title, prompt, msgs[0].ID())
		return id
	}
	a1 := start("sub-alice", "Merger codename Bluebird", "draft the bluebird memo")
	start("sub-alice", "Salary review", "what should carol earn")
	_, msgs, err := f.conv.Get(ctx, "sub-alice", a1)
	if err != nil {
		t.Fatal(err)
	}
	answer := conversationtest.Text(conversation.NewID(at), msgs[0].ID(), inferencev1.Role_ROLE_ASSISTANT, "the memo text for bluebird")
	if err := f.conv.AddAnswer(ctx, conversation.Answer{Owner: "sub-alice", ConversationID: a1, Message: answer, Now: at}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, answer.ID(), "the memo text for bluebird")
	start("sub-bob", "Holiday plans", "a week in Lisbon")
	gone := start("sub-bob", "Deleted thing", "forget me")
	if err := f.conv.Delete(ctx, "sub-bob", gone); err != nil {
		t.Fatal(err)
	}
	carol := conversation.NewID(at)
	if _, err := f.conv.AddTurn(ctx, conversation.Turn{Owner: "sub-carol", OwnerName: "carol.c", NewConversationID: carol, Title: "Only one",
		Message: conversationtest.Text(conversation.NewID(at), "", inferencev1.Role_ROLE_USER, "hello"), Now: at}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, carol, "Only one")

	want := map[string][3]int64{
		"sub-alice": {2, 3, int64(len("draft the bluebird memo") + len("what should carol earn") + len("the memo text for bluebird"))},
		"sub-bob":   {1, 1, int64(len("a week in Lisbon"))},
		"sub-carol": {1, 1, int64(len("hello"))},
	}
	for _, size := range []int32{0, 1, 2, 500} {
		people, totals, wire := f.all(t, size)
		got := map[string][3]int64{}
		for _, p := range people {
			got[p.GetSubject()] = [3]int64{p.GetConversations(), p.GetMessages(), p.GetBytes()}
			if wantUser := map[string]string{"sub-carol": "carol.c"}[p.GetSubject()]; p.GetUser() != wantUser {
				t.Errorf("page size %d: %s user %q, want %q", size, p.GetSubject(), p.GetUser(), wantUser)
			}
			if p.GetPeople() != 1 {
				t.Errorf("page size %d: %s people = %d", size, p.GetSubject(), p.GetPeople())
			}
		}
		if len(got) != len(want) || len(people) != len(want) {
			t.Errorf("page size %d: %v, want %v", size, got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("page size %d: %s = %v, want %v", size, k, got[k], w)
			}
		}
		if totals.GetPeople() != 3 || totals.GetConversations() != 4 || totals.GetMessages() != 5 ||
			totals.GetBytes() != want["sub-alice"][2]+want["sub-bob"][2]+want["sub-carol"][2] || totals.GetSubject() != "" {
			t.Errorf("page size %d: totals %v", size, totals)
		}
		for _, b := range wire {
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(s))) {
					t.Errorf("page size %d: a response holds %q", size, s)
				}
			}
		}
	}

	for _, tt := range []struct {
		name string
		req  *adminv1.ListConversationCountsRequest
		msg  string
	}{
		{"negative page size", &adminv1.ListConversationCountsRequest{PageSize: -1}, "page_size"},
		{"page size too large", &adminv1.ListConversationCountsRequest{PageSize: 501}, "page_size"},
		{"token not base64", &adminv1.ListConversationCountsRequest{PageToken: "!!"}, "page_token"},
		{"token not ours", &adminv1.ListConversationCountsRequest{PageToken: "e30"}, "page_token"},                  // {}
		{"store token not ours", &adminv1.ListConversationCountsRequest{PageToken: "eyJzIjoiISEifQ"}, "page_token"}, // {"s":"!!"}
	} {
		_, err := f.client("dana", false).ListConversationCounts(ctx, tt.req)
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want invalid_argument about %s", tt.name, err, tt.msg)
		}
	}
}
