package bedrock_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// TestCallModelID: Call.ModelID is the id Bedrock is called with (the inference profile of
// a model not on demand in the region), for Converse and ConverseStream alike, while the
// answer still names the request's model. The local endpoint serves only the profile id, so
// a call by the request's id fails.
func TestCallModelID(t *testing.T) {
	t.Parallel()
	const profile = "us." + haiku
	f := newFixture(t, localaws.Config{Models: []localaws.Model{{ID: profile, MaxOutputTokens: 8192, SystemPrompt: true}}})
	ctx := context.Background()
	if _, err := f.client.Converse(ctx, ask(haiku, "hi"), bedrock.Call{Limits: haikuLimits}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("by the model's own id: err = %v, want not found", err)
	}
	call := bedrock.Call{Limits: haikuLimits, ModelID: profile}
	if _, err := f.client.Converse(ctx, ask(haiku, "hi"), call); err != nil {
		t.Fatalf("Converse through the profile: %v", err)
	}
	var start *inferencev1.MessageStart
	_, err := f.client.ConverseStream(ctx, streamReq(ask(haiku, "hi")), call, func(ev *inferencev1.ConverseStreamResponse) error {
		if s := ev.GetStart(); s != nil {
			start = s
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ConverseStream through the profile: %v", err)
	}
	if start == nil || start.GetModelId() != haiku {
		t.Errorf("stream start = %v, want the request's model %s", start, haiku)
	}
}
