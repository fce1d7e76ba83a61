package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/identity"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

type fakeInference struct {
	inferencev1connect.UnimplementedInferenceServiceHandler
}

func (fakeInference) ListModels(context.Context, *inferencev1.ListModelsRequest) (*inferencev1.ListModelsResponse, error) {
	return &inferencev1.ListModelsResponse{Models: []*inferencev1.Model{
		{Id: "amazon.nova-lite-v1:0", Provider: inferencev1.Provider_PROVIDER_BEDROCK, DisplayName: "Amazon Nova Lite"},
	}}, nil
}

func (fakeInference) ConverseStream(ctx context.Context, req *inferencev1.ConverseStreamRequest, s *connect.ServerStream[inferencev1.ConverseStreamResponse]) error {
	p, _ := principal.FromContext(ctx)
	words := []string{"hello ", p.Username, " about ", req.GetMessages()[0].GetContent()[0].GetText()}
	for _, w := range words {
		if err := s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Delta{Delta: &inferencev1.ContentDelta{Text: w}}}); err != nil {
			return err
		}
	}
	return s.Send(&inferencev1.ConverseStreamResponse{Event: &inferencev1.ConverseStreamResponse_Stop{Stop: &inferencev1.MessageStop{StopReason: inferencev1.StopReason_STOP_REASON_END_TURN}}})
}

// start runs the real IdentityService and a fake InferenceService behind the real middleware
// on h2c, and an issuer granting client-credentials tokens; it returns the CLI's environment.
func start(t *testing.T) map[string]string {
	t.Helper()
	iss := tokentest.Start(t)
	iss.HandleToken(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, _ := r.BasicAuth(); id != "portico-machine" || secret != "portico-machine-secret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": iss.MachineToken(tokentest.ScopeIdentity, tokentest.ScopeInference),
			"token_type":   "Bearer", "expires_in": 3600,
		})
	})
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(identityv1connect.NewIdentityServiceHandler(identity.NewService(identity.Config{Policy: func() *policy.Policy { return pol }})))
	mux.Handle(inferencev1connect.NewInferenceServiceHandler(fakeInference{}))
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{"portico-machine"}})
	srv := httptest.NewUnstartedServer(authn.New(v, slog.New(slog.NewTextHandler(io.Discard, nil)))(mux))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true) // as the real server: Connect and gRPC-Web over HTTP/1.1 too
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return map[string]string{"PORTICO_SERVICES_URL": srv.URL, "PORTICO_ISSUER": iss.URL}
}

func TestCLI(t *testing.T) {
	t.Parallel()
	env := start(t)
	tests := []struct {
		name   string
		args   []string
		status int
		stdout []string
		stderr string
	}{
		{"me", []string{"me"}, 0, []string{`"username": "portico-machine"`, `"PRINCIPAL_KIND_MACHINE"`, `"amazon.nova-lite-v1:0"`}, ""},
		{"me over connect", []string{"-protocol", "connect", "me"}, 0, []string{`"username": "portico-machine"`}, ""},
		{"me over grpc-web", []string{"-protocol", "grpcweb", "me"}, 0, []string{`"username": "portico-machine"`}, ""},
		{"chat over connect", []string{"-protocol", "connect", "chat", "-model", "amazon.nova-lite-v1:0", "hi"}, 0, []string{"hello portico-machine about hi\n"}, ""},
		{"unknown protocol", []string{"-protocol", "h3", "me"}, 2, nil, `unknown protocol "h3"`},
		{"models", []string{"models"}, 0, []string{"amazon.nova-lite-v1:0", "bedrock", "Amazon Nova Lite"}, ""},
		{"chat", []string{"chat", "-model", "amazon.nova-lite-v1:0", "the", "sea"}, 0, []string{"hello portico-machine about the sea\n"}, ""},
		{"chat without model", []string{"chat", "hi"}, 2, nil, "chat needs -model"},
		{"chat, max-tokens past int32", []string{"chat", "-model", "amazon.nova-lite-v1:0", "-max-tokens", "4294967297", "hi"}, 2, nil, "-max-tokens must be from 0 to"},
		{"usage unimplemented", []string{"usage"}, 1, nil, "unimplemented"},
		{"smoke fails on what the fake lacks", []string{"smoke"}, 1, []string{"(grpc)", "GetMe ", "FAIL: 2 of 6 checks failed: Converse amazon.nova-lite-v1:0 (unimplemented); GetUsage (unimplemented)"}, ""},
		{"smoke, max-tokens 0", []string{"smoke", "-max-tokens", "0"}, 2, nil, "-max-tokens from 1"},
		{"smoke with an argument", []string{"smoke", "now"}, 2, nil, "smoke takes no arguments"},
		{"no command", nil, 2, nil, "usage: portico"},
		{"unknown command", []string{"dance"}, 2, nil, `unknown command "dance"`},
		{"wrong secret", []string{"-client-secret", "nope", "me"}, 1, nil, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			status := run(context.Background(), tt.args, &stdout, &stderr, func(k string) string { return env[k] })
			if status != tt.status {
				t.Fatalf("status %d, want %d\nstdout: %s\nstderr: %s", status, tt.status, &stdout, &stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, &stderr)
			}
		})
	}
}
