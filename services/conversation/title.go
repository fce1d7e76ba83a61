package conversation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTitleChars is the longest title, in characters.
const MaxTitleChars = 200

// autoTitleChars is the longest title made from a prompt.
const autoTitleChars = 60

// DefaultTitle is the title of a conversation whose first prompt has no text.
const DefaultTitle = "New conversation"

// TitleFrom returns the title of a conversation started by prompt: its first words, white
// space collapsed, at most 60 characters cut at a word boundary (with "…" when cut), or
// DefaultTitle when prompt has no words.
func TitleFrom(prompt string) string {
	words := strings.FieldsFunc(prompt, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
	var b strings.Builder
	n := 0
	for i, w := range words {
		wn := utf8.RuneCountInString(w)
		sep := 0
		if i > 0 {
			sep = 1
		}
		if n+sep+wn > autoTitleChars {
			if i == 0 { // one long word: cut it
				r := []rune(w)
				b.WriteString(string(r[:autoTitleChars-1]))
			}
			b.WriteString("…")
			return b.String()
		}
		if sep == 1 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		n += sep + wn
	}
	if b.Len() == 0 {
		return DefaultTitle
	}
	return b.String()
}
