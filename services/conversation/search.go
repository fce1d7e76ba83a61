package conversation

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
)

// Limits of a search query.
const (
	// MaxQueryChars is the longest query, in characters.
	MaxQueryChars = 200
	// MaxTerms is the most words of a query that are searched for; later ones are ignored.
	MaxTerms = 8
	// snippetRunes is about how long a snippet is, in characters.
	snippetRunes = 160
)

// Terms splits a query into the words searched for: runs of letters and digits, lower-cased,
// duplicates removed, at most MaxTerms.
func Terms(query string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(query), notWordRune) {
		if !contains(out, w) {
			out = append(out, w)
		}
		if len(out) == MaxTerms {
			break
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// word is a word of a text: its byte range and its lower-case form.
type word struct {
	start, end int
	lower      string
}

func words(text string) []word {
	var out []word
	start := -1
	for i, r := range text {
		if notWordRune(r) {
			if start >= 0 {
				out = append(out, word{start, i, strings.ToLower(text[start:i])})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, word{start, len(text), strings.ToLower(text[start:])})
	}
	return out
}

// Matches reports whether every term is the prefix of a word of text, and how many words
// match a term (a score: more is better).
func Matches(text string, terms []string) (bool, int) {
	if len(terms) == 0 {
		return false, 0
	}
	seen := make([]bool, len(terms))
	hits := 0
	for _, w := range words(text) {
		for i, t := range terms {
			if strings.HasPrefix(w.lower, t) {
				seen[i] = true
				hits++
				break
			}
		}
	}
	for _, s := range seen {
		if !s {
			return false, hits
		}
	}
	return true, hits
}

// Snippet is an excerpt of a text with the words that match highlighted.
type Snippet struct {
	// Text is the excerpt.
	Text string
	// Highlights are [start, end) ranges of Text in UTF-16 code units, in order.
	Highlights [][2]int
}

// MakeSnippet returns an excerpt of text of about 160 characters around its first word that
// matches a term, with every matching word in it highlighted. White space is collapsed; the
// excerpt starts and ends with "…" where text was cut.
func MakeSnippet(text string, terms []string) Snippet {
	text = strings.Join(strings.Fields(text), " ")
	ws := words(text)
	match := func(w word) bool {
		for _, t := range terms {
			if strings.HasPrefix(w.lower, t) {
				return true
			}
		}
		return false
	}
	first := -1
	for i, w := range ws {
		if match(w) {
			first = i
			break
		}
	}
	// The window: from a few words before the first match, snippetRunes long, on word
	// boundaries.
	start, end := 0, len(text)
	if first >= 0 {
		from := max(0, first-4)
		start = ws[from].start
	}
	if utf8.RuneCountInString(text[start:]) > snippetRunes {
		end = start
		n := 0
		for i := range text[start:] {
			if n == snippetRunes {
				end = start + i
				break
			}
			n++
		}
		// Back to the end of the last whole word.
		for _, w := range ws {
			if w.start >= start && w.end <= end {
				continue
			}
			if w.start < end && w.end > end && w.start > start {
				end = w.start
			}
		}
		end = len(strings.TrimRight(text[:end], " "))
	}
	var b strings.Builder
	prefix := ""
	if start > 0 {
		prefix = "…"
	}
	b.WriteString(prefix)
	offset := utf16Len(prefix)
	var hl [][2]int
	pos := start
	for _, w := range ws {
		if w.start < start || w.end > end || !match(w) {
			continue
		}
		offset += utf16Len(text[pos:w.start])
		n := utf16Len(text[w.start:w.end])
		hl = append(hl, [2]int{offset, offset + n})
		offset += n
		pos = w.end
	}
	b.WriteString(text[start:end])
	if end < len(text) {
		b.WriteString("…")
	}
	return Snippet{Text: b.String(), Highlights: hl}
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// SearchText is the text of a message that search finds: its text blocks, one per line.
func SearchText(m *conversationv1.ConversationMessage) string {
	var parts []string
	for _, b := range m.GetContent() {
		if t := b.GetText(); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}
