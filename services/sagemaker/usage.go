package sagemaker

import (
	"bytes"
	"encoding/json"
)

// Usage is the token usage of one invocation.
type Usage struct {
	// InputTokens, OutputTokens and TotalTokens are as the container reported them, or
	// estimated.
	InputTokens, OutputTokens, TotalTokens int64
	// Estimated is true when any figure is Portico's estimate: one token per 4 bytes of
	// request body (input) or of response body (output), rounded up.
	Estimated bool
}

// EstimateTokens estimates the tokens of a payload: one per 4 bytes, rounded up.
func EstimateTokens(n int) int64 { return int64((n + bytesPerToken - 1) / bytesPerToken) }

// reported is what a container reported about usage.
type reported struct {
	input, output       int64
	hasInput, hasOutput bool
}

type usageDoc struct {
	Usage *struct {
		InputTokens      *int64 `json:"input_tokens"`
		OutputTokens     *int64 `json:"output_tokens"`
		PromptTokens     *int64 `json:"prompt_tokens"`
		CompletionTokens *int64 `json:"completion_tokens"`
	} `json:"usage"`
	Details *struct {
		GeneratedTokens *int64 `json:"generated_tokens"`
		InputTokens     *int64 `json:"input_tokens"`
	} `json:"details"`
}

// ParseUsage reads the token counts a container reports in a JSON response, or in the last
// line that has them of a JSON Lines or server-sent-events ("data: {...}") response. It reads:
//
//   - usage.input_tokens or usage.prompt_tokens, and usage.output_tokens or
//     usage.completion_tokens (OpenAI-compatible servers such as vLLM, and LMI containers);
//   - details.generated_tokens, and details.input_tokens when present (Hugging Face Text
//     Generation Inference with details enabled).
//
// hasInput and hasOutput report what was found; the figures not found are zero.
func ParseUsage(body []byte) (input, output int64, hasInput, hasOutput bool) {
	r := parseUsage(body)
	return r.input, r.output, r.hasInput, r.hasOutput
}

func parseUsage(body []byte) reported {
	var r reported
	if readDoc(bytes.TrimSpace(body), &r) {
		return r
	}
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("data:")))
		var lr reported
		if readDoc(line, &lr) {
			if lr.hasInput {
				r.input, r.hasInput = lr.input, true
			}
			if lr.hasOutput {
				r.output, r.hasOutput = lr.output, true
			}
		}
	}
	return r
}

// readDoc reads one JSON document's usage into r, reporting whether it had any.
func readDoc(b []byte, r *reported) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var d usageDoc
	if json.Unmarshal(b, &d) != nil {
		return false
	}
	found := false
	if u := d.Usage; u != nil {
		if v := firstOf(u.InputTokens, u.PromptTokens); v != nil && *v >= 0 {
			r.input, r.hasInput, found = *v, true, true
		}
		if v := firstOf(u.OutputTokens, u.CompletionTokens); v != nil && *v >= 0 {
			r.output, r.hasOutput, found = *v, true, true
		}
	}
	if dt := d.Details; dt != nil {
		if v := dt.GeneratedTokens; v != nil && *v >= 0 && !r.hasOutput {
			r.output, r.hasOutput, found = *v, true, true
		}
		if v := dt.InputTokens; v != nil && *v >= 0 && !r.hasInput {
			r.input, r.hasInput, found = *v, true, true
		}
	}
	return found
}

func firstOf(vs ...*int64) *int64 {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// usageFor combines what the container reported with estimates from the payload sizes.
func usageFor(r reported, requestBytes, responseBytes int) Usage {
	u := Usage{InputTokens: r.input, OutputTokens: r.output}
	if !r.hasInput {
		u.InputTokens, u.Estimated = EstimateTokens(requestBytes), true
	}
	if !r.hasOutput {
		u.OutputTokens, u.Estimated = EstimateTokens(responseBytes), true
	}
	u.TotalTokens = u.InputTokens + u.OutputTokens
	return u
}
