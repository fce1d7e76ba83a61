package localaws

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode"
)

// Stop reasons, in Bedrock's vocabulary.
const (
	stopEndTurn      = "end_turn"
	stopMaxTokens    = "max_tokens"
	stopSequence     = "stop_sequence"
	stopGuardrail    = "guardrail_intervened"
	tokensPerImage   = 85
	defaultMaxTokens = 512
)

// genTurn is one turn of a conversation given to a generator.
type genTurn struct {
	role   string // "user" or "assistant"
	text   string
	images []genImage
	docs   int // document blocks
}

// genDoc is a document a request carried.
type genDoc struct {
	name, format string
	bytes        int
	cite         bool   // citations enabled
	excerpt      string // the start of a text document, for citations
}

type genImage struct {
	format string
	data   []byte
}

// genRequest is what a generator answers.
type genRequest struct {
	model       string
	system      string
	turns       []genTurn
	maxTokens   int
	temperature *float64
	topP        *float64
	stop        []string
	docs        []genDoc
}

// genResult is how a generation ended.
type genResult struct {
	stopReason   string
	inputTokens  int
	outputTokens int
}

// generator produces an answer, calling emit with each piece of text in order. It stops at
// once when ctx is done or emit fails.
type generator interface {
	generate(ctx context.Context, req genRequest, emit func(string) error) (genResult, error)
}

// countTokens is the token rule of the built-in generator: whitespace-separated words.
func countTokens(s string) int { return len(strings.Fields(s)) }

// inputTokens counts the request's input tokens: the words of the system prompt and of every
// text block, plus tokensPerImage per image.
func (r genRequest) inputTokens() int {
	n := countTokens(r.system)
	for _, t := range r.turns {
		n += countTokens(t.text) + tokensPerImage*len(t.images)
	}
	for _, d := range r.docs {
		n += tokensPerDocument + d.bytes/bytesPerDocumentToken
	}
	return n
}

// prompt is the text the answer is derived from: the system prompt and the last user turn.
func (r genRequest) prompt() string {
	last := ""
	for _, t := range r.turns {
		if t.role == "user" {
			last = t.text
		}
	}
	return r.system + "\n" + last
}

// echoGenerator answers with the last user turn, verbatim, one line (with its newline) per
// piece: the generator of an Echo endpoint.
type echoGenerator struct{}

func (echoGenerator) generate(ctx context.Context, req genRequest, emit func(string) error) (genResult, error) {
	res := genResult{stopReason: stopEndTurn, inputTokens: req.inputTokens()}
	last := ""
	for _, t := range req.turns {
		if t.role == "user" {
			last = t.text
		}
	}
	for len(last) > 0 {
		n := strings.IndexByte(last, '\n') + 1
		if n == 0 {
			n = len(last)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := emit(last[:n]); err != nil {
			return res, err
		}
		res.outputTokens++
		last = last[n:]
	}
	return res, nil
}

// builtinGenerator is the deterministic development stand-in. It paces tokens at
// tokensPerSecond (0: as fast as possible).
type builtinGenerator struct {
	tokensPerSecond float64
}

func (g builtinGenerator) generate(ctx context.Context, req genRequest, emit func(string) error) (genResult, error) {
	res := genResult{stopReason: stopEndTurn, inputTokens: req.inputTokens()}
	text := documentsLine(req.docs) + answerFor(req.prompt()) + sourcesLine(req.prompt())
	cut := len(text)
	for _, s := range req.stop {
		if i := strings.Index(text, s); s != "" && i >= 0 && i < cut {
			cut = i
			res.stopReason = stopSequence
		}
	}
	chunks := splitTokens(text[:cut])
	if req.maxTokens > 0 && len(chunks) > req.maxTokens {
		chunks = chunks[:req.maxTokens]
		res.stopReason = stopMaxTokens
	}
	var tick *time.Ticker
	if g.tokensPerSecond > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / g.tokensPerSecond))
		defer tick.Stop()
	}
	for i, c := range chunks {
		if tick != nil && i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := emit(c); err != nil {
			return res, err
		}
		res.outputTokens++
	}
	return res, nil
}

// splitTokens splits text into pieces that each hold one word with the whitespace before it,
// so that joining them gives back text (trailing whitespace aside) and len(pieces) equals
// countTokens(text).
func splitTokens(text string) []string {
	var out []string
	start, inWord := 0, false
	for i, r := range text {
		space := unicode.IsSpace(r)
		if inWord && space {
			out = append(out, text[start:i])
			start = i
		}
		inWord = !space
	}
	if inWord {
		out = append(out, text[start:])
	}
	return out
}

var (
	notes = []string{
		"Answers are shaped like Markdown so that the UI's rendering can be checked.",
		"The same prompt always gives the same answer, which keeps tests deterministic.",
		"Token counts are whitespace-separated words, so usage is easy to predict.",
		"Streaming is paced by PORTICO_LOCALAWS_TOKENS_PER_SECOND.",
	}
	closings = []string{
		"Point AWS_ENDPOINT_URL at a real region to talk to a real model.",
		"Set PORTICO_LOCALAWS_OPENAI_URL to forward prompts to a local model server.",
		"Ask again with other words to see a different seed.",
	}
)

// answerFor returns the built-in generator's answer to a prompt: Markdown with a heading, a
// list, a fenced code block and a table, derived only from the prompt.
func answerFor(prompt string) string {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	seed := h.Sum64()
	var words []string
	for _, f := range strings.Fields(prompt) {
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if w != "" && !strings.Contains(w, "[") {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		words = []string{"nothing"}
	}
	title := strings.Join(words[:min(4, len(words))], " ")
	var b strings.Builder
	fmt.Fprintf(&b, "## About %s\n\n", title)
	fmt.Fprintf(&b, "This answer comes from Portico's local development stand-in, not from a model.\n\n")
	fmt.Fprintf(&b, "- **Topic:** %s\n", words[0])
	fmt.Fprintf(&b, "- **Words in the prompt:** %d\n", len(words))
	fmt.Fprintf(&b, "- **Seed:** `%016x`\n", seed)
	fmt.Fprintf(&b, "- %s\n\n", notes[seed%uint64(len(notes))])
	fmt.Fprintf(&b, "```go\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(%q)\n}\n```\n\n", title)
	b.WriteString("| word | letters |\n| --- | ---: |\n")
	for _, w := range words[:min(3, len(words))] {
		fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(w, "|", `\|`), len([]rune(w)))
	}
	fmt.Fprintf(&b, "\n%s\n", closings[(seed>>8)%uint64(len(closings))])
	return b.String()
}

// AnswerFor returns the built-in generator's whole answer to a prompt (the system prompt,
// a newline, and the last user turn; for SageMaker, a newline and the inputs), before
// maxTokens and stop sequences apply. Tests use it to predict answers.
func AnswerFor(prompt string) string { return answerFor("\n" + prompt) }
