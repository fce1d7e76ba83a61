package openaicompat

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        delta     `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

type delta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// sseSink writes a ConverseStream's events as Chat Completions chunks, flushing each.
type sseSink struct {
	w            http.ResponseWriter
	rc           *http.ResponseController
	id, model    string
	created      int64
	includeUsage bool
	started      bool
}

func (s *sseSink) ResponseHeader() http.Header { return s.w.Header() }

// Send writes the chunk of one event: the role on start, the text of each delta, the finish
// reason on stop and, when asked for, the usage (choices empty) on metadata.
func (s *sseSink) Send(ev *inferencev1.ConverseStreamResponse) error {
	c := chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model}
	choice := chunkChoice{}
	switch e := ev.GetEvent().(type) {
	case *inferencev1.ConverseStreamResponse_Start:
		s.id = "chatcmpl-" + e.Start.GetRequestId()
		c.ID = s.id
		empty := ""
		choice.Delta = delta{Role: "assistant", Content: &empty}
	case *inferencev1.ConverseStreamResponse_Delta:
		text := e.Delta.GetText()
		choice.Delta = delta{Content: &text}
	case *inferencev1.ConverseStreamResponse_Stop:
		fr := finishReason(e.Stop.GetStopReason())
		choice.FinishReason = &fr
	case *inferencev1.ConverseStreamResponse_Metadata:
		if !s.includeUsage {
			return nil
		}
		m := e.Metadata.GetMetrics()
		c.Choices = []chunkChoice{}
		c.Usage = &usage{PromptTokens: m.GetInputTokens(), CompletionTokens: m.GetOutputTokens(), TotalTokens: m.GetInputTokens() + m.GetOutputTokens()}
		return s.write(c)
	default:
		return nil // conversation events: the endpoint keeps no conversation
	}
	c.Choices = []chunkChoice{choice}
	return s.write(c)
}

func (s *sseSink) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

func (s *sseSink) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.data(b)
}

func (s *sseSink) data(b []byte) error {
	s.start()
	if _, err := s.w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
		return err
	}
	return s.rc.Flush()
}

// stream runs a streamed completion: chunks as the model produces them, then [DONE]; an
// error before the first chunk is an ordinary error answer, after it a last error event.
func (h *Handler) stream(ctx context.Context, w http.ResponseWriter, msg *inferencev1.ConverseRequest, includeUsage bool) {
	s := &sseSink{w: w, rc: http.NewResponseController(w), model: msg.GetModelId(), created: h.cfg.Now().Unix(), includeUsage: includeUsage}
	err := h.cfg.Inference.ConverseStreamTo(ctx, &inferencev1.ConverseStreamRequest{
		ModelId: msg.GetModelId(), Messages: msg.GetMessages(), SystemPrompt: msg.GetSystemPrompt(), InferenceConfig: msg.GetInferenceConfig(),
	}, s)
	if err == nil {
		_ = s.data([]byte("[DONE]"))
		return
	}
	ae := fromConnect(err, msg.GetModelId())
	if !s.started {
		writeError(w, ae)
		return
	}
	if isConnectCanceled(err) {
		return // the client is gone
	}
	h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "chat completion stream failed", slog.String("model", msg.GetModelId()), slog.String("reason", ae.Message))
	_ = s.write(map[string]*apiError{"error": ae})
}
