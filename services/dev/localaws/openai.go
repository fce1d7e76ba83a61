package localaws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// openAIGenerator forwards generation to an OpenAI-compatible chat completions server,
// always streaming, and translates its answer and usage back.
type openAIGenerator struct {
	url    string
	model  string
	client *http.Client
}

type openAIMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type openAIChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// openAIRequest translates a generation request into a chat completions request body.
func (g *openAIGenerator) openAIRequest(req genRequest) ([]byte, error) {
	var msgs []openAIMessage
	if req.system != "" {
		msgs = append(msgs, openAIMessage{Role: "system", Content: req.system})
	}
	for _, t := range req.turns {
		if len(t.images) == 0 {
			msgs = append(msgs, openAIMessage{Role: t.role, Content: t.text})
			continue
		}
		parts := []map[string]any{{"type": "text", "text": t.text}}
		for _, im := range t.images {
			url := "data:image/" + im.format + ";base64," + base64.StdEncoding.EncodeToString(im.data)
			parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": url}})
		}
		msgs = append(msgs, openAIMessage{Role: t.role, Content: parts})
	}
	model := g.model
	if model == "" {
		model = req.model
	}
	body := map[string]any{
		"model":          model,
		"messages":       msgs,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
	}
	if req.maxTokens > 0 {
		body["max_tokens"] = req.maxTokens
	}
	if req.temperature != nil {
		body["temperature"] = *req.temperature
	}
	if req.topP != nil {
		body["top_p"] = *req.topP
	}
	if len(req.stop) > 0 {
		body["stop"] = req.stop
	}
	return json.Marshal(body)
}

func (g *openAIGenerator) generate(ctx context.Context, req genRequest, emit func(string) error) (genResult, error) {
	res := genResult{stopReason: stopEndTurn, inputTokens: req.inputTokens()}
	body, err := g.openAIRequest(req)
	if err != nil {
		return res, fmt.Errorf("encode openai request: %w", err)
	}
	// g.url is the operator's configured OpenAI-compatible server (Config.OpenAIURL), never
	// taken from a request.
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body)) //nolint:gosec // G704: the URL is operator configuration, not request data
	if err != nil {
		return res, fmt.Errorf("openai request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	resp, err := g.client.Do(hreq) //nolint:gosec // G704: the URL is operator configuration, not request data
	if err != nil {
		return res, fmt.Errorf("openai request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return res, fmt.Errorf("openai server answered %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	gotUsage := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		line = strings.TrimSpace(line)
		if line == "[DONE]" {
			break
		}
		var chunk openAIChunk
		if err := json.Unmarshal([]byte(line), &chunk); err != nil {
			return res, fmt.Errorf("decode openai chunk: %w", err)
		}
		for _, c := range chunk.Choices {
			if c.Delta.Content != "" {
				if err := emit(c.Delta.Content); err != nil {
					return res, err
				}
				res.outputTokens += countTokens(c.Delta.Content)
			}
			if c.FinishReason != nil && *c.FinishReason == "length" {
				res.stopReason = stopMaxTokens
			}
		}
		if u := chunk.Usage; u != nil {
			gotUsage = true
			res.inputTokens, res.outputTokens = u.PromptTokens, u.CompletionTokens
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("read openai stream: %w", err)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if !gotUsage && res.outputTokens == 0 {
		return res, errors.New("openai stream ended without content")
	}
	return res, nil
}
