package bedrock

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Conversation is a conversation checked against its model's limits (Validate), with what
// the caller decided about its call: what [Client.ConverseChecked] and
// [Client.ConverseStreamChecked] run. Make one with Check. A handler that must check a
// request before it reserves quota, and then runs it, so checks it once; Converse and
// ConverseStream check their request themselves.
type Conversation struct {
	req  *inferencev1.ConverseRequest
	call Call
}

// Check validates req against call.Limits and returns it as a Conversation. Its error is
// Validate's: an INVALID_ARGUMENT *connect.Error naming the first broken rule.
func Check(req *inferencev1.ConverseRequest, call Call) (*Conversation, error) {
	if err := Validate(req, call.Limits); err != nil {
		return nil, err
	}
	return &Conversation{req: req, call: call}, nil
}

// Request returns the conversation's request. It must not be changed.
func (c *Conversation) Request() *inferencev1.ConverseRequest { return c.req }

// MaxTokens returns the most tokens the conversation may generate (see MaxTokens).
func (c *Conversation) MaxTokens() int64 { return MaxTokens(c.req, c.call.Limits) }

// checked reports an error for a Conversation that Check did not make.
func (c *Conversation) checked() error {
	if c == nil || c.req == nil {
		return invalid("the conversation was not checked (use bedrock.Check)")
	}
	return nil
}

// guardrailID returns the id of the conversation's guardrail, "" when it has none.
func (c *Conversation) guardrailID() string {
	if g := c.call.Guardrail; g != nil {
		return g.ID
	}
	return ""
}

// converseInput builds the SDK input of the conversation for Converse: the model (or
// inference profile) of the call, the messages, the system prompt, the inference
// configuration within the model's limits and the guardrail with its trace enabled.
func (c *Conversation) converseInput() *bedrockruntime.ConverseInput {
	req, call := c.req, c.call
	in := &bedrockruntime.ConverseInput{
		ModelId:         call.target(req),
		Messages:        sdkMessages(req.GetMessages(), call.Limits.Citations),
		System:          sdkSystem(req.GetSystemPrompt()),
		InferenceConfig: sdkInferenceConfig(req.GetInferenceConfig(), call.Limits),
	}
	if g := call.Guardrail; g != nil {
		in.GuardrailConfig = &types.GuardrailConfiguration{
			GuardrailIdentifier: aws.String(g.ID),
			GuardrailVersion:    aws.String(g.Version),
			Trace:               types.GuardrailTraceEnabled,
		}
	}
	return in
}

// streamInput is converseInput in the type ConverseStream takes: the same fields, the
// guardrail in its stream form (the SDK's two inputs differ only in their types).
func (c *Conversation) streamInput() *bedrockruntime.ConverseStreamInput {
	in := c.converseInput()
	s := &bedrockruntime.ConverseStreamInput{
		ModelId:         in.ModelId,
		Messages:        in.Messages,
		System:          in.System,
		InferenceConfig: in.InferenceConfig,
	}
	if g := in.GuardrailConfig; g != nil {
		s.GuardrailConfig = &types.GuardrailStreamConfiguration{
			GuardrailIdentifier: g.GuardrailIdentifier,
			GuardrailVersion:    g.GuardrailVersion,
			Trace:               g.Trace,
		}
	}
	return s
}
