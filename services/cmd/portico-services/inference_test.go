package main_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

const haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"

func withBearer(ctx context.Context, token string) context.Context {
	ctx, info := connect.NewClientContext(ctx)
	info.RequestHeader().Set("Authorization", "Bearer "+token)
	return ctx
}

// TestInferenceEndToEnd runs the real binary with every service against the dev IdP and the
// local AWS endpoint, standalone and on Lambda, and streams a conversation through it.
func TestInferenceEndToEnd(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	aws := httptest.NewServer(localaws.New(localaws.Config{TokensPerSecond: 100}))
	t.Cleanup(aws.Close)
	alice, bob := idp.AccessToken(t, "alice"), idp.AccessToken(t, "bob")
	env := []string{"PORTICO_ISSUER=" + idp.Issuer(), "AWS_ENDPOINT_URL=" + aws.URL}

	tests := []struct {
		name  string
		event string // "" for standalone
		opts  []connect.ClientOption
	}{
		{"standalone grpc", "", []connect.ClientOption{connect.WithGRPC()}},
		{"function URL connect", runtimeapitest.FunctionURL, nil},
		{"API Gateway grpc-web", runtimeapitest.APIGateway, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				httpClient = h2cClient()
				base       = "https://lambda.example"
				last       *runtimeapitest.Invocation
			)
			if tt.event == "" {
				base = spawn(t, env...).url(t)
			} else {
				api := runtimeapitest.New()
				t.Cleanup(api.Close)
				spawn(t, append(append(env, productionSettings(t)...), "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "PORTICO_LAMBDA_EVENT="+tt.event)...)
				httpClient = &http.Client{Transport: &runtimeapitest.Transport{Server: api, Event: tt.event,
					OnInvoke: func(inv *runtimeapitest.Invocation) { last = inv }}}
			}
			inference := inferencev1connect.NewInferenceServiceClient(httpClient, base, tt.opts...)
			ctx := context.Background()

			models, err := inference.ListModels(withBearer(ctx, alice), &inferencev1.ListModelsRequest{})
			if err != nil || len(models.GetModels()) == 0 {
				t.Fatalf("ListModels: %v, %d models", err, len(models.GetModels()))
			}

			req := &inferencev1.ConverseStreamRequest{ModelId: haiku, Messages: []*inferencev1.Message{{
				Role:    inferencev1.Role_ROLE_USER,
				Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "Tell me about ducks"}}},
			}}}
			stream, err := inference.ConverseStream(withBearer(ctx, alice), req)
			if err != nil {
				t.Fatal(err)
			}
			var deltas int
			var text strings.Builder
			var sawStop, sawMetadata bool
			for stream.Receive() {
				switch ev := stream.Msg().GetEvent().(type) {
				case *inferencev1.ConverseStreamResponse_Delta:
					deltas++
					text.WriteString(ev.Delta.GetText())
				case *inferencev1.ConverseStreamResponse_Stop:
					sawStop = true
				case *inferencev1.ConverseStreamResponse_Metadata:
					sawMetadata = true
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if deltas < 2 || !sawStop || !sawMetadata || text.Len() == 0 {
				t.Fatalf("%d deltas, stop %v, metadata %v, text %q", deltas, sawStop, sawMetadata, text.String())
			}
			if last != nil {
				res, err := last.Wait(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Chunks) < 2 {
					t.Errorf("the stream crossed the Runtime API in %d chunk(s), want several", len(res.Chunks))
				}
				if gap := res.Chunks[len(res.Chunks)-1].At.Sub(res.Chunks[0].At); gap < 50*time.Millisecond {
					t.Errorf("chunks arrived within %v: not streamed as generated", gap)
				}
			}

			usage, err := inference.GetUsage(withBearer(ctx, alice), &inferencev1.GetUsageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if usage.GetToday().GetRequests() < 1 {
				t.Errorf("GetUsage today = %v, want the conversation counted", usage.GetToday())
			}
			denied, err := inference.ConverseStream(withBearer(ctx, bob), req)
			if err != nil {
				t.Fatal(err)
			}
			for denied.Receive() {
			}
			if connect.CodeOf(denied.Err()) != connect.CodePermissionDenied {
				t.Errorf("bob's ConverseStream: %v", denied.Err())
			}
			if tt.event == "" {
				// A payload above the server's default 4 MiB message limit but within
				// SageMaker's 6 MB reaches the handler (which raises its own limit) and is
				// weighed against alice's quota, rather than refused as too large to decode.
				big := &inferencev1.InvokeEndpointRequest{EndpointName: "portico-demo-llm", ContentType: "text/plain",
					Body: []byte(strings.Repeat("word ", 1<<20))}
				_, err := inference.InvokeEndpoint(withBearer(ctx, alice), big)
				if !hasQuotaDetail(err) {
					t.Errorf("InvokeEndpoint with a 5 MiB body: %v, want the quota's refusal", err)
				}
			}
			adminClient := adminv1connect.NewAdminServiceClient(httpClient, base, tt.opts...)
			if _, err := adminClient.ListUsage(withBearer(ctx, alice), &adminv1.ListUsageRequest{}); connect.CodeOf(err) != connect.CodePermissionDenied {
				t.Errorf("alice's ListUsage: %v", err)
			}
		})
	}
}

// hasQuotaDetail reports whether err carries a portico.type.v1.QuotaExceeded detail.
func hasQuotaDetail(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if _, ok := v.(*typev1.QuotaExceeded); ok {
				return true
			}
		}
	}
	return false
}

// TestBFFClientIDs checks the wiring of PORTICO_BFF_CLIENT_IDS: the audit record keeps the
// Portico-Client-* headers of a token issued to a configured BFF client (portico-web by
// default in development), and the peer's address for any other configuration.
func TestBFFClientIDs(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	aws := httptest.NewServer(localaws.New(localaws.Config{TokensPerSecond: 1000}))
	t.Cleanup(aws.Close)
	alice, dana := idp.AccessToken(t, "alice"), idp.AccessToken(t, "dana")
	tests := []struct {
		name   string
		env    []string
		ip, ua string // ua "": anything but the header's
	}{
		{"development default believes portico-web", nil, "203.0.113.7", "Browser/1.0"},
		{"configured BFF client", []string{"PORTICO_BFF_CLIENT_IDS=portico-web"}, "203.0.113.7", "Browser/1.0"},
		{"another client configured", []string{"PORTICO_BFF_CLIENT_IDS=generated-web-client"}, "127.0.0.1", ""}, // ua: connect-go's own
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := spawn(t, append([]string{"PORTICO_ISSUER=" + idp.Issuer(), "AWS_ENDPOINT_URL=" + aws.URL}, tt.env...)...).url(t)
			ctx, info := connect.NewClientContext(context.Background())
			info.RequestHeader().Set("Authorization", "Bearer "+alice)
			info.RequestHeader().Set("Portico-Client-Ip", "203.0.113.7")
			info.RequestHeader().Set("Portico-Client-User-Agent", "Browser/1.0")
			res, err := inferencev1connect.NewInferenceServiceClient(http.DefaultClient, base).Converse(ctx, &inferencev1.ConverseRequest{
				ModelId: haiku, Messages: []*inferencev1.Message{{Role: inferencev1.Role_ROLE_USER,
					Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "where am I"}}}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			events, err := adminv1connect.NewAdminServiceClient(http.DefaultClient, base).ListAuditEvents(withBearer(context.Background(), dana),
				&adminv1.ListAuditEventsRequest{User: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events.GetEvents() {
				if ev.GetRequestId() == res.GetRequestId() {
					if ev.GetSourceIp() != tt.ip || (tt.ua != "" && ev.GetUserAgent() != tt.ua) || (tt.ua == "" && ev.GetUserAgent() == "Browser/1.0") {
						t.Errorf("recorded %q %q, want %q %q", ev.GetSourceIp(), ev.GetUserAgent(), tt.ip, tt.ua)
					}
					return
				}
			}
			t.Fatalf("no audit event %s among %d", res.GetRequestId(), len(events.GetEvents()))
		})
	}
}
