package inference_test

import (
	"bytes"
	"cmp"
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func image(format inferencev1.ImageFormat, data []byte) *inferencev1.ContentBlock {
	return &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: &inferencev1.Image{Format: format, Data: data}}}
}

func turns(n int) []*inferencev1.Message {
	var out []*inferencev1.Message
	for i := range n {
		if i%2 == 0 {
			out = append(out, user(text("question")))
		} else {
			out = append(out, assistant(text("answer")))
		}
	}
	return out
}

// TestConverseBadInput sends every kind of bad conversation, unary and streamed, and
// expects an exact code, a message naming the problem, and an audit record of the refusal
// with zero usage (except where no model is named).
func TestConverseBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	// Cleanups run after every parallel subtest has finished.
	t.Cleanup(func() { h.checkLedger("alice", h.limitsOf("MLUsers")) })
	pngs := func(n int) []*inferencev1.ContentBlock {
		var out []*inferencev1.ContentBlock
		for range n {
			out = append(out, image(inferencev1.ImageFormat_IMAGE_FORMAT_PNG, pngBytes))
		}
		return append(out, text("what are these?"))
	}
	tests := []struct {
		name    string
		who     string
		req     *inferencev1.ConverseRequest
		code    connect.Code
		msg     string
		audited bool
	}{
		{name: "no model", req: ask("", "hi"), code: connect.CodeInvalidArgument, msg: "model_id is required"},
		{name: "unknown model", req: ask("acme.nonexistent-v1", "hi"), code: connect.CodePermissionDenied, msg: "not available to you", audited: true},
		{name: "very long unknown model", req: ask(strings.Repeat("x", 5000), "hi"), code: connect.CodePermissionDenied, msg: "not available to you", audited: true},
		{name: "unentitled model", req: ask(sonnet, "hi"), code: connect.CodePermissionDenied, msg: "not available to you", audited: true},
		{name: "bob entitled to nothing", who: "bob", req: ask(haiku, "hi"), code: connect.CodePermissionDenied, msg: "not available to you", audited: true},
		{name: "machine, model outside its scope", who: "machine", req: ask(titan, "hi"), code: connect.CodePermissionDenied, msg: "not available", audited: true},
		{name: "endpoint through Converse", req: ask(demo, "hi"), code: connect.CodeInvalidArgument, msg: "call InvokeEndpoint", audited: true},
		{name: "empty messages", req: &inferencev1.ConverseRequest{ModelId: haiku}, code: connect.CodeInvalidArgument, msg: "at least one turn", audited: true},
		{name: "first turn assistant", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{assistant(text("a")), user(text("b"))}}, code: connect.CodeInvalidArgument, msg: "starting with ROLE_USER", audited: true},
		{name: "last turn assistant", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: turns(2)}, code: connect.CodeInvalidArgument, msg: "last turn", audited: true},
		{name: "roles not alternating", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{user(text("a")), user(text("b"))}}, code: connect.CodeInvalidArgument, msg: "alternate", audited: true},
		{name: "unspecified role", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{{Content: []*inferencev1.ContentBlock{text("a")}}}}, code: connect.CodeInvalidArgument, msg: "ROLE_UNSPECIFIED", audited: true},
		{name: "message without content", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{user()}}, code: connect.CodeInvalidArgument, msg: "no content", audited: true},
		{name: "empty content block", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{user(&inferencev1.ContentBlock{})}}, code: connect.CodeInvalidArgument, msg: "no content", audited: true},
		{name: "blank text", req: ask(haiku, " \n\t"), code: connect.CodeInvalidArgument, msg: "blank text", audited: true},
		{name: "too many turns", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: turns(101)}, code: connect.CodeInvalidArgument, msg: "at most 100", audited: true},
		{name: "oversized text", req: ask(haiku, strings.Repeat("word ", 1<<20/5+1)), code: connect.CodeInvalidArgument, msg: "bytes of text", audited: true},
		{name: "text beyond a small context window", req: ask(titan, strings.Repeat("word ", 8192*4/5+1)), code: connect.CodeInvalidArgument, msg: "at most 32768", audited: true},
		{name: "system prompt unsupported", req: &inferencev1.ConverseRequest{ModelId: titan, SystemPrompt: "be nice", Messages: turns(1)}, code: connect.CodeInvalidArgument, msg: "system prompt", audited: true},
		{name: "system prompt too long", req: &inferencev1.ConverseRequest{ModelId: haiku, SystemPrompt: strings.Repeat("s", 100_001), Messages: turns(1)}, code: connect.CodeInvalidArgument, msg: "system_prompt", audited: true},
		{name: "image unsupported", req: &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{user(pngs(1)...)}}, code: connect.CodeInvalidArgument, msg: "does not accept images", audited: true},
		{name: "image bytes not an image", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(image(inferencev1.ImageFormat_IMAGE_FORMAT_PNG, []byte("not a png at all")), text("?"))}}, code: connect.CodeInvalidArgument, msg: "not a valid png", audited: true},
		{name: "image format does not match bytes", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(image(inferencev1.ImageFormat_IMAGE_FORMAT_JPEG, pngBytes), text("?"))}}, code: connect.CodeInvalidArgument, msg: "not a valid jpeg", audited: true},
		{name: "image format unspecified", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(image(inferencev1.ImageFormat_IMAGE_FORMAT_UNSPECIFIED, pngBytes), text("?"))}}, code: connect.CodeInvalidArgument, msg: "not a valid", audited: true},
		{name: "too many images", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(pngs(21)...)}}, code: connect.CodeInvalidArgument, msg: "more than 20 images", audited: true},
		{name: "image too big", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(image(inferencev1.ImageFormat_IMAGE_FORMAT_PNG, append(append([]byte(nil), pngBytes...), make([]byte, 3_750_000)...)), text("?"))}}, code: connect.CodeInvalidArgument, msg: "at most 3750000", audited: true},
		{name: "image in assistant turn", req: &inferencev1.ConverseRequest{ModelId: novaL, Messages: []*inferencev1.Message{user(text("a")), assistant(pngs(1)...), user(text("b"))}}, code: connect.CodeInvalidArgument, msg: "user turns only", audited: true},
		{name: "max_tokens above the model's", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{MaxTokens: ptr[int32](8193)}), code: connect.CodeInvalidArgument, msg: "8192", audited: true},
		{name: "max_tokens zero", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{MaxTokens: ptr[int32](0)}), code: connect.CodeInvalidArgument, msg: "max_tokens", audited: true},
		{name: "temperature above 1", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{Temperature: ptr[float32](1.01)}), code: connect.CodeInvalidArgument, msg: "temperature", audited: true},
		{name: "temperature below 0", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{Temperature: ptr[float32](-0.1)}), code: connect.CodeInvalidArgument, msg: "temperature", audited: true},
		{name: "top_p above 1", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{TopP: ptr[float32](1.5)}), code: connect.CodeInvalidArgument, msg: "top_p", audited: true},
		{name: "five stop sequences", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{StopSequences: []string{"a", "b", "c", "d", "e"}}), code: connect.CodeInvalidArgument, msg: "at most 4", audited: true},
		{name: "empty stop sequence", req: withConfig(ask(haiku, "hi"), &inferencev1.InferenceConfig{StopSequences: []string{""}}), code: connect.CodeInvalidArgument, msg: "stop_sequences[0]", audited: true},
	}
	for _, tt := range tests {
		bothWays(t, tt.name, func(t *testing.T, streamed bool) {
			who := cmp.Or(tt.who, "alice")
			c := h.client(who)
			var err error
			if streamed {
				var s *connect.ServerStreamForClient[inferencev1.ConverseStreamResponse]
				s, err = c.ConverseStream(context.Background(), streamOf(tt.req))
				if err == nil {
					var evs []*inferencev1.ConverseStreamResponse
					evs, err = drain(s)
					if len(evs) != 0 {
						t.Errorf("a refused stream sent %d events", len(evs))
					}
				}
			} else {
				_, err = c.Converse(context.Background(), tt.req)
			}
			if connect.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.code, tt.msg)
			}
			id := requestID(err)
			if !tt.audited {
				return
			}
			if id == "" {
				t.Fatal("the error carries no request id")
			}
			username := map[string]string{"machine": "client:portico-machine"}[who]
			if username == "" {
				username = who
			}
			r := h.record(username, id)
			if r.Outcome != tt.code.String() || r.Tokens() != 0 || r.CostNanos != 0 || r.ErrorMessage == "" {
				t.Errorf("record = %+v", r)
			}
		})
	}
}

func withConfig(r *inferencev1.ConverseRequest, c *inferencev1.InferenceConfig) *inferencev1.ConverseRequest {
	r.InferenceConfig = c
	return r
}

func TestInvokeEndpointBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	tests := []struct {
		name string
		who  string
		req  *inferencev1.InvokeEndpointRequest
		code connect.Code
		msg  string
	}{
		{name: "no endpoint", req: &inferencev1.InvokeEndpointRequest{Body: []byte(`{}`)}, code: connect.CodeInvalidArgument, msg: "endpoint_name is required"},
		{name: "unknown endpoint", req: &inferencev1.InvokeEndpointRequest{EndpointName: "nope", Body: []byte(`{}`)}, code: connect.CodePermissionDenied, msg: "not available"},
		{name: "bob", who: "bob", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{}`)}, code: connect.CodePermissionDenied, msg: "not available"},
		{name: "model through InvokeEndpoint", req: &inferencev1.InvokeEndpointRequest{EndpointName: haiku, Body: []byte(`{}`)}, code: connect.CodeInvalidArgument, msg: "call Converse"},
		{name: "empty body", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo}, code: connect.CodeInvalidArgument, msg: "body is empty"},
		{name: "payload over 6 MB", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "text/plain", Body: bytes.Repeat([]byte("a"), 6<<20+1)}, code: connect.CodeInvalidArgument, msg: "at most 6291456"},
		{name: "content type not accepted", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "image/png", Body: pngBytes}, code: connect.CodeInvalidArgument, msg: "not accepted"},
		{name: "content type malformed", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "json;;", Body: []byte(`{}`)}, code: connect.CodeInvalidArgument, msg: "not a valid media type"},
		{name: "malformed JSON", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, ContentType: "application/json", Body: []byte(`{"inputs": "hi"`)}, code: connect.CodeInvalidArgument, msg: "not valid JSON"},
		{name: "malformed JSON by default", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`inputs=hi`)}, code: connect.CodeInvalidArgument, msg: "not valid JSON"},
		{name: "max_new_tokens too large", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","parameters":{"max_new_tokens":4096}}`)}, code: connect.CodeInvalidArgument, msg: "max_new_tokens"},
		// Issue 11: Portico and the container must read the same parameters.
		{name: "case variant duplicate", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","parameters":{"max_new_tokens":100000,"MAX_NEW_TOKENS":1}}`)}, code: connect.CodeInvalidArgument, msg: `"MAX_NEW_TOKENS"`},
		{name: "exact duplicate, small last", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","parameters":{"max_new_tokens":100000,"max_new_tokens":1}}`)}, code: connect.CodeInvalidArgument, msg: `duplicate key "max_new_tokens"`},
		{name: "duplicate parameters objects", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","parameters":{"max_new_tokens":100000},"parameters":{"max_new_tokens":1}}`)}, code: connect.CodeInvalidArgument, msg: `"parameters"`},
		{name: "max_tokens above the endpoint's", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","max_tokens":100000,"parameters":{"max_new_tokens":1}}`)}, code: connect.CodeInvalidArgument, msg: "max_tokens"},
		{name: "max_new_tokens as a float", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi","parameters":{"max_new_tokens":1e5}}`)}, code: connect.CodeInvalidArgument, msg: "whole number"},
		{name: "custom attributes not ASCII", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi"}`), CustomAttributes: "é"}, code: connect.CodeInvalidArgument, msg: "custom_attributes"},
		{name: "custom attributes too long", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi"}`), CustomAttributes: strings.Repeat("a", 1025)}, code: connect.CodeInvalidArgument, msg: "custom_attributes"},
		{name: "bad accept", req: &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: []byte(`{"inputs":"hi"}`), Accept: "json;;"}, code: connect.CodeInvalidArgument, msg: "accept"},
	}
	for _, tt := range tests {
		bothWays(t, tt.name, func(t *testing.T, streamed bool) {
			who := cmp.Or(tt.who, "alice")
			c := h.client(who)
			var err error
			if streamed {
				r := tt.req
				s, serr := c.InvokeEndpointStream(context.Background(), &inferencev1.InvokeEndpointStreamRequest{
					EndpointName: r.EndpointName, ContentType: r.ContentType, Accept: r.Accept, Body: r.Body, CustomAttributes: r.CustomAttributes})
				err = serr
				if err == nil {
					for s.Receive() {
						t.Errorf("a refused stream sent %v", s.Msg())
					}
					err = s.Err()
				}
			} else {
				_, err = c.InvokeEndpoint(context.Background(), tt.req)
			}
			if connect.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.code, tt.msg)
			}
			if tt.req.EndpointName == "" {
				return
			}
			r := h.record(who, requestID(err))
			if r.Outcome != tt.code.String() || r.Tokens() != 0 {
				t.Errorf("record = %+v", r)
			}
		})
	}
}
