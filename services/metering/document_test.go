package metering

import (
	"testing"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// TestEstimateDocument checks the documented heuristic: bytes at 3 a token, a page image per
// PDF page (at least one), framing.
func TestEstimateDocument(t *testing.T) {
	t.Parallel()
	pdf := inferencev1.DocumentFormat_DOCUMENT_FORMAT_PDF
	threePages := []byte("%PDF-1.7\n<< /Type /Pages /Count 3 >>\n<< /Type /Page >>\n<< /Type/Page >>\n<</Type /Page\n>>")
	tests := []struct {
		name string
		f    inferencev1.DocumentFormat
		data []byte
		want int64
	}{
		{"csv", inferencev1.DocumentFormat_DOCUMENT_FORMAT_CSV, make([]byte, 3000), TokensPerDocument + 1000},
		{"odd bytes round up", inferencev1.DocumentFormat_DOCUMENT_FORMAT_TXT, make([]byte, 4), TokensPerDocument + 2},
		{"docx by its bytes", inferencev1.DocumentFormat_DOCUMENT_FORMAT_DOCX, make([]byte, 300), TokensPerDocument + 100},
		{"three-page pdf", pdf, threePages, TokensPerDocument + TextTokens(len(threePages)) + 3*TokensPerImage},
		{"pdf without page objects", pdf, []byte("%PDF-1.7 compressed"), TokensPerDocument + TextTokens(19) + TokensPerImage},
	}
	for _, tt := range tests {
		if got := EstimateDocument(tt.f, tt.data); got != tt.want {
			t.Errorf("%s: EstimateDocument = %d, want %d", tt.name, got, tt.want)
		}
	}
}
