package bedrock

import (
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
