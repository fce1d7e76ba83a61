package catalog

import (
	"slices"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// Proto returns the model as the API's inferencev1.Model, prices as USD Money.
func (m Model) Proto() *inferencev1.Model {
	p := inferencev1.Provider_PROVIDER_BEDROCK
	if m.Provider == ProviderSageMaker {
		p = inferencev1.Provider_PROVIDER_SAGEMAKER
	}
	return &inferencev1.Model{
		Id:          m.ID,
		Provider:    p,
		Family:      m.Family,
		DisplayName: m.DisplayName,
		Description: m.Description,
		Capabilities: &inferencev1.Capabilities{
			Streaming:        m.Capabilities.Streaming,
			SystemPrompt:     m.Capabilities.SystemPrompt,
			Images:           m.Capabilities.Images,
			MaxImages:        m.Capabilities.MaxImages,
			MaxImageBytes:    m.Capabilities.MaxImageBytes,
			Documents:        m.Capabilities.Documents,
			MaxDocuments:     m.Capabilities.MaxDocuments,
			MaxDocumentBytes: m.Capabilities.MaxDocumentBytes,
		},
		ContextWindow:   m.ContextWindow,
		MaxOutputTokens: m.MaxOutputTokens,
		Pricing: &inferencev1.Pricing{
			InputPer_1KTokens:  USD(m.Price.InputPer1k),
			OutputPer_1KTokens: USD(m.Price.OutputPer1k),
		},
		ContentTypes: slices.Clone(m.ContentTypes),
	}
}

// Proto returns the knowledge base as the API's inferencev1.KnowledgeBase.
func (k KnowledgeBase) Proto() *inferencev1.KnowledgeBase {
	return &inferencev1.KnowledgeBase{Id: k.ID, Name: k.Name, Description: k.Description, ModelId: k.ModelID}
}
