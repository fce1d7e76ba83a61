package localaws

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzParseConverse feeds arbitrary bodies to the Converse request parser: it must never
// panic, and whatever it accepts must be a conversation that starts and ends with the user.
func FuzzParseConverse(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"image":{"format":"png","source":{"bytes":"iVBORw0KGgo="}}}]}],"inferenceConfig":{"maxTokens":5,"stopSequences":["x"]}}`))
	f.Add([]byte(`{"system":[{"text":"s"}],"messages":[]}`))
	m := Model{ID: "m", MaxOutputTokens: 100, SystemPrompt: true, Images: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _, _, aerr := parseConverse(m, body)
		if aerr != nil {
			if aerr.status != 400 || aerr.code != "ValidationException" {
				t.Fatalf("unexpected error %v", aerr)
			}
			return
		}
		if len(req.turns) == 0 || req.turns[0].role != "user" || req.turns[len(req.turns)-1].role != "user" {
			t.Fatalf("accepted a bad conversation: %+v", req.turns)
		}
		if req.maxTokens < 1 || req.maxTokens > m.MaxOutputTokens {
			t.Fatalf("accepted maxTokens %d", req.maxTokens)
		}
	})
}

// FuzzEventRoundTrip encodes an event the way the server does and decodes it with the SDK's
// decoder: type, content type and payload must survive.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"hi"}}`))
	f.Add("PayloadPart", []byte{0, 1, 2, 255})
	f.Fuzz(func(t *testing.T, eventType string, payload []byte) {
		if len(eventType) == 0 || len(eventType) > 255 {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		ew := newEventWriter(rec, -1)
		if err := ew.event(eventType, "application/octet-stream", payload); err != nil {
			t.Fatalf("encode: %v", err)
		}
		msg, err := eventstream.NewDecoder().Decode(bytes.NewReader(rec.Body.Bytes()), nil)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := msg.Headers.Get(":event-type"); got == nil || got.String() != eventType {
			t.Errorf("event type = %v, want %q", got, eventType)
		}
		if !bytes.Equal(msg.Payload, payload) {
			t.Errorf("payload = %x, want %x", msg.Payload, payload)
		}
		if _, err := eventstream.NewDecoder().Decode(bytes.NewReader(rec.Body.Bytes()[:rec.Body.Len()-1]), nil); err == nil {
			t.Errorf("a truncated message decoded: %v", err)
		}
	})
}
