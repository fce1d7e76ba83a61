package localaws_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/awsrt"
)

const (
	haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"
	nova  = "amazon.nova-lite-v1:0"
	titan = "amazon.titan-text-express-v1"
	demo  = "portico-demo-llm"
)

func newServer(t *testing.T, cfg localaws.Config) (*localaws.Server, aws.Config) {
	t.Helper()
	s := localaws.New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, awsConfig(ts.URL, "portico-dev", "portico-dev-secret")
}

// awsConfig is the SDK configuration of a client of the server at url. Its HTTP client is
// the one the services use (awsrt.GuardHTTPClient): the SDK's own closes the request body
// as soon as response headers arrive, which on loopback can race net/http still finishing
// the request write and cut an event stream after a few events (about one stream in 500 of
// TestMarkerFaultsOnStream failed with "use of closed network connection").
func awsConfig(url, key, secret string) aws.Config {
	return aws.Config{
		HTTPClient:       awsrt.GuardHTTPClient(nil),
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
}

func userText(s string) []brtypes.Message {
	return []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: s}}}}
}

func converseText(out *bedrockruntime.ConverseOutput) string {
	var b strings.Builder
	for _, c := range out.Output.(*brtypes.ConverseOutputMemberMessage).Value.Content {
		b.WriteString(c.(*brtypes.ContentBlockMemberText).Value)
	}
	return b.String()
}

func TestConverseAnswersMarkdownDeterministically(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := bedrockruntime.NewFromConfig(cfg)
	ctx := context.Background()
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("Explain Go channels please")}
	a, err := c.Converse(ctx, in)
	if err != nil {
		t.Fatalf("Converse: %v", err)
	}
	b, err := c.Converse(ctx, in)
	if err != nil {
		t.Fatalf("Converse again: %v", err)
	}
	text := converseText(a)
	if text != converseText(b) {
		t.Error("same prompt gave different answers")
	}
	for _, want := range []string{"## About Explain Go channels please", "\n- ", "```go\n", "| word | letters |"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	if a.StopReason != brtypes.StopReasonEndTurn {
		t.Errorf("stop reason = %q", a.StopReason)
	}
	if got, want := aws.ToInt32(a.Usage.OutputTokens), int32(len(strings.Fields(text))); got != want {
		t.Errorf("output tokens = %d, want %d", got, want)
	}
	if got := aws.ToInt32(a.Usage.InputTokens); got != 4 {
		t.Errorf("input tokens = %d, want 4", got)
	}
	other, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("Something else entirely")})
	if err != nil {
		t.Fatal(err)
	}
	if converseText(other) == text {
		t.Error("different prompts gave the same answer")
	}
}

func TestConverseLimits(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := bedrockruntime.NewFromConfig(cfg)
	out, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{
		ModelId: aws.String(haiku), Messages: userText("count to ten"),
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.StopReason != brtypes.StopReasonMaxTokens || aws.ToInt32(out.Usage.OutputTokens) != 5 {
		t.Errorf("got %q with %d tokens, want max_tokens with 5", out.StopReason, aws.ToInt32(out.Usage.OutputTokens))
	}
	out, err = c.Converse(context.Background(), &bedrockruntime.ConverseInput{
		ModelId: aws.String(haiku), Messages: userText("count to ten"),
		InferenceConfig: &brtypes.InferenceConfiguration{StopSequences: []string{"```"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.StopReason != brtypes.StopReasonStopSequence || strings.Contains(converseText(out), "```") {
		t.Errorf("got %q, want stop_sequence before the code fence:\n%s", out.StopReason, converseText(out))
	}
}

func TestConverseValidation(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := bedrockruntime.NewFromConfig(cfg)
	png := []byte("\x89PNG\r\n\x1a\nrest")
	tests := []struct {
		name string
		in   bedrockruntime.ConverseInput
		code string
	}{
		{"unknown model", bedrockruntime.ConverseInput{ModelId: aws.String("nope.model-v1:0"), Messages: userText("hi")}, "ResourceNotFoundException"},
		{"first turn assistant", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []brtypes.Message{{Role: brtypes.ConversationRoleAssistant, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "x"}}}}}, "ValidationException"},
		{"turns not alternating", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: append(userText("a"), userText("b")...)}, "ValidationException"},
		{"ending with assistant", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: append(userText("a"), brtypes.Message{Role: brtypes.ConversationRoleAssistant, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "b"}}})}, "ValidationException"},
		{"blank text", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("  ")}, "ValidationException"},
		{"max tokens over model max", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("hi"), InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(9000)}}, "ValidationException"},
		{"temperature out of range", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("hi"), InferenceConfig: &brtypes.InferenceConfiguration{Temperature: aws.Float32(1.5)}}, "ValidationException"},
		{"system on titan", bedrockruntime.ConverseInput{ModelId: aws.String(titan), Messages: userText("hi"), System: []brtypes.SystemContentBlock{&brtypes.SystemContentBlockMemberText{Value: "be brief"}}}, "ValidationException"},
		{"image on haiku", bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberImage{Value: brtypes.ImageBlock{Format: brtypes.ImageFormatPng, Source: &brtypes.ImageSourceMemberBytes{Value: png}}}}}}}, "ValidationException"},
		{"image bytes not png", bedrockruntime.ConverseInput{ModelId: aws.String(nova), Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberImage{Value: brtypes.ImageBlock{Format: brtypes.ImageFormatPng, Source: &brtypes.ImageSourceMemberBytes{Value: []byte("GIF89a...")}}}}}}}, "ValidationException"},
		{"valid image", bedrockruntime.ConverseInput{ModelId: aws.String(nova), Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "what is this"}, &brtypes.ContentBlockMemberImage{Value: brtypes.ImageBlock{Format: brtypes.ImageFormatPng, Source: &brtypes.ImageSourceMemberBytes{Value: png}}}}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Converse(context.Background(), &tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Converse: %v", err)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestSigV4Rejected(t *testing.T) {
	t.Parallel()
	s := localaws.New(localaws.Config{})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	tests := []struct {
		name, key, secret, code string
	}{
		{"wrong secret", "portico-dev", "wrong", "InvalidSignatureException"},
		{"unknown key", "someone", "portico-dev-secret", "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := bedrockruntime.NewFromConfig(awsConfig(ts.URL, tt.key, tt.secret))
			_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: userText("hi")})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Errorf("status is not 403: %v", err)
			}
		})
	}
	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Post(ts.URL+"/model/"+haiku+"/converse", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
			t.Errorf("got %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
	})
	t.Run("sagemaker key for bedrock path", func(t *testing.T) {
		t.Parallel()
		c := sagemakerruntime.NewFromConfig(awsConfig(ts.URL, "portico-dev", "wrong"))
		_, err := c.InvokeEndpoint(context.Background(), &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String(demo), ContentType: aws.String("text/plain"), Body: []byte("hi")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConverseStream(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := bedrockruntime.NewFromConfig(cfg)
	ctx := context.Background()
	in := &bedrockruntime.ConverseInput{ModelId: aws.String("us.anthropic.claude-sonnet-4-20250514-v1:0"), Messages: userText("stream me a table")}
	whole, err := c.Converse(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	defer stream.Close()
	var text strings.Builder
	var kinds []string
	var usage *brtypes.TokenUsage
	deltas := 0
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *brtypes.ConverseStreamOutputMemberMessageStart:
			kinds = append(kinds, "start")
		case *brtypes.ConverseStreamOutputMemberContentBlockDelta:
			deltas++
			text.WriteString(v.Value.Delta.(*brtypes.ContentBlockDeltaMemberText).Value)
		case *brtypes.ConverseStreamOutputMemberContentBlockStop:
			kinds = append(kinds, "blockstop")
		case *brtypes.ConverseStreamOutputMemberMessageStop:
			kinds = append(kinds, "stop:"+string(v.Value.StopReason))
		case *brtypes.ConverseStreamOutputMemberMetadata:
			kinds = append(kinds, "metadata")
			usage = v.Value.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(kinds, ","), "start,blockstop,stop:end_turn,metadata"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	if text.String() != converseText(whole) {
		t.Errorf("streamed text differs from the unary answer")
	}
	if usage == nil || int(aws.ToInt32(usage.OutputTokens)) != deltas || aws.ToInt32(usage.TotalTokens) != aws.ToInt32(usage.InputTokens)+int32(deltas) {
		t.Errorf("usage = %+v, deltas = %d", usage, deltas)
	}
}

func TestSageMaker(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := sagemakerruntime.NewFromConfig(cfg)
	ctx := context.Background()
	out, err := c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String(demo), ContentType: aws.String("application/json"),
		Body:             []byte(`{"inputs":"tell me about sagemaker","parameters":{"max_new_tokens":7}}`),
		CustomAttributes: aws.String("trace=1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Body, []byte(`"generated_tokens":7`)) || !bytes.Contains(out.Body, []byte(`"finish_reason":"length"`)) {
		t.Errorf("body = %s", out.Body)
	}
	if aws.ToString(out.InvokedProductionVariant) != "AllTraffic" || aws.ToString(out.CustomAttributes) != "trace=1" {
		t.Errorf("variant %q, attributes %q", aws.ToString(out.InvokedProductionVariant), aws.ToString(out.CustomAttributes))
	}
	st, err := c.InvokeEndpointWithResponseStream(ctx, &sagemakerruntime.InvokeEndpointWithResponseStreamInput{
		EndpointName: aws.String(demo), ContentType: aws.String("text/plain"), Accept: aws.String("text/plain"),
		Body: []byte("tell me about sagemaker"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.GetStream().Close()
	var got bytes.Buffer
	for ev := range st.GetStream().Events() {
		got.Write(ev.(*smtypes.ResponseStreamMemberPayloadPart).Value.Bytes)
	}
	if err := st.GetStream().Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.String(), "## About tell me about sagemaker") || aws.ToString(st.ContentType) != "text/plain" {
		t.Errorf("stream (%s) = %q", aws.ToString(st.ContentType), got.String())
	}
	_, err = c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String(demo), ContentType: aws.String("application/json"), Body: []byte(`{"inputs":`)})
	var me *smtypes.ModelError
	if !errors.As(err, &me) || aws.ToInt32(me.OriginalStatusCode) != 400 {
		t.Errorf("malformed JSON: err = %v", err)
	}
	_, err = c.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("nope"), ContentType: aws.String("text/plain"), Body: []byte(`hi`)})
	var ve *smtypes.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("unknown endpoint: err = %v", err)
	}
}

// TestModelIDEscaping serves a model whose id is an ARN: the SDK escapes ':' and '/' in the
// path (%3A, %2F) and the server must match the unescaped id.
func TestModelIDEscaping(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
	_, cfg := newServer(t, localaws.Config{Models: []localaws.Model{{ID: arn, MaxOutputTokens: 10}}})
	c := bedrockruntime.NewFromConfig(cfg)
	out, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(arn), Messages: userText("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.Usage.OutputTokens) != 10 {
		t.Errorf("usage = %+v", out.Usage)
	}
}
