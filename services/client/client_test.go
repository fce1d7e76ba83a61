package client_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/client"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// flakyIdentity fails its first `failures` calls with Unavailable.
type flakyIdentity struct {
	failures int32
	calls    atomic.Int32
}

func (f *flakyIdentity) GetMe(ctx context.Context, _ *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	if f.calls.Add(1) <= f.failures {
		return nil, connect.NewError(connect.CodeUnavailable, nil)
	}
	p, _ := principal.FromContext(ctx)
	return &identityv1.GetMeResponse{Principal: &identityv1.Principal{Username: p.Username}}, nil
}

// fakeInference fails every Converse with Unavailable and streams a fixed answer.
type fakeInference struct {
	inferencev1connect.UnimplementedInferenceServiceHandler
	calls atomic.Int32
}

func (u *fakeInference) Converse(context.Context, *inferencev1.ConverseRequest) (*inferencev1.ConverseResponse, error) {
	u.calls.Add(1)
	return nil, connect.NewError(connect.CodeUnavailable, nil)
}

func (u *fakeInference) ConverseStream(_ context.Context, _ *inferencev1.ConverseStreamRequest, s *connect.ServerStream[inferencev1.ConverseStreamResponse]) error {
	for _, w := range []string{"hello ", "world"} {
		if err := s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Delta{Delta: &inferencev1.ContentDelta{Text: w}}}); err != nil {
			return err
		}
	}
	return s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Stop{Stop: &inferencev1.MessageStop{StopReason: inferencev1.StopReason_STOP_REASON_END_TURN}}})
}

type env struct {
	iss         *tokentest.Issuer
	identity    *flakyIdentity
	inference   *fakeInference
	handler     http.Handler
	url         string
	tokenCalls  atomic.Int32
	sawProtocol atomic.Value
}

// start runs an h2c server with the real authn middleware in front of fake services, and an
// issuer whose token endpoint grants the machine client's client-credentials tokens.
func start(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.handler)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// newEnv returns the fake services behind the real authn middleware, as e.handler, and an
// issuer whose token endpoint grants the machine client's client-credentials tokens.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{iss: tokentest.Start(t), identity: &flakyIdentity{failures: 2}, inference: &fakeInference{}}
	e.iss.HandleToken(func(w http.ResponseWriter, r *http.Request) {
		e.tokenCalls.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != tokentest.MachineClientID || secret != "s3cret" || r.FormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": e.iss.MachineToken(tokentest.ScopeIdentity, tokentest.ScopeInference),
			"token_type":   "Bearer", "expires_in": 3600,
		})
	})
	v := token.NewVerifier(e.iss.URL, token.Cognito{ClientIDs: []string{tokentest.MachineClientID}})
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(e.identity))
	mux.Handle(inferencev1connect.NewInferenceServiceHandler(e.inference))
	h := authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux)
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.sawProtocol.Store(r.Proto + " " + r.Header.Get("Content-Type"))
		h.ServeHTTP(w, r)
	})
	return e
}

func (e *env) config() client.Config {
	return client.Config{
		BaseURL: e.url, Issuer: e.iss.URL,
		ClientID: tokentest.MachineClientID, ClientSecret: "s3cret",
		Retry: client.Retry{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}
}

func TestGetMeRetriesUnavailable(t *testing.T) {
	t.Parallel()
	e := start(t)
	c, err := client.New(context.Background(), e.config())
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{})
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.GetPrincipal().GetUsername() != tokentest.MachineClientID {
		t.Errorf("GetMe = %v", me)
	}
	if n := e.identity.calls.Load(); n != 3 {
		t.Errorf("server saw %d calls, want 3 (two Unavailable, one answer)", n)
	}
	if got := e.sawProtocol.Load(); got != "HTTP/2.0 application/grpc" {
		t.Errorf("request was %v, want gRPC over HTTP/2", got)
	}
	if _, err := c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{}); err != nil {
		t.Fatal(err)
	}
	if n := e.tokenCalls.Load(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1 (cached)", n)
	}
}

func TestRetryGivesUp(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.identity.failures = 100
	cfg := e.config()
	cfg.Retry.MaxAttempts = 3
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{})
	if connect.CodeOf(err) != connect.CodeUnavailable || e.identity.calls.Load() != 3 {
		t.Fatalf("err = %v after %d calls, want Unavailable after 3", err, e.identity.calls.Load())
	}
}

func TestConverseNotRetriedAfterServerUnavailable(t *testing.T) {
	t.Parallel()
	e := start(t)
	c, err := client.New(context.Background(), e.config())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Inference.Converse(context.Background(), &inferencev1.ConverseRequest{ModelId: "m"})
	if connect.CodeOf(err) != connect.CodeUnavailable || e.inference.calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls, want Unavailable after 1 (not idempotent)", err, e.inference.calls.Load())
	}
}

func TestConverseRetriedWhenConnectionRefused(t *testing.T) {
	t.Parallel()
	e := start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	var attempts atomic.Int32
	cfg := e.config()
	cfg.BaseURL = closed
	cfg.Options = []connect.ClientOption{connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
			attempts.Add(1)
			return next(ctx, r)
		}
	}))}
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Inference.Converse(context.Background(), &inferencev1.ConverseRequest{ModelId: "m"})
	if connect.CodeOf(err) != connect.CodeUnavailable || attempts.Load() != 4 {
		t.Fatalf("err = %v after %d attempts, want Unavailable after 4", err, attempts.Load())
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	e := start(t)
	cfg := e.config()
	cfg.ClientSecret = "wrong"
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Identity.GetMe(context.Background(), &identityv1.GetMeRequest{})
	if connect.CodeOf(err) != connect.CodeUnauthenticated || e.identity.calls.Load() != 0 {
		t.Fatalf("err = %v, want Unauthenticated before any call", err)
	}
	// A stream fails the same way, with the token error, and sends nothing.
	stream, err := c.Inference.ConverseStream(context.Background(), &inferencev1.ConverseStreamRequest{ModelId: "m"})
	if err == nil {
		for stream.Receive() {
		}
		err = stream.Err()
		_ = stream.Close()
	}
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "client: token") {
		t.Fatalf("stream err = %v, want Unauthenticated with the token error", err)
	}
	if p := e.sawProtocol.Load(); p != nil {
		t.Errorf("a request reached the server (%v) without a token", p)
	}
}

func TestDiscoveryFailure(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.iss.SetDown(true)
	if _, err := client.New(context.Background(), e.config()); err == nil {
		t.Fatal("New succeeded without a discovery document")
	}
}

// retryAfterIdentity fails once with Unavailable carrying a RetryAfter of ten minutes.
type retryAfterIdentity struct{ calls atomic.Int32 }

func (r *retryAfterIdentity) GetMe(context.Context, *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	if r.calls.Add(1) == 1 {
		err := connect.NewError(connect.CodeUnavailable, nil)
		d, derr := connect.NewErrorDetail(&typev1.RetryAfter{DelayMs: (10 * time.Minute).Milliseconds()})
		if derr != nil {
			return nil, derr
		}
		err.AddDetail(d)
		return nil, err
	}
	return &identityv1.GetMeResponse{}, nil
}

func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	e := start(t)
	svc := &retryAfterIdentity{}
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(svc))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := e.config()
	cfg.BaseURL = srv.URL
	c, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Identity.GetMe(ctx, &identityv1.GetMeRequest{}); err != nil {
		t.Fatalf("GetMe: %v (a ten-minute RetryAfter must be capped at MaxDelay)", err)
	}
	if n := svc.calls.Load(); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}
