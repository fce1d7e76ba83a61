package sagemaker_test

import (
	"testing"

	"github.com/portico-dev/portico/services/sagemaker"
)

func TestParseUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		body          string
		in, out       int64
		hasIn, hasOut bool
	}{
		{"openai usage", `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9}}`, 7, 9, true, true},
		{"input/output usage", `{"usage":{"input_tokens":3,"output_tokens":4}}`, 3, 4, true, true},
		{"tgi details", `[{"generated_text":"x"}]`, 0, 0, false, false},
		{"tgi details object", `{"generated_text":"x","details":{"generated_tokens":5}}`, 0, 5, false, true},
		{"json lines, last wins", "{\"token\":{\"text\":\"a\"}}\n{\"details\":{\"generated_tokens\":2}}\n", 0, 2, false, true},
		{"server-sent events", "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\ndata: [DONE]\n", 1, 2, true, true},
		{"plain text", "just words", 0, 0, false, false},
		{"negative ignored", `{"usage":{"input_tokens":-3}}`, 0, 0, false, false},
		{"empty", "", 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, out, hasIn, hasOut := sagemaker.ParseUsage([]byte(tt.body))
			if in != tt.in || out != tt.out || hasIn != tt.hasIn || hasOut != tt.hasOut {
				t.Errorf("got %d %d %v %v", in, out, hasIn, hasOut)
			}
		})
	}
}

// FuzzParseUsage checks that any container answer parses without panicking and never
// yields negative counts.
func FuzzParseUsage(f *testing.F) {
	f.Add([]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`))
	f.Add([]byte("{\"token\":{\"text\":\"a\"}}\n{\"details\":{\"generated_tokens\":2}}\n"))
	f.Add([]byte("data: {}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, out, hasIn, hasOut := sagemaker.ParseUsage(body)
		if in < 0 || out < 0 || (!hasIn && in != 0) || (!hasOut && out != 0) {
			t.Errorf("ParseUsage(%q) = %d %d %v %v", body, in, out, hasIn, hasOut)
		}
	})
}
