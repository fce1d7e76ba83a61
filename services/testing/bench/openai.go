package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// OpenAI calls the services' OpenAI-compatible endpoint (/v1) the way the OpenAI SDKs do:
// a streamed chat completion, read as server-sent events.
type OpenAI struct {
	http    *http.Client
	baseURL string
}

// NewOpenAI returns a client of the endpoint at baseURL (the services' URL + "/v1"); the
// credentials come with httpClient's transport (Bearer).
func NewOpenAI(httpClient *http.Client, baseURL string) *OpenAI {
	return &OpenAI{http: httpClient, baseURL: strings.TrimRight(baseURL, "/")}
}

// ChatStream makes one streamed chat completion of Model with Prompt and at most maxTokens
// output tokens, calling onChunk for each chunk that carries text; it returns once `[DONE]`
// arrives.
func (c *OpenAI) ChatStream(ctx context.Context, maxTokens int32, onChunk func()) error {
	body, _ := json.Marshal(map[string]any{
		"model": Model, "stream": true, "max_tokens": maxTokens,
		"messages": []map[string]string{{"role": "user", "content": Prompt}},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("/v1/chat/completions: %s", res.Status)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			return nil
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(data, &chunk); err != nil {
			return fmt.Errorf("/v1/chat/completions: %w", err)
		}
		if len(chunk.Error) > 0 {
			return fmt.Errorf("/v1/chat/completions: %s", chunk.Error)
		}
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			onChunk()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("/v1/chat/completions: the stream ended without [DONE]")
}
