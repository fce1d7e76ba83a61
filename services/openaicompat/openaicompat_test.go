package openaicompat_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/openaicompat"
)

func client(s *stack, credential string) openai.Client {
	return openai.NewClient(option.WithBaseURL(s.url+"/v1/"), option.WithAPIKey(credential), option.WithMaxRetries(0))
}

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:               model,
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer briefly."), openai.UserMessage("Tell me about gateways.")},
		MaxCompletionTokens: openai.Int(40),
		Temperature:         openai.Float(0.5),
		TopP:                openai.Float(0.9),
	}
}

// TestOfficialGoClient drives the endpoint with the official Go client and a personal API
// key: models, a completion, a streamed completion read chunk by chunk, each metered and
// audited under the key's owner with the key's prefix.
func TestOfficialGoClient(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	key, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	c := client(s, secret)
	ctx := t.Context()

	models, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, novaLite) || slices.Contains(ids, "portico-demo-llm") || slices.Contains(ids, "us.anthropic.claude-sonnet-4-20250514-v1:0") {
		t.Errorf("alice's models = %v: want her chat models only (no SageMaker endpoint, no Administrators model)", ids)
	}
	if m, err := c.Models.Get(ctx, novaLite); err != nil || m.ID != novaLite {
		t.Errorf("Models.Get = %v, %v", m, err)
	}

	res, err := c.Chat.Completions.New(ctx, chatParams(novaLite))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 1 || res.Choices[0].Message.Content == "" || res.Choices[0].FinishReason == "" ||
		res.Usage.PromptTokens == 0 || res.Usage.CompletionTokens == 0 || res.Usage.TotalTokens != res.Usage.PromptTokens+res.Usage.CompletionTokens ||
		!strings.HasPrefix(res.ID, "chatcmpl-") || res.Model != novaLite {
		t.Errorf("completion = %+v", res)
	}

	p := chatParams(novaLite)
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := c.Chat.Completions.NewStreaming(ctx, p)
	var text strings.Builder
	var contentChunks int
	var last openai.ChatCompletionChunk
	var finish string
	for stream.Next() {
		ch := stream.Current()
		if len(ch.Choices) > 0 {
			if ch.Choices[0].Delta.Content != "" {
				contentChunks++
				text.WriteString(ch.Choices[0].Delta.Content)
			}
			if ch.Choices[0].FinishReason != "" {
				finish = ch.Choices[0].FinishReason
			}
		}
		last = ch
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if contentChunks < 2 || text.Len() == 0 || finish == "" {
		t.Errorf("stream: %d content chunks, %q, finish %q; want the answer chunk by chunk", contentChunks, text.String(), finish)
	}
	if len(last.Choices) != 0 || last.Usage.CompletionTokens == 0 || last.Usage.PromptTokens == 0 {
		t.Errorf("last chunk = %+v; want the usage with no choices", last)
	}

	recs := s.records(t, "alice")
	if len(recs) != 2 {
		t.Fatalf("alice's records = %d, want 2", len(recs))
	}
	for _, r := range recs {
		if r.APIKey != key.GetPrefix() || r.Procedure != openaicompat.ChatCompletionsPath || r.Outcome != "ok" || r.OutputTokens == 0 ||
			r.ClientID != "" || !slices.Contains(r.Groups, "MLUsers") {
			t.Errorf("record = %+v", r)
		}
	}
	// Her usage (read with her sign-in token) counts them.
	usage, err := inferencev1connect.NewInferenceServiceClient(http.DefaultClient, s.url).GetUsage(as(ctx, tokenFor(t, "alice")), &inferencev1.GetUsageRequest{})
	if err != nil || usage.GetToday().GetRequests() != 2 {
		t.Errorf("alice's usage today = %v, %v", usage.GetToday(), err)
	}
}

// TestGoClientErrors: a quota refusal is the client's 429 with Retry-After, a revoked key its
// 401, an unknown model its 404.
func TestGoClientErrors(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{policyYAML: `version: 1
groups:
  - name: MLUsers
    models: [amazon.nova-lite-v1:0]
    quotas: {userTokensPerDay: 100}
`})
	key, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	c := client(s, secret)
	ctx := t.Context()

	p := chatParams(novaLite)
	p.MaxCompletionTokens = openai.Int(1000) // more than the day's 100 tokens
	_, err := c.Chat.Completions.New(ctx, p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Type != "insufficient_quota" ||
		apiErr.Response.Header.Get("Retry-After") == "" {
		t.Fatalf("over quota: %v; want a 429 insufficient_quota with Retry-After", err)
	}
	stream := c.Chat.Completions.NewStreaming(ctx, p)
	if stream.Next() || !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Errorf("over quota, streamed: %v", stream.Err())
	}
	recs := s.records(t, "alice")
	if len(recs) != 2 || recs[0].Outcome != "resource_exhausted" || recs[0].APIKey != key.GetPrefix() {
		t.Errorf("refusals audited: %+v", recs)
	}

	if _, err := c.Models.Get(ctx, "gpt-4o"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
		t.Errorf("unknown model: %v", err)
	}
	p.Model = "gpt-4o"
	p.MaxCompletionTokens = openai.Int(10)
	if _, err := c.Chat.Completions.New(ctx, p); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Param != "model" {
		t.Errorf("completion with an unknown model: %v", err)
	}

	if _, err := s.keyClient().RevokeApiKey(as(ctx, tokenFor(t, "alice")), &apikeyv1.RevokeApiKeyRequest{Id: key.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Models.List(ctx); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
		t.Errorf("revoked key: %v; want 401 invalid_api_key", err)
	}
}

// TestMachineClient: a client-credentials token uses the endpoint with its scope's models.
func TestMachineClient(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	c := client(s, tokenFor(t, "machine"))
	models, err := c.Models.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"amazon.nova-lite-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"}) {
		t.Errorf("machine's models = %v", ids)
	}
	if _, err := c.Chat.Completions.New(t.Context(), chatParams(novaLite)); err != nil {
		t.Fatal(err)
	}
	if recs := s.records(t, "client:portico-machine"); len(recs) != 1 || recs[0].Procedure != openaicompat.ChatCompletionsPath {
		t.Errorf("machine's records = %+v", recs)
	}
}
