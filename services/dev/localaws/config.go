package localaws

import (
	"log/slog"
	"time"
)

// Model is a Bedrock model the server answers for, with the limits it enforces like Bedrock.
type Model struct {
	// ID is the model or inference profile id.
	ID string
	// MaxOutputTokens is the largest maxTokens accepted.
	MaxOutputTokens int
	// SystemPrompt tells whether a system prompt is accepted.
	SystemPrompt bool
	// Images tells whether image blocks are accepted.
	Images bool
	// Documents tells whether document blocks are accepted.
	Documents bool
	// Citations tells whether the model cites documents whose citations are enabled.
	Citations bool
}

// Endpoint is a SageMaker endpoint the server answers for.
type Endpoint struct {
	// Name is the endpoint name.
	Name string
	// Variant is the production variant reported in answers.
	Variant string
	// Echo makes the endpoint a stand-in for an echo container (or a raw-text model told to
	// repeat its input): its generated text is the request's input, verbatim, streamed line
	// by line, and it reports no token counts. Tests use it to plant text, such as a fake
	// usage report, in an answer.
	Echo bool
}

// DefaultModels are the shared development models.
var DefaultModels = []Model{
	{ID: "us.anthropic.claude-sonnet-4-20250514-v1:0", MaxOutputTokens: 8192, SystemPrompt: true, Images: true, Documents: true, Citations: true},
	{ID: "anthropic.claude-3-5-haiku-20241022-v1:0", MaxOutputTokens: 8192, SystemPrompt: true, Documents: true},
	// The inference profiles the services call from the dev region (us-east-1) for models
	// that run on demand only elsewhere (services/catalog: onDemandRegions, profiles).
	{ID: "us.anthropic.claude-3-5-haiku-20241022-v1:0", MaxOutputTokens: 8192, SystemPrompt: true, Documents: true},
	{ID: "us.meta.llama3-1-70b-instruct-v1:0", MaxOutputTokens: 2048, SystemPrompt: true, Documents: true},
	{ID: "amazon.nova-pro-v1:0", MaxOutputTokens: 5120, SystemPrompt: true, Images: true, Documents: true},
	{ID: "amazon.nova-lite-v1:0", MaxOutputTokens: 5120, SystemPrompt: true, Images: true, Documents: true},
	{ID: "amazon.titan-text-express-v1", MaxOutputTokens: 8192, Documents: true},
	{ID: "meta.llama3-1-70b-instruct-v1:0", MaxOutputTokens: 2048, SystemPrompt: true, Documents: true},
	{ID: "mistral.mistral-large-2407-v1:0", MaxOutputTokens: 8192, SystemPrompt: true, Documents: true},
	{ID: "ai21.jamba-1-5-mini-v1:0", MaxOutputTokens: 4096, SystemPrompt: true, Documents: true},
}

// DefaultEndpoints are the shared development SageMaker endpoints.
var DefaultEndpoints = []Endpoint{{Name: "portico-demo-llm", Variant: "AllTraffic"}}

// The credentials a Server accepts unless Config names others: public development values
// (DESIGN.md), which the dev launcher and the bench harness give the services' AWS SDK.
//
//nolint:gosec // G101: public dev values, not secrets
const (
	DefaultAccessKeyID     = "portico-dev"
	DefaultSecretAccessKey = "portico-dev-secret"
)

// Config configures a Server. The zero value serves the default models and endpoints with the
// default credentials, as fast as possible.
type Config struct {
	// AccessKeyID and SecretAccessKey are the only credentials accepted; defaults
	// DefaultAccessKeyID and DefaultSecretAccessKey.
	AccessKeyID, SecretAccessKey string
	// TokensPerSecond paces generation, streamed or not (a unary answer arrives when its
	// last token would have); 0 generates as fast as possible.
	TokensPerSecond float64
	// OpenAIURL, when set, is an OpenAI-compatible chat completions URL (such as
	// http://localhost:11434/v1/chat/completions) that answers instead of the built-in
	// generator.
	OpenAIURL string
	// OpenAIModel is the model name sent to OpenAIURL; empty sends the Bedrock model id or
	// the endpoint name.
	OpenAIModel string
	// Models are the Bedrock models served; nil means DefaultModels.
	Models []Model
	// Endpoints are the SageMaker endpoints served; nil means DefaultEndpoints.
	Endpoints []Endpoint
	// KnowledgeBases are the knowledge bases Retrieve serves; nil means
	// DefaultKnowledgeBases (the Portico handbook).
	KnowledgeBases []KnowledgeBase
	// Logger receives request logs (never prompts); nil discards them.
	Logger *slog.Logger
	// Now is the clock used for signature dates; nil means time.Now.
	Now func() time.Time
	// OnStreamEnd, when set, is called after every streamed answer ends, with what happened.
	// Tests use it to observe that a client's disconnect stopped generation.
	OnStreamEnd func(StreamEnd)
}

// StreamEnd describes how a streamed answer ended on the server.
type StreamEnd struct {
	// Target is the model id or endpoint name.
	Target string
	// Events is the number of event-stream messages sent.
	Events int
	// Tokens is the number of tokens generated.
	Tokens int
	// ClientGone is true when the client went away before the answer was complete.
	ClientGone bool
}
