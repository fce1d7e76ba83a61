package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"golang.org/x/oauth2/clientcredentials"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	"github.com/portico-dev/portico/services/dev/devidp"
)

// Model is the model every load run calls: granted to MLUsers and to the portico/inference
// scope, served by the local AWS endpoint.
const Model = "amazon.nova-lite-v1:0"

// Prompt is the prompt of every load run.
const Prompt = "Explain what a reverse proxy does."

// MachineToken returns a client-credentials access token of the dev machine client.
func MachineToken(ctx context.Context, issuer string) (string, error) {
	cfg := clientcredentials.Config{
		ClientID: devidp.MachineClientID, ClientSecret: devidp.MachineClientSecret,
		TokenURL: issuer + "/oauth2/token", Scopes: []string{"portico/inference", "portico/identity"},
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("machine token: %w", err)
	}
	return tok.AccessToken, nil
}

// Bearer is an http.RoundTripper adding an Authorization: Bearer header.
type Bearer struct {
	Token string
	Base  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b Bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.Token)
	return b.Base.RoundTrip(req)
}

// NewTransport returns an HTTP/1.1 transport with room for many connections to one host,
// the way browsers and load balancers reach the BFF.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4096
	t.MaxIdleConnsPerHost = 4096
	return t
}

// H2CTransport returns a transport speaking HTTP/2 without TLS (the services' h2c port).
func H2CTransport() *http.Transport {
	t := NewTransport()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	t.Protocols = &p
	return t
}

// Inference calls InferenceService through a Connect client.
type Inference struct {
	client inferencev1connect.InferenceServiceClient
}

// NewInference returns an Inference client at baseURL (the services' URL, or the BFF's
// origin + "/api") using httpClient; JSON sends what a browser sends.
func NewInference(httpClient *http.Client, baseURL string, json bool) *Inference {
	var opts []connect.ClientOption
	if json {
		opts = append(opts, connect.WithProtoJSON())
	}
	return &Inference{client: inferencev1connect.NewInferenceServiceClient(httpClient, baseURL, opts...)}
}

func userMessage(text string) []*inferencev1.Message {
	return []*inferencev1.Message{{
		Role:    inferencev1.Role_ROLE_USER,
		Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}},
	}}
}

// Converse makes one unary call with at most maxTokens output tokens.
func (c *Inference) Converse(ctx context.Context, maxTokens int32) error {
	_, err := c.client.Converse(ctx, &inferencev1.ConverseRequest{
		ModelId: Model, Messages: userMessage(Prompt),
		InferenceConfig: &inferencev1.InferenceConfig{MaxTokens: &maxTokens},
	})
	return err
}

// ConverseStream makes one streaming call with at most maxTokens output tokens, calling
// onChunk for each text delta.
func (c *Inference) ConverseStream(ctx context.Context, maxTokens int32, onChunk func()) error {
	return c.ConverseStreamPrompt(ctx, Prompt, maxTokens, onChunk)
}

// ConverseStreamPrompt is ConverseStream with a given prompt.
func (c *Inference) ConverseStreamPrompt(ctx context.Context, prompt string, maxTokens int32, onChunk func()) error {
	stream, err := c.client.ConverseStream(ctx, &inferencev1.ConverseStreamRequest{
		ModelId: Model, Messages: userMessage(prompt),
		InferenceConfig: &inferencev1.InferenceConfig{MaxTokens: &maxTokens},
	})
	if err != nil {
		return err
	}
	defer stream.Close()
	stopped := false
	for stream.Receive() {
		switch stream.Msg().GetEvent().(type) {
		case *inferencev1.ConverseStreamResponse_Delta:
			onChunk()
		case *inferencev1.ConverseStreamResponse_Stop:
			stopped = true
		}
	}
	if err := stream.Err(); err != nil {
		return err
	}
	if !stopped {
		return errors.New("stream ended without a stop event")
	}
	return nil
}

// Available reports whether InferenceService answers at all (it is not Unimplemented or
// missing behind the URL).
func (c *Inference) Available(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Converse(ctx, 4)
}

// Bedrock calls the local AWS endpoint directly with the AWS SDK: the baseline of the
// end-to-end figures.
type Bedrock struct {
	client *bedrockruntime.Client
}

// NewBedrock returns a Bedrock Runtime client for the local endpoint at url with the dev
// credentials.
func NewBedrock(url string) *Bedrock {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", ""),
		HTTPClient:       ownBodyClient{&http.Client{Transport: NewTransport()}},
		RetryMaxAttempts: 1,
	}
	return &Bedrock{client: bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		o.BaseEndpoint = aws.String(url)
	})}
}

func bedrockInput(maxTokens int32) ([]brtypes.Message, *brtypes.InferenceConfiguration) {
	return []brtypes.Message{{
			Role:    brtypes.ConversationRoleUser,
			Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: Prompt}},
		}},
		&brtypes.InferenceConfiguration{MaxTokens: aws.Int32(maxTokens)}
}

// Converse makes one unary call.
func (c *Bedrock) Converse(ctx context.Context, maxTokens int32) error {
	msgs, ic := bedrockInput(maxTokens)
	_, err := c.client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(Model), Messages: msgs, InferenceConfig: ic})
	return err
}

// ConverseStream makes one streaming call, calling onChunk for each text delta.
func (c *Bedrock) ConverseStream(ctx context.Context, maxTokens int32, onChunk func()) error {
	msgs, ic := bedrockInput(maxTokens)
	out, err := c.client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(Model), Messages: msgs, InferenceConfig: ic})
	if err != nil {
		return err
	}
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		if _, ok := ev.(*brtypes.ConverseStreamOutputMemberContentBlockDelta); ok {
			onChunk()
		}
	}
	return stream.Err()
}

// Identity calls IdentityService.GetMe.
type Identity struct {
	client identityv1connect.IdentityServiceClient
}

// NewIdentity returns an Identity client at baseURL using httpClient.
func NewIdentity(httpClient *http.Client, baseURL string, json bool) *Identity {
	var opts []connect.ClientOption
	if json {
		opts = append(opts, connect.WithProtoJSON())
	}
	return &Identity{client: identityv1connect.NewIdentityServiceClient(httpClient, baseURL, opts...)}
}

// GetMe makes one GetMe call.
func (c *Identity) GetMe(ctx context.Context) error {
	_, err := c.client.GetMe(ctx, &identityv1.GetMeRequest{})
	return err
}

// ownBodyClient hands net/http a request body of its own instead of the SDK's, the same
// guard services/bedrock applies: the SDK closes its request body as soon as the response
// headers of an event stream arrive, which can race net/http's transport still finishing the
// request write and close the connection ("use of closed network connection") mid-stream.
// Without it the baseline would fail where the services do not.
type ownBodyClient struct{ c *http.Client }

type ownBody struct{ rc io.ReadCloser }

func (b ownBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b ownBody) Close() error               { return b.rc.Close() }

// Do implements aws.HTTPClient.
func (o ownBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		shallow := *r
		shallow.Body = ownBody{r.Body}
		r = &shallow
	}
	return o.c.Do(r) //nolint:gosec // G704: passes on the AWS SDK's request to the endpoint the harness configured
}
