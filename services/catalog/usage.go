package catalog

import "slices"

// UsageFormat names the shape of the usage report a SageMaker endpoint's container writes.
type UsageFormat string

// The usage formats.
const (
	// UsageNone: the container reports no token usage; Portico estimates it from the payload
	// sizes. The right choice for any container whose answer a caller can shape at will (an
	// echo container, a raw-text model).
	UsageNone UsageFormat = "none"
	// UsageOpenAI: a top-level "usage" object with "prompt_tokens" and "completion_tokens"
	// (OpenAI-compatible servers such as vLLM; in a server-sent-events stream, the last event
	// before [DONE]).
	UsageOpenAI UsageFormat = "openai"
	// UsageTGIDetails: a top-level "details" object with "generated_tokens" (Hugging Face Text
	// Generation Inference with details enabled; in a JSON Lines stream, the last line). It
	// reports output tokens only; input tokens are estimated.
	UsageTGIDetails UsageFormat = "tgi-details"
)

// UsageContentTypes returns the response media types a usage report can be read from: an
// application/json body is one document with the report at its top level; in JSON Lines
// (application/jsonlines, application/jsonl, application/x-ndjson) the report is the last
// non-empty line; in text/event-stream, the last "data:" event other than [DONE]. Any
// other response (text/plain, say) carries no report Portico reads.
func UsageContentTypes() []string { return slices.Clone(usageContentTypes) }

var usageContentTypes = []string{"application/json", "application/jsonlines", "application/jsonl", "application/x-ndjson", "text/event-stream"}

// Usage says where a SageMaker endpoint's container reports token usage. Portico reads
// usage there and nowhere else, never from text a model generated; and every reported count
// is checked against what the request could have used (ContextWindow for input, the
// request's max output for output) before it is believed.
type Usage struct {
	// Format is the shape of the report.
	Format UsageFormat
	// ContentTypes are the response media types the report is read from, each one of
	// UsageContentTypes(); empty with UsageNone.
	ContentTypes []string
}

func (u Usage) clone() Usage {
	u.ContentTypes = slices.Clone(u.ContentTypes)
	return u
}
