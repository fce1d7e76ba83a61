package sagemaker

import (
	"bytes"
	"encoding/json"
	"mime"
	"slices"
	"strconv"
)

// Usage is the token usage of one invocation.
type Usage struct {
	// InputTokens, OutputTokens and TotalTokens are as the container reported them, or
	// estimated.
	InputTokens, OutputTokens, TotalTokens int64
	// Estimated is true when any figure is Portico's estimate: one token per 4 bytes of
	// request body (input) or of response body (output), rounded up.
	Estimated bool
	// Clamped is true when the container reported a count the request could not have used
	// (negative, not a whole number, or above Limits.MaxInputTokens or
	// Limits.MaxOutputTokens): that count is Portico's estimate instead (Estimated is set
	// too).
	Clamped bool
}

// EstimateTokens estimates the tokens of a payload: one per 4 bytes, rounded up.
func EstimateTokens(n int) int64 { return int64((n + bytesPerToken - 1) / bytesPerToken) }

// ReportFormat names the shape of the usage report an endpoint's container writes.
type ReportFormat string

// The report formats.
const (
	// ReportNone: the container reports no usage (the zero value); Portico estimates it.
	ReportNone ReportFormat = ""
	// ReportOpenAI: a top-level "usage" object with "prompt_tokens" and "completion_tokens"
	// (OpenAI-compatible servers such as vLLM; in a stream, the last event).
	ReportOpenAI ReportFormat = "openai"
	// ReportTGIDetails: a top-level "details" object with "generated_tokens", in an object or
	// a one-element array (Hugging Face Text Generation Inference with details enabled; in a
	// stream, the last line). It reports output tokens only.
	ReportTGIDetails ReportFormat = "tgi-details"
)

// UsageReport says where an endpoint's container reports token usage, from the catalog.
// Portico reads usage there and nowhere else: never from text a model generated, which a
// caller can choose.
type UsageReport struct {
	// Format is the shape of the report; ReportNone reads nothing.
	Format ReportFormat
	// ContentTypes are the response media types the report is read from; a response of any
	// other type (text/plain, say) carries no report. Each is one of ReportContentTypes.
	ContentTypes []string
}

// ReportContentTypes returns the response media types a report can be read from, and where in
// each it is:
//
//   - application/json: the body is one JSON document, the report at its top level;
//   - application/jsonlines (also application/jsonl, application/x-ndjson): the last
//     non-empty line is a JSON document with the report at its top level;
//   - text/event-stream: the last "data:" line other than "data: [DONE]" is.
func ReportContentTypes() []string { return slices.Clone(reportContentTypes) }

var reportContentTypes = []string{"application/json", "application/jsonlines", "application/jsonl", "application/x-ndjson", "text/event-stream"}

// Count is one count a report carries.
type Count struct {
	// Present is whether the report has the count (a JSON null counts as absent).
	Present bool
	// Valid is whether the count is a whole number in the int64 range.
	Valid bool
	// Value is the count, when Valid.
	Value int64
}

// Reported is what a container's usage report says.
type Reported struct {
	// Input and Output are the input (prompt) and output (generated) token counts.
	Input, Output Count
}

// ReadUsage reads the usage report of a response body of the given content type, where rep
// says it lives (see ReportContentTypes). The document holding it is parsed strictly (see
// ReadMaxTokens): a malformed or ambiguous one carries no report. Text the model generated
// sits inside JSON strings there, and a response of a content type rep does not list is
// never read, so a caller cannot plant a report.
func ReadUsage(body []byte, contentType string, rep UsageReport) Reported {
	mt, ok := reportType(contentType, rep)
	if !ok {
		return Reported{}
	}
	var doc []byte
	if mt == "application/json" {
		doc = body
	} else {
		t := newLastLine(mt)
		t.Write(body)
		doc = t.Doc()
	}
	return readReport(doc, rep.Format)
}

// reportType returns the media type of contentType when rep reads a report from it.
func reportType(contentType string, rep UsageReport) (string, bool) {
	if rep.Format == ReportNone {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !slices.Contains(reportContentTypes, mt) || !slices.Contains(rep.ContentTypes, mt) {
		return "", false
	}
	return mt, true
}

// readReport reads a report of format f from one JSON document.
func readReport(doc []byte, f ReportFormat) Reported {
	if len(bytes.TrimSpace(doc)) == 0 {
		return Reported{}
	}
	v, err := parseStrict(doc, 3)
	if err != nil {
		return Reported{}
	}
	switch f {
	case ReportOpenAI:
		obj, _ := v.(map[string]any)
		u, _ := obj["usage"].(map[string]any)
		return Reported{Input: countOf(u, "prompt_tokens"), Output: countOf(u, "completion_tokens")}
	case ReportTGIDetails:
		if arr, ok := v.([]any); ok && len(arr) == 1 {
			v = arr[0]
		}
		obj, _ := v.(map[string]any)
		d, _ := obj["details"].(map[string]any)
		return Reported{Output: countOf(d, "generated_tokens")}
	}
	return Reported{}
}

func countOf(obj map[string]any, key string) Count {
	v, ok := obj[key]
	if !ok || v == nil {
		return Count{}
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return Count{Present: true}
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return Count{Present: true}
	}
	return Count{Present: true, Valid: true, Value: i}
}

// UsageFrom combines a report with estimates from the payload sizes (EstimateTokens of the
// request and response bytes), clamping every reported count to what the request could have
// used: a count outside 0..lim.MaxInputTokens or 0..lim.MaxOutputTokens (a bound <= 0 trusts
// no count), or not a whole number, is replaced by the estimate, and the usage marked
// Clamped.
func UsageFrom(r Reported, lim Limits, requestBytes, responseBytes int) Usage {
	var u Usage
	pick := func(c Count, bound int64, estimate int64) int64 {
		switch {
		case !c.Present:
			u.Estimated = true
			return estimate
		case !c.Valid || c.Value < 0 || c.Value > bound:
			u.Estimated, u.Clamped = true, true
			return estimate
		}
		return c.Value
	}
	u.InputTokens = pick(r.Input, lim.MaxInputTokens, EstimateTokens(requestBytes))
	u.OutputTokens = pick(r.Output, lim.MaxOutputTokens, EstimateTokens(responseBytes))
	u.TotalTokens = u.InputTokens + u.OutputTokens // each is at most max(bound, 6 MB / 4): no overflow
	return u
}

// maxLineBytes bounds the line a lastLine keeps; a longer last line carries no report.
const maxLineBytes = 64 << 10

// lastLine keeps, of a JSON Lines or server-sent-events body written to it in any pieces,
// the last line that can hold a report.
type lastLine struct {
	sse      bool
	cur      []byte
	curLong  bool
	last     []byte
	lastLong bool
}

func newLastLine(mediaType string) *lastLine {
	return &lastLine{sse: mediaType == "text/event-stream"}
}

// Write takes the next bytes of the body.
func (l *lastLine) Write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !l.curLong {
			if len(l.cur)+len(chunk) > maxLineBytes {
				l.cur, l.curLong = l.cur[:0], true
			} else {
				l.cur = append(l.cur, chunk...)
			}
		}
		if i < 0 {
			return
		}
		l.endLine()
		p = p[i+1:]
	}
}

// endLine ends the current line, keeping it when it can hold a report.
func (l *lastLine) endLine() {
	line, long := bytes.TrimSpace(l.cur), l.curLong
	defer func() { l.cur, l.curLong = l.cur[:0], false }()
	if l.sse && !long {
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			return // blank line, comment, or another field (event:, id:, retry:)
		}
		line = bytes.TrimSpace(data)
		if string(line) == "[DONE]" {
			return
		}
	}
	if len(line) == 0 && !long {
		return
	}
	l.last, l.lastLong = append(l.last[:0], line...), long
}

// Doc returns the last line that can hold a report (the body's unterminated end counts as a
// line), or nil when there is none or it was too long to keep.
func (l *lastLine) Doc() []byte {
	if len(l.cur) > 0 || l.curLong {
		l.endLine()
	}
	if l.lastLong {
		return nil
	}
	return l.last
}
