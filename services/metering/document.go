package metering

import (
	"regexp"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// TokensPerDocument is the framing counted for each document (its name, format and the
// model's wrapping of it).
const TokensPerDocument = 16

// pdfPage matches a PDF page object's type ("/Type /Page", not "/Type /Pages").
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// EstimateDocument estimates the input tokens of a document, for the reservation (the
// settlement uses what Bedrock reports). The heuristic errs high:
//
//   - every format: its bytes by TextTokens (3 bytes a token), as if the file were all text.
//     For the text formats (csv, html, txt, md) that is the text estimate; for the binary
//     ones (pdf, doc, docx, xls, xlsx) the text a model extracts is smaller than the file
//     (compressed or framed), so the bytes bound it from above;
//   - a PDF adds TokensPerImage per page found ("/Type /Page" objects, at least one):
//     models that read PDFs visually (Claude) charge each page as an image besides its text;
//   - TokensPerDocument of framing.
func EstimateDocument(f inferencev1.DocumentFormat, data []byte) int64 {
	n := TokensPerDocument + TextTokens(len(data))
	if f == inferencev1.DocumentFormat_DOCUMENT_FORMAT_PDF {
		pages := int64(len(pdfPage.FindAllIndex(data, -1)))
		if pages == 0 {
			pages = 1
		}
		n += pages * TokensPerImage
	}
	return n
}
