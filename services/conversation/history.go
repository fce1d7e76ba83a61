package conversation

import (
	"strings"

	"google.golang.org/protobuf/proto"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/metering"
)

// History returns the turns of a stored chain that can be sent to a model, oldest first: each
// user message with the answer that follows it, when that answer holds text (a complete,
// stopped or failed answer with text). A user message without such an answer (the answer
// failed before any text, or was never stored) is left out with it. Image blocks are copies
// without data; the caller fills them in from the attachment store. The result always
// alternates user, assistant. ids holds the stored id of each message returned.
func History(chain []Message) (msgs []*inferencev1.Message, ids []string) {
	var out []*inferencev1.Message
	for i := 0; i+1 < len(chain); i++ {
		u, a := chain[i].Body, chain[i+1].Body
		if u.GetRole() != inferencev1.Role_ROLE_USER || a.GetRole() != inferencev1.Role_ROLE_ASSISTANT {
			continue
		}
		text := answerText(a.GetContent())
		if text == "" {
			i++
			continue
		}
		out = append(out,
			&inferencev1.Message{Role: inferencev1.Role_ROLE_USER, Content: cloneBlocks(u.GetContent())},
			&inferencev1.Message{Role: inferencev1.Role_ROLE_ASSISTANT, Content: []*inferencev1.ContentBlock{
				{Block: &inferencev1.ContentBlock_Text{Text: text}},
			}})
		ids = append(ids, u.GetId(), a.GetId())
		i++
	}
	return out, ids
}

func answerText(blocks []*inferencev1.ContentBlock) string {
	var b strings.Builder
	for _, c := range blocks {
		b.WriteString(c.GetText())
	}
	if strings.TrimSpace(b.String()) == "" {
		return ""
	}
	return b.String()
}

func cloneBlocks(in []*inferencev1.ContentBlock) []*inferencev1.ContentBlock {
	out := make([]*inferencev1.ContentBlock, len(in))
	for i, b := range in {
		out[i] = proto.CloneOf(b)
	}
	return out
}

// Window is what a model can take in one request.
type Window struct {
	// InputTokens is the most input tokens (the context window less the output reserved);
	// 0 or less means no limit.
	InputTokens int64
	// MaxTurns is the most messages; 0 means no limit.
	MaxTurns int
}

// Fit returns history followed by turn, without as many of the oldest user–assistant pairs
// of history as must go for the rest to fit w by metering.EstimateConverse (with the system
// prompt), and the number of messages left out. turn is always kept, even when it alone does
// not fit (the request's own checks then refuse it).
func Fit(system string, history []*inferencev1.Message, turn *inferencev1.Message, w Window) ([]*inferencev1.Message, int) {
	msgs := append(append(make([]*inferencev1.Message, 0, len(history)+1), history...), turn)
	// The estimate of msgs, kept as its parts as pairs are dropped: EstimateConverse is the
	// framing and images of each message plus TextTokens of all text bytes.
	cost := func(m *inferencev1.Message) (fixed int64, bytes int) {
		fixed = metering.TokensPerMessage
		for _, b := range m.GetContent() {
			switch c := b.GetBlock().(type) {
			case *inferencev1.ContentBlock_Text:
				bytes += len(c.Text)
			case *inferencev1.ContentBlock_Image:
				fixed += metering.TokensPerImage
			}
		}
		return fixed, bytes
	}
	fixed, bytes := int64(0), len(system)
	for _, m := range msgs {
		f, b := cost(m)
		fixed += f
		bytes += b
	}
	fits := func() bool {
		if w.MaxTurns > 0 && len(msgs) > w.MaxTurns {
			return false
		}
		return w.InputTokens <= 0 || fixed+metering.TextTokens(bytes) <= w.InputTokens
	}
	dropped := 0
	for len(msgs) > 2 && !fits() {
		for _, m := range msgs[:2] {
			f, b := cost(m)
			fixed -= f
			bytes -= b
		}
		msgs = msgs[2:]
		dropped += 2
	}
	return msgs, dropped
}
