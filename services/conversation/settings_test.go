package conversation_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/conversation"
)

// TestSettingsKeptOnce: a chain of user turns keeps a repeated system prompt once and a too
// long one not at all, and LatestSettings gives the latest turn's settings whole.
func TestSettingsKeptOnce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", conversation.MaxSystemPromptBytes+1)
	temp := func(v float32) *inferencev1.InferenceConfig {
		return &inferencev1.InferenceConfig{Temperature: proto.Float32(v)}
	}
	tests := []struct {
		name    string
		prompts []string // one user turn each, with an answer after it
		stored  []*conversationv1.TurnSettings
		latest  *conversationv1.TurnSettings
	}{
		{"none", nil, nil, nil},
		{"one", []string{"Be brief."},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(0)}},
			&conversationv1.TurnSettings{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(0)}},
		{"repeated", []string{"Be brief.", "Be brief.", "Be brief."},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(0)},
				{ModelId: "m", SystemPromptAsBefore: true, InferenceConfig: temp(1)}, {ModelId: "m", SystemPromptAsBefore: true, InferenceConfig: temp(2)}},
			&conversationv1.TurnSettings{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(2)}},
		{"changed", []string{"Be brief.", "Be thorough.", "Be thorough."},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(0)},
				{ModelId: "m", SystemPrompt: "Be thorough.", InferenceConfig: temp(1)}, {ModelId: "m", SystemPromptAsBefore: true, InferenceConfig: temp(2)}},
			&conversationv1.TurnSettings{ModelId: "m", SystemPrompt: "Be thorough.", InferenceConfig: temp(2)}},
		{"removed", []string{"Be brief.", ""},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(0)}, {ModelId: "m", InferenceConfig: temp(1)}},
			&conversationv1.TurnSettings{ModelId: "m", InferenceConfig: temp(1)}},
		{"too long, twice", []string{long, long},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPromptNotKept: true, InferenceConfig: temp(0)},
				{ModelId: "m", SystemPromptNotKept: true, InferenceConfig: temp(1)}},
			&conversationv1.TurnSettings{ModelId: "m", SystemPromptNotKept: true, InferenceConfig: temp(1)}},
		{"too long, then short", []string{long, "Be brief.", "Be brief."},
			[]*conversationv1.TurnSettings{{ModelId: "m", SystemPromptNotKept: true, InferenceConfig: temp(0)},
				{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(1)}, {ModelId: "m", SystemPromptAsBefore: true, InferenceConfig: temp(2)}},
			&conversationv1.TurnSettings{ModelId: "m", SystemPrompt: "Be brief.", InferenceConfig: temp(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var chain []conversation.Message
			for i, p := range tt.prompts {
				s := conversation.StoredSettings(conversation.SettingsOf("m", p, temp(float32(i)), ""), conversation.LatestSettings(chain))
				if !proto.Equal(s, tt.stored[i]) {
					t.Errorf("turn %d stored %v, want %v", i, s, tt.stored[i])
				}
				chain = append(chain,
					conversation.Message{Body: &conversationv1.ConversationMessage{Role: inferencev1.Role_ROLE_USER, Settings: s}},
					conversation.Message{Body: &conversationv1.ConversationMessage{Role: inferencev1.Role_ROLE_ASSISTANT}})
			}
			if got := conversation.LatestSettings(chain); !proto.Equal(got, tt.latest) {
				t.Errorf("latest %v, want %v", got, tt.latest)
			}
		})
	}
}
