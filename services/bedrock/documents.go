package bedrock

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Converse's document limits (Bedrock API reference: Message, "You can include up to five
// documents. Each document's size must be no more than 4.5 MB"; DocumentBlock, name: "only
// alphanumeric characters, whitespace characters (no more than one in a row), hyphens,
// parentheses, square brackets", 1 to 200 characters).
const (
	// DefaultMaxDocuments is the most documents one Converse request may carry.
	DefaultMaxDocuments = 5
	// DefaultMaxDocumentBytes is the largest document Converse accepts (4.5 MiB).
	DefaultMaxDocumentBytes = 4_718_592
	// MaxDocumentNameChars is the longest document name Converse accepts.
	MaxDocumentNameChars = 200
)

// DocumentFormatName returns Bedrock's name of a document format ("pdf", "docx"...), or ""
// for an unspecified or unknown one.
func DocumentFormatName(f inferencev1.DocumentFormat) string {
	switch f {
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_PDF:
		return "pdf"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_CSV:
		return "csv"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOC:
		return "doc"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOCX:
		return "docx"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLS:
		return "xls"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLSX:
		return "xlsx"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_HTML:
		return "html"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_TXT:
		return "txt"
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_MD:
		return "md"
	}
	return ""
}

// Magic numbers of the binary document formats.
var (
	pdfMagic  = []byte("%PDF-")
	zipMagic  = []byte("PK\x03\x04")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// DocumentMatches reports why data is not a document of format f, or "" when it is one: a
// PDF holds "%PDF-" in its first 1,024 bytes; DOCX and XLSX are ZIP archives holding
// word/document.xml and xl/workbook.xml; DOC and XLS are OLE2 compound files (which of the
// two is not told apart); CSV, HTML, TXT and MD are valid UTF-8 without NUL bytes and do not
// start like one of the binary formats.
func DocumentMatches(f inferencev1.DocumentFormat, data []byte) string {
	name := DocumentFormatName(f)
	switch f {
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_PDF:
		if !bytes.Contains(data[:min(len(data), 1024)], pdfMagic) {
			return "the bytes are not a PDF (no %PDF- header)"
		}
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOCX, inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLSX:
		want := "word/document.xml"
		if f == inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLSX {
			want = "xl/workbook.xml"
		}
		if !bytes.HasPrefix(data, zipMagic) {
			return fmt.Sprintf("the bytes are not a %s file (not a ZIP archive)", name)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Sprintf("the bytes are not a %s file (a damaged ZIP archive)", name)
		}
		found := false
		for _, zf := range zr.File {
			found = found || zf.Name == want
		}
		if !found {
			return fmt.Sprintf("the bytes are not a %s file (no %s in the archive)", name, want)
		}
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOC, inferencev1.DocumentFormat_DOCUMENT_FORMAT_XLS:
		if !bytes.HasPrefix(data, ole2Magic) {
			return fmt.Sprintf("the bytes are not a %s file (not an OLE2 compound file)", name)
		}
	case inferencev1.DocumentFormat_DOCUMENT_FORMAT_CSV, inferencev1.DocumentFormat_DOCUMENT_FORMAT_HTML,
		inferencev1.DocumentFormat_DOCUMENT_FORMAT_TXT, inferencev1.DocumentFormat_DOCUMENT_FORMAT_MD:
		for _, magic := range [][]byte{pdfMagic, zipMagic, ole2Magic} {
			if bytes.HasPrefix(data, magic) {
				return fmt.Sprintf("the bytes are a binary file, not %s text", name)
			}
		}
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return fmt.Sprintf("the bytes are not %s text (not valid UTF-8)", name)
		}
	default:
		return "the document has no format"
	}
	return ""
}

// checkDocument checks one document block at messages[i].content[j]; n is how many
// documents the request held before it.
func checkDocument(d *inferencev1.DocumentBlock, lim Limits, role inferencev1.Role, i, j, n int) error {
	maxDocs, maxBytes := lim.MaxDocuments, lim.MaxDocumentBytes
	if maxDocs == 0 {
		maxDocs = DefaultMaxDocuments
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxDocumentBytes
	}
	switch data := d.GetData(); {
	case !lim.Documents:
		return invalid("the model does not accept documents")
	case role != inferencev1.Role_ROLE_USER:
		return invalid("messages[%d].content[%d]: documents are allowed in user turns only", i, j)
	case n+1 > maxDocs:
		return invalid("the request holds more than %d documents", maxDocs)
	case len(data) == 0:
		return invalid("messages[%d].content[%d]: the document is empty", i, j)
	case int64(len(data)) > maxBytes:
		return invalid("messages[%d].content[%d]: the document has %d bytes; at most %d are allowed", i, j, len(data), maxBytes)
	default:
		if why := DocumentMatches(d.GetFormat(), data); why != "" {
			return invalid("messages[%d].content[%d]: %s", i, j, why)
		}
	}
	return nil
}

// hasText reports whether a message holds a text block (Converse requires one beside
// documents).
func hasText(m *inferencev1.Message) bool {
	for _, b := range m.GetContent() {
		if _, ok := b.GetBlock().(*inferencev1.ContentBlock_Text); ok {
			return true
		}
	}
	return false
}

// SanitizeDocumentName returns name as Bedrock accepts it: a known extension of format is
// dropped; every character but ASCII letters, digits, hyphens, parentheses and square
// brackets becomes a space; runs of spaces become one; the result is trimmed and cut to
// MaxDocumentNameChars. An empty result becomes "document N" (n from 1).
func SanitizeDocumentName(name string, f inferencev1.DocumentFormat, n int) string {
	if ext := DocumentFormatName(f); ext != "" {
		lower := strings.ToLower(name)
		for _, e := range []string{"." + ext, ".htm", ".markdown", ".text"} {
			if strings.HasSuffix(lower, e) {
				name = name[:len(name)-len(e)]
				break
			}
		}
	}
	var b strings.Builder
	space := true // drops leading spaces
	for _, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') ||
			r == '-' || r == '(' || r == ')' || r == '[' || r == ']'
		if !ok {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	out := strings.TrimSpace(b.String())
	if len(out) > MaxDocumentNameChars {
		out = strings.TrimSpace(out[:MaxDocumentNameChars])
	}
	if out == "" {
		out = "document " + strconv.Itoa(n)
	}
	return out
}

// DocumentNames returns the name each document of msgs is given to Bedrock with:
// SanitizeDocumentName's, made unique in the conversation by " (2)", " (3)"... suffixes.
func DocumentNames(msgs []*inferencev1.Message) map[*inferencev1.DocumentBlock]string {
	out := map[*inferencev1.DocumentBlock]string{}
	used := map[string]bool{}
	n := 0
	for _, m := range msgs {
		for _, b := range m.GetContent() {
			d := b.GetDocument()
			if d == nil {
				continue
			}
			n++
			base := SanitizeDocumentName(d.GetName(), d.GetFormat(), n)
			name := base
			for k := 2; used[strings.ToLower(name)]; k++ {
				suffix := " (" + strconv.Itoa(k) + ")"
				name = strings.TrimSpace(base[:min(len(base), MaxDocumentNameChars-len(suffix))]) + suffix
			}
			used[strings.ToLower(name)] = true
			out[d] = name
		}
	}
	return out
}

// sdkDocument converts a checked document block to the SDK's, under its Bedrock name, with
// citations turned on when the model cites its documents.
func sdkDocument(d *inferencev1.DocumentBlock, name string, citations bool) types.ContentBlock {
	db := types.DocumentBlock{
		Name:   aws.String(name),
		Format: types.DocumentFormat(DocumentFormatName(d.GetFormat())),
		Source: &types.DocumentSourceMemberBytes{Value: d.GetData()},
	}
	if citations {
		db.Citations = &types.CitationsConfig{Enabled: aws.Bool(true)}
	}
	return &types.ContentBlockMemberDocument{Value: db}
}

// documentBytes returns the bytes of every document of the conversation.
func documentBytes(req *inferencev1.ConverseRequest) int {
	n := 0
	for _, m := range req.GetMessages() {
		for _, b := range m.GetContent() {
			n += len(b.GetDocument().GetData())
		}
	}
	return n
}
