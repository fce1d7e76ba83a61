package localaws

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Document rules the server enforces like Bedrock's Converse (API reference: DocumentBlock,
// Message): formats, at most 5 documents of at most 4.5 MB, names of 1 to 200 letters,
// digits, single spaces, hyphens, parentheses and square brackets, unique in the request,
// documents only in user turns, on models that accept them.
const (
	maxDocuments       = 5
	maxDocumentBytes   = 4_718_592
	maxDocumentNameLen = 200
	// The stand-in's token rule for documents: a token per 4 bytes, plus framing.
	bytesPerDocumentToken = 4
	tokensPerDocument     = 10
)

var (
	documentFormats = map[string]bool{"pdf": true, "csv": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "html": true, "txt": true, "md": true}
	documentName    = regexp.MustCompile(`^[A-Za-z0-9\-()\[\]]+( [A-Za-z0-9\-()\[\]]+)*$`)
	sourceMarker    = regexp.MustCompile(`<source number="([0-9]+)"`)
)

// checkDocument validates one document block like Bedrock.
func checkDocument(m Model, role, format, name string, data []byte, before []genDoc, i, j int) *awsError {
	switch {
	case !m.Documents:
		return validationErr("This model doesn't support the document content block that you provided. Try again with a supported content block.")
	case role != "user":
		return validationErr("Documents are only supported in user messages (messages.%d.content.%d).", i, j)
	case !documentFormats[format]:
		return validationErr("The format of the document at messages.%d.content.%d is not supported.", i, j)
	case len(before) >= maxDocuments:
		return validationErr("The request holds more than %d documents.", maxDocuments)
	case len(data) == 0 || len(data) > maxDocumentBytes:
		return validationErr("The document at messages.%d.content.%d must have 1 to %d bytes.", i, j, maxDocumentBytes)
	case len(name) > maxDocumentNameLen || !documentName.MatchString(name):
		return newAWSError(http.StatusBadRequest, "ValidationException", "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.")
	}
	for _, d := range before {
		if strings.EqualFold(d.name, name) {
			return validationErr("Duplicate document names are not allowed: %s.", name)
		}
	}
	return nil
}

// documentsLine says which documents the request carried, so that tests and people can see
// what reached the model.
func documentsLine(docs []genDoc) string {
	if len(docs) == 0 {
		return ""
	}
	parts := make([]string, len(docs))
	for i, d := range docs {
		parts[i] = fmt.Sprintf("%s (%s, %d bytes)", d.name, d.format, d.bytes)
	}
	return "Documents received by the local stand-in: " + strings.Join(parts, "; ") + ".\n\n"
}

// sourcesLine cites the numbered sources a grounded prompt gave (the knowledge-base path),
// as a model asked to cite them would.
func sourcesLine(prompt string) string {
	ms := sourceMarker.FindAllStringSubmatch(prompt, -1)
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nThe local stand-in was given these sources and cites them all:")
	for _, m := range ms {
		b.WriteString(" [" + m[1] + "]")
	}
	b.WriteString("\n")
	return b.String()
}

// citedText is the text of the stand-in's citations content block (Converse's answer).
const citedText = "The local stand-in cites the documents it was given."

// excerptOf returns the start of a text document (for the stand-in's citations).
func excerptOf(format string, data []byte) string {
	switch format {
	case "csv", "txt", "md", "html":
		s := string(data[:min(len(data), 80)])
		if !utf8.ValidString(s) {
			return ""
		}
		return strings.TrimSpace(s)
	}
	return ""
}

// citationsOf returns the stand-in's citations of the documents whose citations are
// enabled, one each, in Converse's shape (a Citation, or a CitationsDelta in a stream: the
// same fields), located by character range in the document.
func citationsOf(docs []genDoc) []map[string]any {
	var out []map[string]any
	for i, d := range docs {
		if !d.cite {
			continue
		}
		out = append(out, map[string]any{
			"title":         d.name,
			"sourceContent": []map[string]any{{"text": d.excerpt}},
			"location":      map[string]any{"documentChar": map[string]any{"documentIndex": i, "start": 0, "end": len(d.excerpt)}},
		})
	}
	return out
}
