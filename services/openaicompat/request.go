package openaicompat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// chatRequest is a Chat Completions request: the parameters Portico maps, those it ignores,
// and those it refuses (kept raw to tell absent, null and default values apart).
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Stream              *bool           `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`

	// Accepted and ignored: they change nothing about the answer.
	User              json.RawMessage `json:"user"`
	SafetyIdentifier  json.RawMessage `json:"safety_identifier"`
	PromptCacheKey    json.RawMessage `json:"prompt_cache_key"`
	Metadata          json.RawMessage `json:"metadata"`
	ServiceTier       json.RawMessage `json:"service_tier"`
	Store             json.RawMessage `json:"store"`
	ParallelToolCalls json.RawMessage `json:"parallel_tool_calls"`

	// Refused unless absent, null or their default.
	N                json.RawMessage `json:"n"`
	Tools            json.RawMessage `json:"tools"`
	ToolChoice       json.RawMessage `json:"tool_choice"`
	Functions        json.RawMessage `json:"functions"`
	FunctionCall     json.RawMessage `json:"function_call"`
	Logprobs         json.RawMessage `json:"logprobs"`
	TopLogprobs      json.RawMessage `json:"top_logprobs"`
	LogitBias        json.RawMessage `json:"logit_bias"`
	ResponseFormat   json.RawMessage `json:"response_format"`
	Audio            json.RawMessage `json:"audio"`
	Modalities       json.RawMessage `json:"modalities"`
	Prediction       json.RawMessage `json:"prediction"`
	Seed             json.RawMessage `json:"seed"`
	PresencePenalty  json.RawMessage `json:"presence_penalty"`
	FrequencyPenalty json.RawMessage `json:"frequency_penalty"`
	ReasoningEffort  json.RawMessage `json:"reasoning_effort"`
	WebSearchOptions json.RawMessage `json:"web_search_options"`
	Verbosity        json.RawMessage `json:"verbosity"`
}

type streamOptions struct {
	IncludeUsage       *bool           `json:"include_usage"`
	IncludeObfuscation json.RawMessage `json:"include_obfuscation"` // ignored: nothing to obfuscate
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Name    json.RawMessage `json:"name"`    // ignored
	Refusal json.RawMessage `json:"refusal"` // ignored when null (an assistant turn echoed back)
	// Refused: Portico has no tools.
	ToolCalls    json.RawMessage `json:"tool_calls"`
	ToolCallID   json.RawMessage `json:"tool_call_id"`
	FunctionCall json.RawMessage `json:"function_call"`
	Audio        json.RawMessage `json:"audio"`
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     *string   `json:"text"`
	ImageURL *imageURL `json:"image_url"`
}

type imageURL struct {
	URL    string          `json:"url"`
	Detail json.RawMessage `json:"detail"` // ignored: the model sees the whole image
}

// decodeStrict decodes data into v refusing unknown fields, with a 400 naming the field.
func decodeStrict(data []byte, v any, where string) *apiError {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
			return badRequest("", "the request body holds more than one JSON value")
		}
		return nil
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badRequest(where+name, "Unrecognized request argument supplied: "+where+name)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return badRequest(where+te.Field, fmt.Sprintf("invalid type for %s%s: expected %s", where, te.Field, te.Type))
	}
	return badRequest("", "the request body is not valid JSON")
}

// isSet reports whether raw holds a value other than null.
func isSet(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// isValue reports whether raw is null, absent, or the JSON value def.
func isDefault(raw json.RawMessage, defs ...string) bool {
	if !isSet(raw) {
		return true
	}
	var got any
	if json.Unmarshal(raw, &got) != nil {
		return false
	}
	for _, d := range defs {
		var want any
		_ = json.Unmarshal([]byte(d), &want)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return true
		}
	}
	return false
}

// checkRefused refuses the parameters Portico cannot honour.
func (r *chatRequest) checkRefused() *apiError {
	for _, p := range []struct {
		name string
		raw  json.RawMessage
		defs []string
	}{
		{"n", r.N, []string{"1"}},
		{"tools", r.Tools, []string{"[]"}},
		{"tool_choice", r.ToolChoice, []string{`"none"`}},
		{"functions", r.Functions, []string{"[]"}},
		{"function_call", r.FunctionCall, []string{`"none"`}},
		{"logprobs", r.Logprobs, []string{"false"}},
		{"top_logprobs", r.TopLogprobs, nil},
		{"logit_bias", r.LogitBias, []string{"{}"}},
		{"response_format", r.ResponseFormat, []string{`{"type":"text"}`}},
		{"audio", r.Audio, nil},
		{"modalities", r.Modalities, []string{`["text"]`}},
		{"prediction", r.Prediction, nil},
		{"seed", r.Seed, nil},
		{"presence_penalty", r.PresencePenalty, []string{"0"}},
		{"frequency_penalty", r.FrequencyPenalty, []string{"0"}},
		{"reasoning_effort", r.ReasoningEffort, nil},
		{"web_search_options", r.WebSearchOptions, nil},
		{"verbosity", r.Verbosity, nil},
		{"store", r.Store, []string{"false"}},
	} {
		if !isDefault(p.raw, p.defs...) {
			return unsupported(p.name)
		}
	}
	return nil
}

// converse maps the request onto a ConverseRequest.
func (r *chatRequest) converse() (*inferencev1.ConverseRequest, *apiError) {
	if r.Model == "" {
		return nil, badRequest("model", "you must provide a model parameter")
	}
	if len(r.Messages) == 0 {
		return nil, badRequest("messages", "messages must hold at least one message")
	}
	if err := r.checkRefused(); err != nil {
		return nil, err
	}
	out := &inferencev1.ConverseRequest{ModelId: r.Model}
	var system []string
	for i, m := range r.Messages {
		where := fmt.Sprintf("messages[%d]", i)
		for _, p := range []struct {
			name string
			raw  json.RawMessage
		}{{"tool_calls", m.ToolCalls}, {"tool_call_id", m.ToolCallID}, {"function_call", m.FunctionCall}, {"audio", m.Audio}} {
			if isSet(p.raw) {
				return nil, unsupported(where + "." + p.name)
			}
		}
		switch m.Role {
		case "system", "developer":
			text, err := textOnly(m.Content, where+".content")
			if err != nil {
				return nil, err
			}
			system = append(system, text)
		case "user", "assistant":
			role := inferencev1.Role_ROLE_USER
			if m.Role == "assistant" {
				role = inferencev1.Role_ROLE_ASSISTANT
			}
			blocks, err := contentBlocks(m.Content, where+".content", role == inferencev1.Role_ROLE_USER)
			if err != nil {
				return nil, err
			}
			out.Messages = append(out.Messages, &inferencev1.Message{Role: role, Content: blocks})
		case "tool", "function":
			return nil, unsupported(where + ".role: " + m.Role)
		default:
			return nil, badRequest(where+".role", fmt.Sprintf("invalid role %q: expected system, developer, user or assistant", m.Role))
		}
	}
	out.SystemPrompt = strings.Join(system, "\n\n")
	cfg := &inferencev1.InferenceConfig{}
	max := r.MaxCompletionTokens
	if r.MaxTokens != nil {
		if max != nil && *max != *r.MaxTokens {
			return nil, badRequest("max_tokens", "max_tokens and max_completion_tokens disagree; send one")
		}
		max = r.MaxTokens
	}
	if max != nil {
		if *max < 1 || *max > math.MaxInt32 {
			return nil, badRequest("max_completion_tokens", "max_completion_tokens must be a positive integer")
		}
		cfg.MaxTokens = ptrTo(int32(*max))
	}
	if r.Temperature != nil {
		if *r.Temperature < 0 || *r.Temperature > 2 {
			return nil, badRequest("temperature", "temperature must be from 0 to 2")
		}
		cfg.Temperature = ptrTo(float32(*r.Temperature))
	}
	if r.TopP != nil {
		if *r.TopP < 0 || *r.TopP > 1 {
			return nil, badRequest("top_p", "top_p must be from 0 to 1")
		}
		cfg.TopP = ptrTo(float32(*r.TopP))
	}
	stop, err := stopSequences(r.Stop)
	if err != nil {
		return nil, err
	}
	cfg.StopSequences = stop
	out.InferenceConfig = cfg
	return out, nil
}

func ptrTo[T any](v T) *T { return &v }

func stopSequences(raw json.RawMessage) ([]string, *apiError) {
	if !isSet(raw) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, badRequest("stop", "stop must be a string or an array of strings")
	}
	if len(many) > 4 {
		return nil, badRequest("stop", "stop holds at most 4 sequences")
	}
	return many, nil
}

// textOnly reads a content that must be text: a string, or text parts (joined).
func textOnly(raw json.RawMessage, where string) (string, *apiError) {
	blocks, err := contentBlocks(raw, where, false)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.GetText())
	}
	return b.String(), nil
}

// contentBlocks reads a message content: a string, or an array of text and (when images is
// true) image_url parts.
func contentBlocks(raw json.RawMessage, where string, images bool) ([]*inferencev1.ContentBlock, *apiError) {
	if !isSet(raw) {
		return nil, badRequest(where, where+" is required")
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}}, nil
	}
	var parts []json.RawMessage
	if json.Unmarshal(raw, &parts) != nil {
		return nil, badRequest(where, where+" must be a string or an array of content parts")
	}
	var out []*inferencev1.ContentBlock
	for i, pr := range parts {
		pw := fmt.Sprintf("%s[%d]", where, i)
		var p contentPart
		if err := decodeStrict(pr, &p, pw+"."); err != nil {
			return nil, err
		}
		switch p.Type {
		case "text":
			if p.Text == nil || p.ImageURL != nil {
				return nil, badRequest(pw, "a text part holds text only")
			}
			out = append(out, &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Text{Text: *p.Text}})
		case "image_url":
			if !images {
				return nil, badRequest(pw, "images are allowed only in user messages")
			}
			if p.ImageURL == nil || p.Text != nil {
				return nil, badRequest(pw, "an image_url part holds image_url only")
			}
			img, err := dataURL(p.ImageURL.URL, pw+".image_url.url")
			if err != nil {
				return nil, err
			}
			out = append(out, &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: img}})
		default:
			return nil, unsupported(pw + ".type: " + p.Type)
		}
	}
	return out, nil
}

var imageFormats = map[string]inferencev1.ImageFormat{
	"image/png": inferencev1.ImageFormat_IMAGE_FORMAT_PNG, "image/jpeg": inferencev1.ImageFormat_IMAGE_FORMAT_JPEG,
	"image/jpg": inferencev1.ImageFormat_IMAGE_FORMAT_JPEG, "image/gif": inferencev1.ImageFormat_IMAGE_FORMAT_GIF,
	"image/webp": inferencev1.ImageFormat_IMAGE_FORMAT_WEBP,
}

// dataURL decodes a base64 data URL of an image; the services never fetch URLs.
func dataURL(u, where string) (*inferencev1.Image, *apiError) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return nil, badRequest(where, "only data URLs (data:image/png;base64,...) are accepted: Portico fetches no URL")
	}
	meta, data, ok := strings.Cut(rest, ",")
	mediaType, enc, _ := strings.Cut(meta, ";")
	format, known := imageFormats[strings.ToLower(mediaType)]
	if !ok || enc != "base64" || !known {
		return nil, badRequest(where, "the data URL must be base64 PNG, JPEG, GIF or WebP")
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, badRequest(where, "the data URL's base64 does not decode")
	}
	return &inferencev1.Image{Format: format, Data: b}, nil
}
