package catalog

import (
	"errors"
	"strings"
	"testing"
)

const validDocsAndKB = `priceTable: {version: v1, asOf: "2026-01-02", currency: USD}
models:
  - id: amazon.nova-lite-v1:0
    provider: bedrock
    kind: foundation-model
    family: Amazon Nova
    displayName: Nova Lite
    capabilities: {streaming: true, documents: true, maxDocuments: 5, maxDocumentBytes: 4500000}
    contextWindow: 300000
    maxOutputTokens: 5120
    price: {inputPer1k: "0.00006", outputPer1k: "0.00024", estimate: true}
  - id: portico-demo-llm
    provider: sagemaker
    kind: endpoint
    family: Demo
    displayName: Demo
    capabilities: {streaming: true}
    contextWindow: 8192
    maxOutputTokens: 2048
    contentTypes: [application/json]
    usage: {format: none}
    price: {inputPer1k: "0.0001", outputPer1k: "0.0004", estimate: true}
knowledgeBases:
  - id: ABCDE12345
    name: Handbook
    description: The handbook.
    modelId: amazon.nova-lite-v1:0
    region: eu-west-1
    accountId: "123456789012"
`

// TestKnowledgeBasesAndDocumentsValidated is a table of catalog mistakes in the document
// capabilities and the knowledge bases, each refused with its message.
func TestKnowledgeBasesAndDocumentsValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new, message string
	}{
		{"valid", "", "", ""},
		{"too many documents", "maxDocuments: 5", "maxDocuments: 6", "maxDocuments from 1 to 5"},
		{"no document count", "maxDocuments: 5", "maxDocuments: 0", "maxDocuments from 1 to 5"},
		{"documents too large", "maxDocumentBytes: 4500000", "maxDocumentBytes: 5000000", "maxDocumentBytes from 1"},
		{"limits without documents", "documents: true,", "documents: false,", "only for models with documents"},
		{"citations without documents", "capabilities: {streaming: true}", "capabilities: {streaming: true, citations: true}", "only for models with documents"},
		{"documents on an endpoint", "capabilities: {streaming: true}", "capabilities: {streaming: true, documents: true, maxDocuments: 1, maxDocumentBytes: 10}", "only for Bedrock"},
		{"bad id", "id: ABCDE12345", "id: abc", "not a knowledge base id"},
		{"unknown model", "modelId: amazon.nova-lite-v1:0", "modelId: amazon.nova-pro-v1:0", "not a Bedrock model in this catalog"},
		{"endpoint as model", "modelId: amazon.nova-lite-v1:0", "modelId: portico-demo-llm", "not a Bedrock model"},
		{"no name", "name: Handbook", "name: ''", "name is required"},
		{"bad region", "region: eu-west-1", "region: mars", "not an AWS region"},
		{"bad account", `accountId: "123456789012"`, `accountId: "1234"`, "not an AWS account id"},
		{"unknown field", "description: The handbook.", "summary: The handbook.", "summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := validDocsAndKB
			if tt.old != "" {
				if !strings.Contains(doc, tt.old) {
					t.Fatalf("test document lacks %q", tt.old)
				}
				doc = strings.Replace(doc, tt.old, tt.new, 1)
			}
			c, err := Parse("kb.yaml", []byte(doc))
			if tt.old == "" {
				if err != nil {
					t.Fatalf("valid document: %v", err)
				}
				kb, ok := c.KnowledgeBase("ABCDE12345")
				if !ok || kb.Name != "Handbook" || kb.ModelID != "amazon.nova-lite-v1:0" {
					t.Fatalf("knowledge base = %+v, %v", kb, ok)
				}
				if got := kb.ARN("aws"); got != "arn:aws:bedrock:eu-west-1:123456789012:knowledge-base/ABCDE12345" {
					t.Errorf("ARN = %q", got)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want a ValidationError mentioning %q", err, tt.message)
			}
		})
	}
}

// TestInAccountOffersOnlyTheDeploymentsKnowledgeBases: Retrieve reaches only the caller's
// account and region, so a knowledge base elsewhere is never offered, and an unknown account
// offers none.
func TestInAccountOffersOnlyTheDeploymentsKnowledgeBases(t *testing.T) {
	t.Parallel()
	c, err := Parse("kb.yaml", []byte(validDocsAndKB))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		region, account string
		want            int
	}{
		{"eu-west-1", "123456789012", 1},
		{"eu-west-1", "210987654321", 0},
		{"us-east-1", "123456789012", 0},
		{"eu-west-1", "", 0},
	}
	for _, tt := range tests {
		if got := c.InAccount(tt.region, tt.account); len(got) != tt.want {
			t.Errorf("InAccount(%q, %q) = %v, want %d", tt.region, tt.account, got, tt.want)
		}
	}
}

func TestDefaultHasTheHandbookAndDocumentModels(t *testing.T) {
	t.Parallel()
	c := Default()
	kb, ok := c.KnowledgeBase("PORTICOHB1")
	if !ok || kb.Name != "Portico handbook" || kb.AccountID != "000000000000" {
		t.Fatalf("handbook = %+v, %v", kb, ok)
	}
	for _, m := range c.Models() {
		caps := m.Capabilities
		if m.Provider == ProviderBedrock && (!caps.Documents || caps.MaxDocuments != 5 || caps.MaxDocumentBytes > MaxDocumentBytes) {
			t.Errorf("%s: document capabilities %+v", m.ID, caps)
		}
	}
	if m, _ := c.Lookup("us.anthropic.claude-sonnet-4-20250514-v1:0"); !m.Capabilities.Citations {
		t.Errorf("Claude Sonnet 4 should cite its documents")
	}
}
