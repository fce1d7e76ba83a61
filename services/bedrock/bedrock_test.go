package bedrock_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"google.golang.org/protobuf/proto"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

const (
	haiku  = "anthropic.claude-3-5-haiku-20241022-v1:0"
	sonnet = "us.anthropic.claude-sonnet-4-20250514-v1:0"
	titan  = "amazon.titan-text-express-v1"
)

var haikuLimits = bedrock.Limits{MaxOutputTokens: 8192, SystemPrompt: true}

type fixture struct {
	srv    *localaws.Server
	url    string
	client *bedrock.Client
}

func newFixture(t testing.TB, cfg localaws.Config, opts ...bedrock.Option) *fixture {
	t.Helper()
	srv := localaws.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	opts = append([]bedrock.Option{awsrt.WithMaxBackoff(time.Millisecond)}, opts...)
	return &fixture{srv: srv, url: ts.URL, client: bedrock.New(sdkConfig(ts.URL, "portico-dev-secret"), opts...)}
}

func sdkConfig(url, secret string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("portico-dev", secret, ""),
		BaseEndpoint: aws.String(url),
	}
}

func ask(model, prompt string) *inferencev1.ConverseRequest {
	return &inferencev1.ConverseRequest{
		ModelId: model,
		Messages: []*inferencev1.Message{{
			Role:    inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: prompt}}},
		}},
	}
}

func streamReq(r *inferencev1.ConverseRequest) *inferencev1.ConverseStreamRequest {
	return &inferencev1.ConverseStreamRequest{ModelId: r.ModelId, Messages: r.Messages, SystemPrompt: r.SystemPrompt, InferenceConfig: r.InferenceConfig}
}

func text(m *inferencev1.Message) string {
	var b strings.Builder
	for _, c := range m.GetContent() {
		b.WriteString(c.GetText())
	}
	return b.String()
}

func retryAfter(err error) *typev1.RetryAfter {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if ra, ok := v.(*typev1.RetryAfter); derr == nil && ok {
			return ra
		}
	}
	return nil
}

func TestConverse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	req := ask(haiku, "Explain event streams")
	req.SystemPrompt = "be brief"
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: proto.Int32(9), Temperature: proto.Float32(0.2)}
	res, err := f.client.Converse(context.Background(), req, bedrock.Call{Limits: haikuLimits})
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != inferencev1.StopReason_STOP_REASON_MAX_TOKENS || res.Usage.OutputTokens != 9 ||
		res.Usage.InputTokens != 5 || res.Usage.TotalTokens != 14 || res.Usage.Estimated {
		t.Errorf("stop %s, usage %+v", res.StopReason, res.Usage)
	}
	if len(strings.Fields(text(res.Output))) != 9 || res.Output.GetRole() != inferencev1.Role_ROLE_ASSISTANT {
		t.Errorf("output = %q", text(res.Output))
	}
	if len(res.UpstreamRequestID) != 36 {
		t.Errorf("upstream request id = %q", res.UpstreamRequestID)
	}
}

func TestConverseDefaultsMaxTokensToModelLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	res, err := f.client.Converse(context.Background(), ask(haiku, "hello"), bedrock.Call{Limits: bedrock.Limits{MaxOutputTokens: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.OutputTokens != 4 || res.StopReason != inferencev1.StopReason_STOP_REASON_MAX_TOKENS {
		t.Errorf("usage %+v, stop %s", res.Usage, res.StopReason)
	}
}

func TestGuardrail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	g := &bedrock.Guardrail{ID: "gr-123", Version: "1"}
	tests := []struct {
		prompt string
		stream bool
		want   inferencev1.StopReason
	}{
		{"[[guardrail]] forbidden", false, inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED},
		{"[[guardrail]] forbidden", true, inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED},
		{"harmless", false, inferencev1.StopReason_STOP_REASON_END_TURN},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			t.Parallel()
			call := bedrock.Call{Limits: haikuLimits, Guardrail: g}
			var res *bedrock.Result
			var err error
			var stop *inferencev1.MessageStop
			if tt.stream {
				res, err = f.client.ConverseStream(context.Background(), streamReq(ask(haiku, tt.prompt)), call, func(ev *inferencev1.ConverseStreamResponse) error {
					if s := ev.GetStop(); s != nil {
						stop = s
					}
					return nil
				})
				if stop.GetGuardrailId() != "gr-123" || stop.GetStopReason() != tt.want {
					t.Errorf("stop event = %v", stop)
				}
			} else {
				res, err = f.client.Converse(context.Background(), ask(haiku, tt.prompt), call)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.StopReason != tt.want || res.GuardrailID != "gr-123" {
				t.Errorf("stop %s, guardrail %q", res.StopReason, res.GuardrailID)
			}
		})
	}
}

func TestLimitsCheckedBeforeCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	png := []byte("\x89PNG\r\n\x1a\n....")
	img := func(format inferencev1.ImageFormat, data []byte) *inferencev1.ContentBlock {
		return &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: &inferencev1.Image{Format: format, Data: data}}}
	}
	withContent := func(blocks ...*inferencev1.ContentBlock) *inferencev1.ConverseRequest {
		r := ask(sonnet, "look")
		r.Messages[0].Content = append(r.Messages[0].Content, blocks...)
		return r
	}
	imageLimits := bedrock.Limits{MaxOutputTokens: 8192, SystemPrompt: true, Images: true, MaxImages: 2, MaxImageBytes: 16}
	tests := []struct {
		name string
		req  *inferencev1.ConverseRequest
		lim  bedrock.Limits
		want string
	}{
		{"no turns", &inferencev1.ConverseRequest{ModelId: haiku}, haikuLimits, "at least one turn"},
		{"no model", ask("", "hi"), haikuLimits, "model_id"},
		{"first turn assistant", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			r.Messages[0].Role = inferencev1.Role_ROLE_ASSISTANT
			return r
		}(), haikuLimits, "alternate"},
		{"too many turns", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			for i := 0; i < 100; i++ {
				r.Messages = append(r.Messages, ask(haiku, "x").Messages[0])
			}
			return r
		}(), haikuLimits, "at most 100"},
		{"empty content", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			r.Messages[0].Content = nil
			return r
		}(), haikuLimits, "no content"},
		{"blank text", ask(haiku, " \n"), haikuLimits, "blank"},
		{"max tokens over model max", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			r.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: proto.Int32(8193)}
			return r
		}(), haikuLimits, "above the model's limit of 8192"},
		{"temperature out of range", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			r.InferenceConfig = &inferencev1.InferenceConfig{Temperature: proto.Float32(1.1)}
			return r
		}(), haikuLimits, "temperature"},
		{"five stop sequences", func() *inferencev1.ConverseRequest {
			r := ask(haiku, "hi")
			r.InferenceConfig = &inferencev1.InferenceConfig{StopSequences: []string{"a", "b", "c", "d", "e"}}
			return r
		}(), haikuLimits, "stop sequences"},
		{"system prompt unsupported", func() *inferencev1.ConverseRequest {
			r := ask(titan, "hi")
			r.SystemPrompt = "be brief"
			return r
		}(), bedrock.Limits{MaxOutputTokens: 8192}, "system prompt"},
		{"images unsupported", withContent(img(inferencev1.ImageFormat_IMAGE_FORMAT_PNG, png)), haikuLimits, "does not accept images"},
		{"too many images", withContent(img(1, png), img(1, png), img(1, png)), imageLimits, "more than 2 images"},
		{"image too large", withContent(img(1, append(png, make([]byte, 16)...))), imageLimits, "at most 16"},
		{"image bytes not decodable", withContent(img(inferencev1.ImageFormat_IMAGE_FORMAT_JPEG, png)), imageLimits, "not a valid jpeg"},
		{"image format unset", withContent(img(0, png)), imageLimits, "not a valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.client.Converse(context.Background(), tt.req, bedrock.Call{Limits: tt.lim})
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want INVALID_ARGUMENT mentioning %q", err, tt.want)
			}
			_, err = f.client.ConverseStream(context.Background(), streamReq(tt.req), bedrock.Call{Limits: tt.lim}, func(*inferencev1.ConverseStreamResponse) error { return nil })
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("stream err = %v", err)
			}
		})
	}
	if n := f.srv.Stats().Requests.Load(); n != 0 {
		t.Errorf("%d requests reached the endpoint; limits must be checked before the call", n)
	}
	// A valid image request passes.
	if _, err := f.client.Converse(context.Background(), withContent(img(1, png)), bedrock.Call{Limits: imageLimits}); err != nil {
		t.Errorf("valid image: %v", err)
	}
}

func TestEstimates(t *testing.T) {
	t.Parallel()
	r := ask(haiku, "12345678") // 8 bytes: 2 tokens
	r.SystemPrompt = "abc"      // 3 bytes: 11 bytes in all, 3 tokens
	if got := bedrock.EstimateInputTokens(r); got != 3 {
		t.Errorf("EstimateInputTokens = %d, want 3", got)
	}
	if got := bedrock.MaxTokens(r, haikuLimits); got != 8192 {
		t.Errorf("MaxTokens = %d", got)
	}
	r.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: proto.Int32(10)}
	if got := bedrock.MaxTokens(r, haikuLimits); got != 10 {
		t.Errorf("MaxTokens = %d", got)
	}
}
