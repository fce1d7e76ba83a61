package conversation

import (
	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// MaxSystemPromptBytes is the longest system prompt a conversation keeps with a user turn; a
// longer one is marked not kept (the turn is still sent with it).
const MaxSystemPromptBytes = 64 << 10

// SettingsOf returns what a request sent besides its content.
func SettingsOf(modelID, systemPrompt string, cfg *inferencev1.InferenceConfig, knowledgeBaseID string) *conversationv1.TurnSettings {
	return &conversationv1.TurnSettings{ModelId: modelID, SystemPrompt: systemPrompt, InferenceConfig: proto.CloneOf(cfg),
		KnowledgeBaseId: knowledgeBaseID}
}

// StoredSettings returns the form of s a user message keeps after a chain whose latest
// settings are previous (nil for none): a system prompt equal to the one in force is marked
// as before rather than repeated, one longer than MaxSystemPromptBytes is marked not kept.
func StoredSettings(s, previous *conversationv1.TurnSettings) *conversationv1.TurnSettings {
	out := proto.CloneOf(s)
	switch {
	case len(out.GetSystemPrompt()) > MaxSystemPromptBytes:
		out.SystemPrompt, out.SystemPromptNotKept = "", true
	case previous != nil && !previous.GetSystemPromptNotKept() && out.GetSystemPrompt() == previous.GetSystemPrompt():
		out.SystemPrompt, out.SystemPromptAsBefore = "", true
	}
	return out
}

// LatestSettings returns the settings of the latest user message among msgs (a chain, oldest
// first) whole, its system prompt filled in from the messages before it when it was kept as
// before; nil when no user message has settings.
func LatestSettings(msgs []Message) *conversationv1.TurnSettings {
	var latest *conversationv1.TurnSettings
	for _, m := range msgs {
		s := m.Body.GetSettings()
		if m.Body.GetRole() != inferencev1.Role_ROLE_USER || s == nil {
			continue
		}
		next := proto.CloneOf(s)
		if next.GetSystemPromptAsBefore() {
			next.SystemPromptAsBefore = false
			if latest != nil {
				next.SystemPrompt, next.SystemPromptNotKept = latest.GetSystemPrompt(), latest.GetSystemPromptNotKept()
			}
		}
		latest = next
	}
	return latest
}
