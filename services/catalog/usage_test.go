package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const validEndpoint = `priceTable: {version: v1, asOf: "2026-01-02", currency: USD}
models:
  - id: my-llm
    provider: sagemaker
    kind: endpoint
    family: Mine
    displayName: My LLM
    contextWindow: 8192
    maxOutputTokens: 2048
    contentTypes: [application/json]
    usage: {format: openai, contentTypes: [application/json, text/event-stream]}
    price: {inputPer1k: "0.0001", outputPer1k: "0.0004", estimate: true}
`

// TestUsageReport is the table of where an endpoint may say its usage report lives.
func TestUsageReport(t *testing.T) {
	t.Parallel()
	usageLine := "usage: {format: openai, contentTypes: [application/json, text/event-stream]}"
	tests := []struct {
		name    string
		usage   string // replaces usageLine; "" deletes it
		want    Usage
		message string // a substring of the error; "" when valid
	}{
		{"openai", usageLine, Usage{Format: UsageOpenAI, ContentTypes: []string{"application/json", "text/event-stream"}}, ""},
		{"tgi details", "usage: {format: tgi-details, contentTypes: [application/json, application/jsonlines]}", Usage{Format: UsageTGIDetails, ContentTypes: []string{"application/json", "application/jsonlines"}}, ""},
		{"none", "usage: {format: none}", Usage{Format: UsageNone}, ""},
		{"missing: Portico must be told", "", Usage{}, "an endpoint needs usage"},
		{"unknown format", "usage: {format: anything, contentTypes: [application/json]}", Usage{}, "usage format must be"},
		{"empty format", "usage: {contentTypes: [application/json]}", Usage{}, "usage format must be"},
		{"report without content types", "usage: {format: openai}", Usage{}, "name the response content types"},
		{"report from plain text", "usage: {format: openai, contentTypes: [text/plain]}", Usage{}, `not "text/plain"`},
		{"report from any type", "usage: {format: tgi-details, contentTypes: ['*/*']}", Usage{}, `not "*/*"`},
		{"none with content types", "usage: {format: none, contentTypes: [application/json]}", Usage{}, "reads it from no content type"},
		{"unknown field", "usage: {format: none, where: body}", Usage{}, "where"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(validEndpoint, "    "+usageLine+"\n", "", 1)
			if tt.usage != "" {
				doc = strings.Replace(validEndpoint, usageLine, tt.usage, 1)
			}
			c, err := Parse("u.yaml", []byte(doc))
			if tt.message != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.message) || ve.Problems[0].Line == 0 {
					t.Fatalf("err = %v, want a ValidationError with %q", err, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			m, _ := c.Lookup("my-llm")
			if m.Usage.Format != tt.want.Format || !slices.Equal(m.Usage.ContentTypes, tt.want.ContentTypes) {
				t.Errorf("usage = %+v, want %+v", m.Usage, tt.want)
			}
		})
	}
	bedrock := strings.Replace(validModel, "    price:", "    usage: {format: none}\n    price:", 1)
	if _, err := Parse("b.yaml", []byte(bedrock)); err == nil || !strings.Contains(err.Error(), "usage is only for SageMaker endpoints") {
		t.Errorf("a Bedrock model with usage: err = %v", err)
	}
	demo, _ := Default().Lookup("portico-demo-llm")
	if demo.Usage.Format != UsageTGIDetails || slices.Contains(demo.Usage.ContentTypes, "text/plain") {
		t.Errorf("demo endpoint usage = %+v", demo.Usage)
	}
}
