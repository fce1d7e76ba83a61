package bedrock

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Guardrail names a Bedrock guardrail to apply to a call.
type Guardrail struct {
	// ID is the guardrail identifier (id or ARN).
	ID string
	// Version is the guardrail version, such as "1" or "DRAFT".
	Version string
}

// Call holds what the caller decided about one call beyond the request itself.
type Call struct {
	// Limits are the model's limits, checked before calling.
	Limits Limits
	// Guardrail, when set, is applied with its trace enabled.
	Guardrail *Guardrail
	// ModelID, when set, is the id Bedrock is called with instead of the request's: the
	// inference profile through which the catalog model runs in this region
	// (catalog.Model.InvokeID). Answers still name the request's model.
	ModelID string
}

// target is the model or inference profile id Bedrock is called with.
func (c Call) target(req *inferencev1.ConverseRequest) *string {
	if c.ModelID != "" {
		return aws.String(c.ModelID)
	}
	return aws.String(req.GetModelId())
}

// sdkMessages converts the conversation to the SDK's types; documents go by their Bedrock
// names (DocumentNames), with citations on when citations is set.
func sdkMessages(msgs []*inferencev1.Message, citations bool) []types.Message {
	names := DocumentNames(msgs)
	out := make([]types.Message, 0, len(msgs))
	for _, m := range msgs {
		role := types.ConversationRoleUser
		if m.GetRole() == inferencev1.Role_ROLE_ASSISTANT {
			role = types.ConversationRoleAssistant
		}
		blocks := make([]types.ContentBlock, 0, len(m.GetContent()))
		for _, b := range m.GetContent() {
			switch c := b.GetBlock().(type) {
			case *inferencev1.ContentBlock_Text:
				blocks = append(blocks, &types.ContentBlockMemberText{Value: c.Text})
			case *inferencev1.ContentBlock_Image:
				blocks = append(blocks, &types.ContentBlockMemberImage{Value: types.ImageBlock{
					Format: types.ImageFormat(formatName(c.Image.GetFormat())),
					Source: &types.ImageSourceMemberBytes{Value: c.Image.GetData()},
				}})
			case *inferencev1.ContentBlock_Document:
				blocks = append(blocks, sdkDocument(c.Document, names[c.Document], citations))
			}
		}
		out = append(out, types.Message{Role: role, Content: blocks})
	}
	return out
}

func sdkSystem(prompt string) []types.SystemContentBlock {
	if prompt == "" {
		return nil
	}
	return []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: prompt}}
}

// sdkInferenceConfig converts the settings; maxTokens defaults to the model's limit.
func sdkInferenceConfig(ic *inferencev1.InferenceConfig, lim Limits) *types.InferenceConfiguration {
	out := &types.InferenceConfiguration{}
	if ic != nil {
		if ic.MaxTokens != nil {
			out.MaxTokens = aws.Int32(ic.GetMaxTokens())
		}
		if ic.Temperature != nil {
			out.Temperature = aws.Float32(ic.GetTemperature())
		}
		if ic.TopP != nil {
			out.TopP = aws.Float32(ic.GetTopP())
		}
		out.StopSequences = ic.GetStopSequences()
	}
	if out.MaxTokens == nil && lim.MaxOutputTokens > 0 {
		out.MaxTokens = aws.Int32(lim.MaxOutputTokens)
	}
	return out
}

// stopReason maps Bedrock's stop reason to the API's.
func stopReason(s types.StopReason) inferencev1.StopReason {
	switch s {
	case types.StopReasonEndTurn:
		return inferencev1.StopReason_STOP_REASON_END_TURN
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return inferencev1.StopReason_STOP_REASON_MAX_TOKENS
	case types.StopReasonStopSequence:
		return inferencev1.StopReason_STOP_REASON_STOP_SEQUENCE
	case types.StopReasonGuardrailIntervened:
		return inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED
	case types.StopReasonContentFiltered:
		return inferencev1.StopReason_STOP_REASON_CONTENT_FILTERED
	case types.StopReasonToolUse:
		return inferencev1.StopReason_STOP_REASON_TOOL_USE
	}
	return inferencev1.StopReason_STOP_REASON_UNSPECIFIED
}

// textMessage returns an assistant message holding text.
func textMessage(text string) *inferencev1.Message {
	return &inferencev1.Message{
		Role:    inferencev1.Role_ROLE_ASSISTANT,
		Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}},
	}
}
