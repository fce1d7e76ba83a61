package inference

import (
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/catalog"
)

// withDocuments adds the model's document capabilities (catalog) to its Converse limits.
func withDocuments(lim bedrock.Limits, m catalog.Model) bedrock.Limits {
	c := m.Capabilities
	lim.Documents = c.Documents
	lim.MaxDocuments = int(c.MaxDocuments)
	lim.MaxDocumentBytes = c.MaxDocumentBytes
	lim.Citations = c.Citations
	return lim
}
