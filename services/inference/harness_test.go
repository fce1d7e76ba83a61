package inference_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/conversation"
	convsqlite "github.com/portico-dev/portico/services/conversation/sqlitestore"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/platform/awsrt"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/sagemaker"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

const (
	haiku  = "anthropic.claude-3-5-haiku-20241022-v1:0"
	sonnet = "us.anthropic.claude-sonnet-4-20250514-v1:0"
	novaL  = "amazon.nova-lite-v1:0"
	titan  = "amazon.titan-text-express-v1"
	demo   = "portico-demo-llm"
)

// The dev IdP is shared by every test of the package: signing in is the slow part, and the
// IdP holds no state the tests depend on.
var (
	idpOnce   sync.Once
	idpShared *devidptest.IdP
	tokensMu  sync.Mutex
	tokens    = map[string]string{}
)

func idp(t testing.TB) *devidptest.IdP {
	idpOnce.Do(func() { idpShared = devidptest.Start(&keepAlive{TB: t}) })
	return idpShared
}

// keepAlive keeps the shared IdP running after the first test that started it ends.
type keepAlive struct{ testing.TB }

func (keepAlive) Cleanup(func()) {}

// tokenFor returns an access token of a dev user, or of the machine client for "machine"
// (scope portico/inference) and "machine-identity" (scope portico/identity).
func tokenFor(t testing.TB, who string) string {
	tokensMu.Lock()
	defer tokensMu.Unlock()
	if tok, ok := tokens[who]; ok {
		return tok
	}
	p := idp(t)
	var tok string
	switch who {
	case "machine":
		tok = p.MachineToken(t, authn.ScopeInference)
	case "machine-identity":
		tok = p.MachineToken(t, authn.ScopeIdentity)
	default:
		tok = p.AccessToken(t, who)
	}
	tokens[who] = tok
	return tok
}

type options struct {
	// trusted are the BFF client ids (Config.TrustedClientIDs); nil means portico-web, as
	// the dev stack configures, and an empty non-nil slice trusts nobody.
	trusted    []string
	policyYAML string
	// catalogYAML replaces the default catalog when set.
	catalogYAML string
	aws         localaws.Config
	storeOpts   store.Options
	now         func() time.Time
	// recorder receives the service's metrics; nil records none.
	recorder metering.Recorder
	// wrapBedrock, when set, wraps the Bedrock provider (benchmarks time it).
	wrapBedrock func(inference.BedrockProvider) inference.BedrockProvider
	// openStore opens the store; nil opens SQLite in t.TempDir().
	openStore func(t testing.TB, opts store.Options) store.Store
	// conversations keeps conversations (SQLite in t.TempDir(), attachments in memory) and
	// mounts the ConversationService too.
	conversations bool
	// convLimits are the conversation limits (with conversations).
	convLimits conversation.Limits
	// wrapConv, when set, wraps the conversation store the inference service uses.
	wrapConv func(conversation.Store) conversation.Store
}

type harness struct {
	t       testing.TB
	url     string
	aws     *localaws.Server
	awsURL  string
	awsCfg  aws.Config
	store   store.Store
	catalog *catalog.Catalog
	policy  *policy.Policy
	svc     *inference.Service
	logs    *syncBuffer
	conv    conversation.Store // with options.conversations
	atts    *memAttachments    // with options.conversations
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, o options) *harness {
	t.Helper()
	h := &harness{t: t, catalog: catalog.Default(), logs: &syncBuffer{}}
	var err error
	if o.catalogYAML != "" {
		if h.catalog, err = catalog.Parse("test-catalog.yaml", []byte(o.catalogYAML)); err != nil {
			t.Fatal(err)
		}
	}
	if o.policyYAML != "" {
		h.policy, err = policy.Parse([]byte(o.policyYAML))
	} else {
		h.policy, err = policy.Default()
	}
	if err != nil {
		t.Fatal(err)
	}
	var st store.Store
	if o.openStore != nil {
		st = o.openStore(t, o.storeOpts)
	} else {
		st = openSQLite(t, o.storeOpts)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st

	h.aws = localaws.New(o.aws)
	awsSrv := httptest.NewServer(h.aws)
	t.Cleanup(awsSrv.Close)
	h.awsURL = awsSrv.URL
	h.awsCfg = aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", ""),
		BaseEndpoint: aws.String(awsSrv.URL),
	}
	logger := slog.New(slog.NewTextHandler(h.logs, nil))
	var br inference.BedrockProvider = bedrock.New(h.awsCfg, awsrt.WithMaxBackoff(time.Millisecond), awsrt.WithMaxAttempts(2))
	if o.wrapBedrock != nil {
		br = o.wrapBedrock(br)
	}
	trusted := o.trusted
	if trusted == nil {
		trusted = []string{"portico-web"}
	}
	if o.conversations {
		cs, err := convsqlite.Open(context.Background(), filepath.Join(t.TempDir(), "conversations.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		h.conv, h.atts = cs, newMemAttachments()
	}
	cfg := inference.Config{
		Catalog: h.catalog, Policy: h.policy, Store: st,
		Bedrock:   br,
		SageMaker: sagemaker.New(h.awsCfg, awsrt.WithMaxBackoff(time.Millisecond), awsrt.WithMaxAttempts(2)),
		Logger:    logger,
		Recorder:  o.recorder,
		Now:       o.now,

		TrustedClientIDs: trusted,
	}
	if h.conv != nil {
		cfg.Conversations, cfg.Attachments, cfg.ConversationLimits = h.conv, h.atts, o.convLimits
		if o.wrapConv != nil {
			cfg.Conversations = o.wrapConv(h.conv)
		}
	}
	h.svc = inference.NewService(cfg)
	verifier := token.NewVerifier(idp(t).Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}})
	mux := http.NewServeMux()
	// The options of services/server that matter here: its read limit, and small messages
	// left uncompressed (gzip on a 200-byte answer cost ~45µs of the benchmarks' CPU).
	serverOpts := []connect.HandlerOption{connect.WithReadMaxBytes(4 << 20), connect.WithCompressMinBytes(1024)}
	mux.Handle(inferencev1connect.NewInferenceServiceHandler(h.svc, append(serverOpts, inference.HandlerOptions()...)...))
	if h.conv != nil {
		pol := h.policy
		mux.Handle(conversationv1connect.NewConversationServiceHandler(conversation.NewService(conversation.Config{
			Store: h.conv, Attachments: h.atts, Policy: func() *policy.Policy { return pol }, Logger: logger,
		}), serverOpts...))
	}
	srv := httptest.NewServer(authn.New(verifier, logger)(mux))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// bearer adds a token and extra headers to every request.
type bearer struct {
	token  string
	header http.Header
	next   http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	for k, v := range b.header {
		r.Header[k] = v
	}
	return b.next.RoundTrip(r)
}

// client returns an InferenceService client calling as who.
func (h *harness) client(who string, opts ...connect.ClientOption) inferencev1connect.InferenceServiceClient {
	return h.clientWithHeader(who, nil, opts...)
}

func (h *harness) clientWithHeader(who string, header http.Header, opts ...connect.ClientOption) inferencev1connect.InferenceServiceClient {
	hc := &http.Client{Transport: bearer{token: tokenFor(h.t, who), header: header, next: http.DefaultTransport}}
	return inferencev1connect.NewInferenceServiceClient(hc, h.url, append([]connect.ClientOption{connect.WithSendMaxBytes(16 << 20)}, opts...)...)
}

// records returns every audit record of user, newest first.
func (h *harness) records(user string) []store.Record {
	h.t.Helper()
	var out []store.Record
	f := store.AuditFilter{User: user, PageSize: store.MaxPageSize}
	for {
		page, err := h.store.ListAudit(context.Background(), f)
		if err != nil {
			h.t.Fatalf("ListAudit: %v", err)
		}
		out = append(out, page.Records...)
		if page.NextPageToken == "" {
			return out
		}
		f.PageToken = page.NextPageToken
	}
}

// record returns the audit record of a request id, waiting up to 10 s for it (a cancelled
// stream settles after the client has gone).
func (h *harness) record(user, id string) store.Record {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range h.records(user) {
			if r.RequestID == id {
				return r
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no audit record for request %s of %s", id, user)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkLedger checks that user's token counters equal the sum of their ledger and that
// nothing is still reserved.
func (h *harness) checkLedger(user string, limits []store.Limit) {
	h.t.Helper()
	var sum int64
	for _, r := range h.records(user) {
		sum += r.Tokens()
	}
	u, err := h.store.Usage(context.Background(), user, limits)
	if err != nil {
		h.t.Fatalf("Usage: %v", err)
	}
	for _, q := range u.Quotas {
		if q.Reserved != 0 {
			h.t.Errorf("%s: %d still reserved after every request settled", q.Limit, q.Reserved)
		}
		if q.Limit.Unit == typev1.QuotaUnit_QUOTA_UNIT_TOKENS && q.Limit.Subject == typev1.QuotaSubject_QUOTA_SUBJECT_USER && q.Used != sum {
			h.t.Errorf("%s: counter used %d, ledger sum %d", q.Limit, q.Used, sum)
		}
	}
}

// limitsOf returns the limits the policy applies to who for every model.
func (h *harness) limitsOf(groups ...string) []store.Limit {
	ent := h.policy.Entitlements(personIn(groups...))
	return ent.Quotas()
}

func requestID(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Meta().Get(inference.RequestIDHeader)
	}
	return ""
}

func text(s string) *inferencev1.ContentBlock {
	return &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Text{Text: s}}
}

func user(blocks ...*inferencev1.ContentBlock) *inferencev1.Message {
	return &inferencev1.Message{Role: inferencev1.Role_ROLE_USER, Content: blocks}
}

func assistant(blocks ...*inferencev1.ContentBlock) *inferencev1.Message {
	return &inferencev1.Message{Role: inferencev1.Role_ROLE_ASSISTANT, Content: blocks}
}

func ask(model, prompt string) *inferencev1.ConverseRequest {
	return &inferencev1.ConverseRequest{ModelId: model, Messages: []*inferencev1.Message{user(text(prompt))}}
}

func streamOf(r *inferencev1.ConverseRequest) *inferencev1.ConverseStreamRequest {
	return &inferencev1.ConverseStreamRequest{ModelId: r.ModelId, Messages: r.Messages, SystemPrompt: r.SystemPrompt, InferenceConfig: r.InferenceConfig}
}

// drain reads a stream to its end and returns its events and error.
func drain(s *connect.ServerStreamForClient[inferencev1.ConverseStreamResponse]) ([]*inferencev1.ConverseStreamResponse, error) {
	var evs []*inferencev1.ConverseStreamResponse
	for s.Receive() {
		evs = append(evs, s.Msg())
	}
	err := s.Err()
	_ = s.Close()
	return evs, err
}

func ptr[T any](v T) *T { return &v }

func personIn(groups ...string) *principal.Principal {
	gs := append([]string(nil), groups...)
	slices.Sort(gs)
	return &principal.Principal{Kind: principal.KindPerson, Username: "x", Groups: gs}
}

func openSQLite(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	return openSQLiteAt(t, filepath.Join(t.TempDir(), "portico.db"), opts)
}

func openSQLiteAt(t testing.TB, path string, opts store.Options) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// bothWays runs check in two parallel subtests, name/unary and name/stream, telling it
// which one it is.
func bothWays(t *testing.T, name string, check func(t *testing.T, streamed bool)) {
	t.Helper()
	for _, streamed := range []bool{false, true} {
		sub := name + "/unary"
		if streamed {
			sub = name + "/stream"
		}
		t.Run(sub, func(t *testing.T) {
			t.Parallel()
			check(t, streamed)
		})
	}
}
