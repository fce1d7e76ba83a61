package smoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/client"
	"github.com/portico-dev/portico/services/client/smoke"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

type identity struct{}

func (identity) GetMe(context.Context, *identityv1.GetMeRequest) (*identityv1.GetMeResponse, error) {
	return &identityv1.GetMeResponse{Principal: &identityv1.Principal{Username: "portico-machine"}}, nil
}

// inference serves a catalog of odd cases: a model that does not stream, one whose stream
// ends without its stop and metadata, endpoints taking JSON, text and images.
type inference struct {
	inferencev1connect.UnimplementedInferenceServiceHandler
	models []*inferencev1.Model

	mu      sync.Mutex
	invoked []*inferencev1.InvokeEndpointRequest
}

func (f *inference) ListModels(context.Context, *inferencev1.ListModelsRequest) (*inferencev1.ListModelsResponse, error) {
	return &inferencev1.ListModelsResponse{Models: f.models}, nil
}

func (f *inference) Converse(_ context.Context, req *inferencev1.ConverseRequest) (*inferencev1.ConverseResponse, error) {
	if req.GetInferenceConfig().GetMaxTokens() != 1 {
		return nil, connect.NewError(connect.CodeInvalidArgument, nil)
	}
	return &inferencev1.ConverseResponse{StopReason: inferencev1.StopReason_STOP_REASON_MAX_TOKENS, Metrics: &typev1.InvocationMetrics{InputTokens: 6, OutputTokens: 1}}, nil
}

func (f *inference) ConverseStream(_ context.Context, req *inferencev1.ConverseStreamRequest, s *connect.ServerStream[inferencev1.ConverseStreamResponse]) error {
	if err := s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Delta{Delta: &inferencev1.ContentDelta{Text: "OK"}}}); err != nil {
		return err
	}
	if req.GetModelId() == "truncated" {
		return nil // no stop, no metadata
	}
	if err := s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Stop{Stop: &inferencev1.MessageStop{StopReason: inferencev1.StopReason_STOP_REASON_MAX_TOKENS}}}); err != nil {
		return err
	}
	return s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Metadata{Metadata: &inferencev1.StreamMetadata{Metrics: &typev1.InvocationMetrics{OutputTokens: 1}}}})
}

func (f *inference) InvokeEndpoint(_ context.Context, req *inferencev1.InvokeEndpointRequest) (*inferencev1.InvokeEndpointResponse, error) {
	f.mu.Lock()
	f.invoked = append(f.invoked, req)
	f.mu.Unlock()
	return &inferencev1.InvokeEndpointResponse{Body: []byte(`{"generated_text":"OK"}`), ContentType: "application/json"}, nil
}

func (f *inference) GetUsage(context.Context, *inferencev1.GetUsageRequest) (*inferencev1.GetUsageResponse, error) {
	return &inferencev1.GetUsageResponse{Today: &typev1.UsageTotals{Requests: 3}}, nil
}

// start serves identity and inf behind the real authn middleware and returns a client
// configuration for them.
func start(t *testing.T, inf *inference) client.Config {
	t.Helper()
	iss := tokentest.Start(t)
	iss.HandleToken(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": iss.MachineToken(tokentest.ScopeIdentity, tokentest.ScopeInference),
			"token_type":   "Bearer", "expires_in": 3600,
		})
	})
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(identity{}))
	mux.Handle(inferencev1connect.NewInferenceServiceHandler(inf))
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.MachineClientID}})
	srv := httptest.NewServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
	t.Cleanup(srv.Close)
	return client.Config{BaseURL: srv.URL, Issuer: iss.URL, Protocol: client.ProtocolConnect}
}

func bedrock(id string, streaming bool) *inferencev1.Model {
	return &inferencev1.Model{Id: id, Provider: inferencev1.Provider_PROVIDER_BEDROCK, Capabilities: &inferencev1.Capabilities{Streaming: streaming}}
}

func endpoint(name string, types ...string) *inferencev1.Model {
	return &inferencev1.Model{Id: name, Provider: inferencev1.Provider_PROVIDER_SAGEMAKER, ContentTypes: types}
}

func TestRunOddCatalog(t *testing.T) {
	t.Parallel()
	inf := &inference{models: []*inferencev1.Model{
		bedrock("fine", true),
		bedrock("unary-only", false),
		bedrock("truncated", true),
		endpoint("json-llm", "application/json", "text/plain"),
		endpoint("text-llm", "text/plain"),
		endpoint("vision", "application/x-image"),
	}}
	r := smoke.Run(context.Background(), start(t, inf), smoke.Options{})
	tests := []struct {
		name, target string
		status       smoke.Status
		class        smoke.Class
		detail       string
	}{
		{"Converse", "fine", smoke.StatusOK, "", "max_tokens, 6 in / 1 out"},
		{"ConverseStream", "fine", smoke.StatusOK, "", "max_tokens"},
		{"ConverseStream", "unary-only", smoke.StatusSkipped, "", "does not stream"},
		{"ConverseStream", "truncated", smoke.StatusFailed, smoke.ClassUnavailable, "without its stop and metadata"},
		{"InvokeEndpoint", "json-llm", smoke.StatusOK, "", "bytes of application/json"},
		{"InvokeEndpoint", "text-llm", smoke.StatusOK, "", ""},
		{"InvokeEndpoint", "vision", smoke.StatusSkipped, "", "no test payload for application/x-image"},
		{"GetUsage", "", smoke.StatusOK, "", "today: 3 requests"},
	}
	for _, tt := range tests {
		c, ok := r.Find(tt.name, tt.target)
		if !ok || c.Status != tt.status || c.Class != tt.class || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("%s %s = %+v (found %v), want %s %q %q", tt.name, tt.target, c, ok, tt.status, tt.class, tt.detail)
		}
	}
	if r.OK() || len(r.Failed()) != 1 {
		t.Errorf("failed = %+v, want the truncated stream alone", r.Failed())
	}
	inf.mu.Lock()
	defer inf.mu.Unlock()
	if len(inf.invoked) != 2 {
		t.Fatalf("invoked %d endpoints, want 2", len(inf.invoked))
	}
	if got := inf.invoked[0]; got.GetContentType() != "application/json" || string(got.GetBody()) != `{"inputs":"Reply with the single word OK.","parameters":{"max_new_tokens":1}}` {
		t.Errorf("JSON endpoint got %s %s", got.GetContentType(), got.GetBody())
	}
	if got := inf.invoked[1]; got.GetContentType() != "text/plain" || string(got.GetBody()) != smoke.DefaultPrompt {
		t.Errorf("text endpoint got %s %s", got.GetContentType(), got.GetBody())
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "FAIL: 1 of 12 checks failed: ConverseStream truncated (unavailable)") {
		t.Errorf("table:\n%s", &table)
	}
}

func TestRunSkipEndpoints(t *testing.T) {
	t.Parallel()
	inf := &inference{models: []*inferencev1.Model{endpoint("json-llm", "application/json")}}
	r := smoke.Run(context.Background(), start(t, inf), smoke.Options{SkipEndpoints: true})
	if c, _ := r.Find("InvokeEndpoint", "json-llm"); c.Status != smoke.StatusSkipped || len(inf.invoked) != 0 || !r.OK() {
		t.Errorf("InvokeEndpoint = %+v after %d calls, want skipped", c, len(inf.invoked))
	}
}

func TestRunNoEntitlement(t *testing.T) {
	t.Parallel()
	r := smoke.Run(context.Background(), start(t, &inference{}), smoke.Options{})
	c, _ := r.Find("ListModels", "")
	if c.Status != smoke.StatusFailed || c.Class != smoke.ClassAccessDenied {
		t.Errorf("ListModels = %+v, want failed as access denied", c)
	}
	if _, ran := r.Find("GetUsage", ""); ran {
		t.Error("checks went on without a model list")
	}
}

func TestRunBadProtocol(t *testing.T) {
	t.Parallel()
	r := smoke.Run(context.Background(), client.Config{Protocol: "carrier-pigeon"}, smoke.Options{})
	if len(r.Checks) != 1 || r.Checks[0].Name != "config" || r.OK() {
		t.Errorf("checks = %+v, want one failed config check", r.Checks)
	}
}
