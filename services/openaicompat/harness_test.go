package openaicompat_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/sqlitekeys"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/openaicompat"
	"github.com/portico-dev/portico/services/platform/awsrt"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/token"
)

const novaLite = "amazon.nova-lite-v1:0"

// The dev IdP is shared by the package's tests: signing in is the slow part.
var (
	idpOnce   sync.Once
	idpShared *devidptest.IdP
	tokensMu  sync.Mutex
	tokenMemo = map[string]string{}
)

type keepAlive struct{ testing.TB }

func (keepAlive) Cleanup(func()) {}

func idp(t testing.TB) *devidptest.IdP {
	idpOnce.Do(func() { idpShared = devidptest.Start(&keepAlive{TB: t}) })
	return idpShared
}

// tokenFor returns a dev user's access token, or the machine client's for "machine".
func tokenFor(t testing.TB, who string) string {
	tokensMu.Lock()
	defer tokensMu.Unlock()
	if tok, ok := tokenMemo[who]; ok {
		return tok
	}
	var tok string
	if who == "machine" {
		tok = idp(t).MachineToken(t, authn.ScopeInference)
	} else {
		tok = idp(t).AccessToken(t, who)
	}
	tokenMemo[who] = tok
	return tok
}

// stack is the services' real handler chain: services/server with the authn middleware
// and the API key verifier, InferenceService, ApiKeyService and the /v1 endpoint, over
// SQLite stores and the local Bedrock endpoint.
type stack struct {
	url    string
	store  store.Store
	keys   apikey.Store
	aws    *localaws.Server
	policy *policy.Policy
	ended  chan localaws.StreamEnd
}

type stackOptions struct {
	policyYAML      string
	tokensPerSecond float64
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	s := &stack{ended: make(chan localaws.StreamEnd, 16)}
	var err error
	if o.policyYAML != "" {
		s.policy, err = policy.Parse([]byte(o.policyYAML))
	} else {
		s.policy, err = policy.Default()
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if s.store, err = sqlitestore.Open(context.Background(), filepath.Join(dir, "portico.db"), store.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.store.Close() })
	if s.keys, err = sqlitekeys.Open(context.Background(), filepath.Join(dir, "keys.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.keys.Close() })
	s.aws = localaws.New(localaws.Config{TokensPerSecond: o.tokensPerSecond, OnStreamEnd: func(e localaws.StreamEnd) {
		select {
		case s.ended <- e:
		default:
		}
	}})
	awsSrv := httptest.NewServer(s.aws)
	t.Cleanup(awsSrv.Close)
	awsCfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(awsSrv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", "")}
	log := slog.New(slog.DiscardHandler)
	pol := func() *policy.Policy { return s.policy }
	resolver := apikey.NewResolver(apikey.ResolverConfig{Store: s.keys, Policy: pol, Logger: log})
	seen := apikey.NewSeenRecorder(s.keys, nil, log)
	verifier := apikey.NewVerifier(token.NewVerifier(idp(t).Issuer(), token.Cognito{ClientIDs: []string{"portico-web", "portico-machine"}}), resolver, seen)
	srv, err := server.New(server.WithLogger(log), server.WithAuth(authn.New(verifier, log)))
	if err != nil {
		t.Fatal(err)
	}
	svc := inference.NewService(inference.Config{Catalog: catalog.Default(), Policy: pol, Store: s.store,
		Bedrock: bedrock.New(awsCfg, awsrt.WithMaxBackoff(time.Millisecond), awsrt.WithMaxAttempts(2)), Logger: log})
	srv.Mount(inferencev1connect.NewInferenceServiceHandler(svc, append(srv.HandlerOptions(), inference.HandlerOptions()...)...))
	srv.Mount(apikeyv1connect.NewApiKeyServiceHandler(apikey.NewService(apikey.ServiceConfig{
		Store: s.keys, Policy: pol, Resolver: resolver, Seen: seen, Admin: s.policy.IsUsageAdmin, Logger: log,
	}), srv.HandlerOptions()...))
	srv.HandleHTTP(openaicompat.Prefix, openaicompat.New(openaicompat.Config{Inference: svc, Verifier: verifier, Logger: log}))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// as returns a Connect client context calling with credential.
func as(ctx context.Context, credential string) context.Context {
	ctx, info := connect.NewClientContext(ctx)
	info.RequestHeader().Set("Authorization", "Bearer "+credential)
	return ctx
}

func (s *stack) keyClient() apikeyv1connect.ApiKeyServiceClient {
	return apikeyv1connect.NewApiKeyServiceClient(http.DefaultClient, s.url)
}

// newKey creates a key as the dev user who, with req's settings, and returns its secret.
func (s *stack) newKey(t testing.TB, who string, req *apikeyv1.CreateApiKeyRequest) (*apikeyv1.ApiKey, string) {
	t.Helper()
	if req.GetName() == "" {
		req.Name = "test"
	}
	res, err := s.keyClient().CreateApiKey(as(t.Context(), tokenFor(t, who)), req)
	if err != nil {
		t.Fatalf("CreateApiKey as %s: %v", who, err)
	}
	return res.GetKey(), res.GetSecret()
}

// records returns user's audit records, newest first.
func (s *stack) records(t testing.TB, user string) []store.Record {
	t.Helper()
	page, err := s.store.ListAudit(t.Context(), store.AuditFilter{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

var _ = principal.KindPerson
