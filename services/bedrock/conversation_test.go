package bedrock_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// TestConversationCheckedOnce: Check refuses what Validate refuses; what it accepts runs
// with ConverseChecked and ConverseStreamChecked; a Conversation Check did not make is
// refused before the call, whatever its contents.
func TestConversationCheckedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	ctx := context.Background()
	if _, err := bedrock.Check(ask(haiku, " \n"), bedrock.Call{Limits: haikuLimits}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("Check(blank) = %v, want INVALID_ARGUMENT", err)
	}
	for _, conv := range []*bedrock.Conversation{nil, {}} {
		if res, err := f.client.ConverseChecked(ctx, conv); connect.CodeOf(err) != connect.CodeInvalidArgument || res == nil {
			t.Errorf("ConverseChecked(%v) = %v, %v; want a Result and INVALID_ARGUMENT", conv, res, err)
		}
		noop := func(*inferencev1.ConverseStreamResponse) error { return nil }
		if res, err := f.client.ConverseStreamChecked(ctx, conv, noop); connect.CodeOf(err) != connect.CodeInvalidArgument || res == nil {
			t.Errorf("ConverseStreamChecked(%v) = %v, %v; want a Result and INVALID_ARGUMENT", conv, res, err)
		}
	}
	if n := f.srv.Stats().Requests.Load(); n != 0 {
		t.Fatalf("%d unchecked conversations reached the endpoint", n)
	}
	sreq := streamReq(ask(haiku, "hello"))
	conv, err := bedrock.Check(bedrock.StreamConversation(sreq), bedrock.Call{Limits: haikuLimits})
	if err != nil {
		t.Fatal(err)
	}
	if conv.Request().GetMessages()[0] != sreq.GetMessages()[0] || conv.MaxTokens() != 8192 {
		t.Errorf("conversation %v, max tokens %d; want the stream request's, 8192", conv.Request(), conv.MaxTokens())
	}
	if res, err := f.client.ConverseChecked(ctx, conv); err != nil || res.Usage.OutputTokens == 0 {
		t.Errorf("ConverseChecked = %+v, %v", res, err)
	}
	deltas := 0
	res, err := f.client.ConverseStreamChecked(ctx, conv, func(ev *inferencev1.ConverseStreamResponse) error {
		if ev.GetDelta() != nil {
			deltas++
		}
		return nil
	})
	if err != nil || deltas == 0 || res.Usage.OutputTokens == 0 {
		t.Errorf("ConverseStreamChecked = %+v, %v after %d deltas", res, err, deltas)
	}
}
