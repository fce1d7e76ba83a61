package faults_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/portico-dev/portico/bff"
	"github.com/portico-dev/portico/bff/config"
	"github.com/portico-dev/portico/bff/cookie"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/platform/awsrt"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
	"github.com/portico-dev/portico/services/testing/bench"
	"github.com/portico-dev/portico/services/token"
)

// haiku is a model alice (MLUsers) and machine clients may use.
const haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"

// clock is real time plus an offset the test moves; the IdP, the services' verifier and the
// BFF share it.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// chain is the whole request path, in process: browser → BFF → services → local AWS, with
// the dev IdP and a SQLite store.
type chain struct {
	t        testing.TB
	clock    *clock
	idp      *devidptest.IdP
	aws      *localaws.Server
	awsURL   string
	store    *sqlitestore.Store
	dbPath   string
	services string // the services' base URL (h2c)
	bff      string // the BFF's origin
}

type chainOptions struct {
	aws        localaws.Config
	rpcTimeout time.Duration // the services' maximum RPC timeout; 0 keeps the default
	// servicesLog and bffLog receive the services' and the BFF's logs; nil discards them.
	servicesLog, bffLog *slog.Logger
}

func newChain(t testing.TB, o chainOptions) *chain {
	t.Helper()
	ctx := context.Background()
	c := &chain{t: t, clock: &clock{}}
	bffSrv := httptest.NewUnstartedServer(nil)
	c.bff = "http://" + bffSrv.Listener.Addr().String()
	c.idp = devidptest.Start(t,
		devidp.WithClock(c.clock.now),
		devidp.WithRedirectURIs(c.bff+"/auth/callback"),
		devidp.WithLogoutURIs(c.bff+"/"),
	)

	c.aws = localaws.New(o.aws)
	awsSrv := httptest.NewServer(c.aws)
	t.Cleanup(awsSrv.Close)
	c.awsURL = awsSrv.URL

	c.dbPath = filepath.Join(t.TempDir(), "portico.db")
	st, err := sqlitestore.Open(ctx, c.dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c.store = st

	cat := catalog.Default()
	var models, endpoints []string
	for _, m := range cat.Models() {
		if m.Provider == catalog.ProviderSageMaker {
			endpoints = append(endpoints, m.ID)
		} else {
			models = append(models, m.ID)
		}
	}
	pol, err := policy.Parse(bench.Policy, policy.WithModelIDs(models...), policy.WithEndpointNames(endpoints...))
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", ""),
		BaseEndpoint: aws.String(awsSrv.URL),
	}
	log := o.servicesLog
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc := inference.NewService(inference.Config{
		Catalog: cat, Policy: func() *policy.Policy { return pol }, Store: st, Logger: log,
		TrustedClientIDs: []string{devidp.WebClientID}, // as PORTICO_BFF_CLIENT_IDS in make dev
		Bedrock:          bedrock.New(awsCfg, awsrt.WithMaxAttempts(1)),
	})
	verifier := token.NewVerifier(c.idp.Issuer(), token.Cognito{ClientIDs: []string{devidp.WebClientID, devidp.MachineClientID}},
		token.WithClock(c.clock.now))
	srvOpts := []server.Option{server.WithLogger(log), server.WithAuth(authn.New(verifier, log)),
		server.WithTrustedCaller(principal.ClientIn(devidp.WebClientID))}
	if o.rpcTimeout > 0 {
		srvOpts = append(srvOpts, server.WithRPCTimeout(o.rpcTimeout, o.rpcTimeout))
	}
	srv, err := server.New(srvOpts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(inferencev1connect.NewInferenceServiceHandler(svc, srv.HandlerOptions()...))
	svcSrv := httptest.NewUnstartedServer(srv.Handler())
	svcSrv.Config.Protocols = new(http.Protocols)
	svcSrv.Config.Protocols.SetHTTP1(true)
	svcSrv.Config.Protocols.SetUnencryptedHTTP2(true)
	svcSrv.Start()
	t.Cleanup(svcSrv.Close)
	c.services = svcSrv.URL

	servicesURL, _ := url.Parse(svcSrv.URL)
	bffLog := o.bffLog
	if bffLog == nil {
		bffLog = slog.New(slog.DiscardHandler)
	}
	key, err := cookie.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bff.New(&config.Config{
		PublicURL: c.bff, Issuer: c.idp.Issuer(),
		ClientID: devidp.WebClientID, ClientSecret: devidp.WebClientSecret,
		CookieKeys: []cookie.Key{key}, ServicesURL: servicesURL,
		SPADir: t.TempDir(), SessionStore: "cookie",
	}, bff.WithClock(c.clock.now), bff.WithIdPClient(c.idp.HTTPClient()), bff.WithLogger(bffLog))
	if err != nil {
		t.Fatal(err)
	}
	bffSrv.Config.Handler = b
	bffSrv.Start()
	t.Cleanup(bffSrv.Close)
	return c
}

// browser returns a browser signed in as user through the BFF and the IdP's login form.
func (c *chain) browser(user string) *bench.Browser {
	c.t.Helper()
	b := bench.NewBrowser(c.bff, http.DefaultTransport.(*http.Transport).Clone())
	if err := b.SignIn(context.Background(), user); err != nil {
		c.t.Fatal(err)
	}
	return b
}

// viaBFF returns an InferenceService client calling through the BFF as the browser does.
func (c *chain) viaBFF(b *bench.Browser) inferencev1connect.InferenceServiceClient {
	return inferencev1connect.NewInferenceServiceClient(b.HTTPClient(), c.bff+"/api", connect.WithProtoJSON())
}

// direct returns an InferenceService client calling the services with a bearer token.
func (c *chain) direct(tok string) inferencev1connect.InferenceServiceClient {
	return inferencev1connect.NewInferenceServiceClient(&http.Client{Transport: bench.Bearer{Token: tok, Base: bench.H2CTransport()}}, c.services)
}

// machineToken returns a client-credentials token from the IdP.
func (c *chain) machineToken() string {
	c.t.Helper()
	tok, err := bench.MachineToken(context.Background(), c.idp.Issuer())
	if err != nil {
		c.t.Fatal(err)
	}
	return tok
}

// books waits up to 10 s for the store to hold rows ledger rows and nothing in flight, then
// checks that every quota counter equals the ledger (read back from the SQLite file).
func (c *chain) books(rows int64) bench.LedgerCheck {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lc, err := bench.CheckLedger(context.Background(), c.dbPath)
		if err != nil {
			c.t.Fatalf("ledger check: %v", err)
		}
		if lc.Rows >= rows && lc.InFlight == 0 && lc.Reserved == 0 {
			if lc.Rows != rows || len(lc.Mismatches) > 0 {
				c.t.Fatalf("books: %d ledger rows (want %d), mismatches %v", lc.Rows, rows, lc.Mismatches)
			}
			return lc
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("books never settled: %d ledger rows (want %d), %d reservations in flight, %d reserved", lc.Rows, rows, lc.InFlight, lc.Reserved)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ask(prompt string, maxTokens int32) *inferencev1.ConverseRequest {
	return &inferencev1.ConverseRequest{
		ModelId: haiku,
		Messages: []*inferencev1.Message{{Role: inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: prompt}}}}},
		InferenceConfig: &inferencev1.InferenceConfig{MaxTokens: &maxTokens},
	}
}

func askStream(prompt string, maxTokens int32) *inferencev1.ConverseStreamRequest {
	r := ask(prompt, maxTokens)
	return &inferencev1.ConverseStreamRequest{ModelId: r.ModelId, Messages: r.Messages, InferenceConfig: r.InferenceConfig}
}
