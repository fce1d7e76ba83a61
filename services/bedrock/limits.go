package bedrock

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Limits of the Converse API that hold for every model.
const (
	// DefaultMaxImages is the most images one Converse request may carry.
	DefaultMaxImages = 20
	// DefaultMaxImageBytes is the largest image Converse accepts (3.75 MB).
	DefaultMaxImageBytes = 3_932_160
	// MaxTurns is the most messages Portico passes in one conversation.
	MaxTurns = 100
	// MaxSystemPromptChars is the longest system prompt, in characters.
	MaxSystemPromptChars = 100_000
	// MaxStopSequences is the most stop sequences of one request.
	MaxStopSequences = 4
	// MaxStopSequenceChars is the longest stop sequence, in characters.
	MaxStopSequenceChars = 100
	// bytesPerToken is the rule of thumb used for estimates.
	bytesPerToken = 4
	// TokensPerImage is the estimate of the input tokens of one image (about a 1.15
	// megapixel image for Anthropic models).
	TokensPerImage = 1600
)

// Limits are what one model accepts, from the catalog. They are checked before calling.
type Limits struct {
	// MaxOutputTokens is the most tokens the model generates; it is also the maxTokens sent
	// when the request sets none. 0 skips the check.
	MaxOutputTokens int32
	// MaxInputTokens is the model's context window: the most input tokens a reported usage
	// may count (see Usage.Clamped). 0 bounds it by the int32 range only.
	MaxInputTokens int64
	// SystemPrompt tells whether the model accepts a system prompt.
	SystemPrompt bool
	// Images tells whether the model accepts image blocks.
	Images bool
	// MaxImages is the most images of one request; 0 means DefaultMaxImages.
	MaxImages int
	// MaxImageBytes is the largest image; 0 means DefaultMaxImageBytes.
	MaxImageBytes int64
	// Documents tells whether the model accepts document blocks (documents.go).
	Documents bool
	// MaxDocuments is the most documents of one request; 0 means DefaultMaxDocuments.
	MaxDocuments int
	// MaxDocumentBytes is the largest document; 0 means DefaultMaxDocumentBytes.
	MaxDocumentBytes int64
	// Citations turns on Converse's CitationsConfig for the documents and passes the
	// model's citations on (citations.go).
	Citations bool
}

func invalid(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}

// Validate checks a conversation against the Converse API's rules and the model's limits.
// It returns an INVALID_ARGUMENT *connect.Error naming the first broken rule, or nil.
func Validate(req *inferencev1.ConverseRequest, lim Limits) error {
	if req.GetModelId() == "" {
		return invalid("model_id is required")
	}
	msgs := req.GetMessages()
	switch {
	case len(msgs) == 0:
		return invalid("messages must hold at least one turn")
	case len(msgs) > MaxTurns:
		return invalid("messages holds %d turns; at most %d are allowed", len(msgs), MaxTurns)
	}
	maxImages, maxImageBytes := lim.MaxImages, lim.MaxImageBytes
	if maxImages == 0 {
		maxImages = DefaultMaxImages
	}
	if maxImageBytes == 0 {
		maxImageBytes = DefaultMaxImageBytes
	}
	images, documents := 0, 0
	for i, m := range msgs {
		want := inferencev1.Role_ROLE_USER
		if i%2 == 1 {
			want = inferencev1.Role_ROLE_ASSISTANT
		}
		if m.GetRole() != want {
			return invalid("messages[%d] has role %s; turns must alternate, starting with ROLE_USER", i, m.GetRole())
		}
		if len(m.GetContent()) == 0 {
			return invalid("messages[%d] has no content", i)
		}
		for j, b := range m.GetContent() {
			switch c := b.GetBlock().(type) {
			case *inferencev1.ContentBlock_Text:
				if strings.TrimSpace(c.Text) == "" {
					return invalid("messages[%d].content[%d] has blank text", i, j)
				}
			case *inferencev1.ContentBlock_Image:
				if !lim.Images {
					return invalid("the model does not accept images")
				}
				if m.GetRole() != inferencev1.Role_ROLE_USER {
					return invalid("messages[%d].content[%d]: images are allowed in user turns only", i, j)
				}
				images++
				if images > maxImages {
					return invalid("the request holds more than %d images", maxImages)
				}
				data := c.Image.GetData()
				if int64(len(data)) > maxImageBytes {
					return invalid("messages[%d].content[%d]: the image has %d bytes; at most %d are allowed", i, j, len(data), maxImageBytes)
				}
				if !imageMatches(c.Image.GetFormat(), data) {
					return invalid("messages[%d].content[%d]: the bytes are not a valid %s image", i, j, formatName(c.Image.GetFormat()))
				}
			case *inferencev1.ContentBlock_Document:
				if err := checkDocument(c.Document, lim, m.GetRole(), i, j, documents); err != nil {
					return err
				}
				documents++
				if !hasText(m) {
					return invalid("messages[%d]: a turn with documents must also hold text (the question about them)", i)
				}
			default:
				return invalid("messages[%d].content[%d] has no content", i, j)
			}
		}
	}
	if msgs[len(msgs)-1].GetRole() != inferencev1.Role_ROLE_USER {
		return invalid("the last turn must have ROLE_USER")
	}
	if sp := req.GetSystemPrompt(); sp != "" {
		if !lim.SystemPrompt {
			return invalid("the model does not accept a system prompt")
		}
		if n := utf8.RuneCountInString(sp); n > MaxSystemPromptChars {
			return invalid("system_prompt has %d characters; at most %d are allowed", n, MaxSystemPromptChars)
		}
	}
	ic := req.GetInferenceConfig()
	if ic == nil {
		return nil
	}
	if ic.MaxTokens != nil {
		if ic.GetMaxTokens() < 1 {
			return invalid("max_tokens must be at least 1")
		}
		if lim.MaxOutputTokens > 0 && ic.GetMaxTokens() > lim.MaxOutputTokens {
			return invalid("max_tokens %d is above the model's limit of %d", ic.GetMaxTokens(), lim.MaxOutputTokens)
		}
	}
	if ic.Temperature != nil && (ic.GetTemperature() < 0 || ic.GetTemperature() > 1) {
		return invalid("temperature must be between 0 and 1")
	}
	if ic.TopP != nil && (ic.GetTopP() < 0 || ic.GetTopP() > 1) {
		return invalid("top_p must be between 0 and 1")
	}
	if n := len(ic.GetStopSequences()); n > MaxStopSequences {
		return invalid("%d stop sequences given; at most %d are allowed", n, MaxStopSequences)
	}
	for i, s := range ic.GetStopSequences() {
		if s == "" || utf8.RuneCountInString(s) > MaxStopSequenceChars {
			return invalid("stop_sequences[%d] must have 1 to %d characters", i, MaxStopSequenceChars)
		}
	}
	return nil
}

// imageMatches reports whether data starts like an image in format.
func imageMatches(f inferencev1.ImageFormat, data []byte) bool {
	switch f {
	case inferencev1.ImageFormat_IMAGE_FORMAT_PNG:
		return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n"))
	case inferencev1.ImageFormat_IMAGE_FORMAT_JPEG:
		return bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF})
	case inferencev1.ImageFormat_IMAGE_FORMAT_GIF:
		return bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a"))
	case inferencev1.ImageFormat_IMAGE_FORMAT_WEBP:
		return len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP"
	}
	return false
}

func formatName(f inferencev1.ImageFormat) string {
	switch f {
	case inferencev1.ImageFormat_IMAGE_FORMAT_PNG:
		return "png"
	case inferencev1.ImageFormat_IMAGE_FORMAT_JPEG:
		return "jpeg"
	case inferencev1.ImageFormat_IMAGE_FORMAT_GIF:
		return "gif"
	case inferencev1.ImageFormat_IMAGE_FORMAT_WEBP:
		return "webp"
	}
	return "unspecified-format"
}

// EstimateInputTokens estimates the input tokens of a conversation, for reserving quota
// before the call: one token per 4 bytes of text and documents (system prompt included,
// rounded up) plus TokensPerImage per image.
func EstimateInputTokens(req *inferencev1.ConverseRequest) int64 {
	n := int64(len(req.GetSystemPrompt()) + documentBytes(req))
	var images int64
	for _, m := range req.GetMessages() {
		for _, b := range m.GetContent() {
			if _, ok := b.GetBlock().(*inferencev1.ContentBlock_Image); ok {
				images++
			}
			n += int64(len(b.GetText()))
		}
	}
	return (n+bytesPerToken-1)/bytesPerToken + images*TokensPerImage
}

// MaxTokens returns the most output tokens the request may generate: its max_tokens, else
// the model's limit. Reserve EstimateInputTokens plus MaxTokens before the call.
func MaxTokens(req *inferencev1.ConverseRequest, lim Limits) int64 {
	if ic := req.GetInferenceConfig(); ic != nil && ic.MaxTokens != nil {
		return int64(ic.GetMaxTokens())
	}
	return int64(lim.MaxOutputTokens)
}
