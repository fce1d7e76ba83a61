package metering

import (
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Constants of the input-token estimator (see the package documentation).
const (
	// BytesPerToken is the number of UTF-8 bytes counted as one token, rounded up. It is
	// below the usual 4 bytes per token, so that estimates err high.
	BytesPerToken = 3
	// TokensPerMessage is the framing counted for each message (its role and separators).
	TokensPerMessage = 4
	// TokensPerImage is counted for each image: Anthropic's figure for an image of about
	// 1.15 megapixels, the largest size models use without scaling it down.
	TokensPerImage = 1600
)

// TextTokens estimates the tokens of n bytes of text: n / BytesPerToken, rounded up.
func TextTokens(n int) int64 {
	if n <= 0 {
		return 0
	}
	return int64((n + BytesPerToken - 1) / BytesPerToken)
}

// EstimateConverse estimates the input tokens of a conversation: its system prompt and text
// blocks by TextTokens, TokensPerMessage per message, TokensPerImage per image and
// EstimateDocument per document.
func EstimateConverse(systemPrompt string, msgs []*inferencev1.Message) int64 {
	bytes := len(systemPrompt)
	var n int64
	for _, m := range msgs {
		n += TokensPerMessage
		for _, b := range m.GetContent() {
			switch c := b.GetBlock().(type) {
			case *inferencev1.ContentBlock_Text:
				bytes += len(c.Text)
			case *inferencev1.ContentBlock_Image:
				n += TokensPerImage
			case *inferencev1.ContentBlock_Document:
				n += EstimateDocument(c.Document.GetFormat(), c.Document.GetData())
			}
		}
	}
	return n + TextTokens(bytes)
}

// EstimatePayload estimates the input tokens of an opaque payload of n bytes (a SageMaker
// request body), by TextTokens.
func EstimatePayload(n int) int64 { return TextTokens(n) }
