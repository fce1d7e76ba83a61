package catalog

import (
	"slices"
	"strings"
)

// Provider is the AWS service that runs a model.
type Provider string

const (
	// ProviderBedrock is Amazon Bedrock (the Converse API).
	ProviderBedrock Provider = "bedrock"
	// ProviderSageMaker is an Amazon SageMaker real-time endpoint.
	ProviderSageMaker Provider = "sagemaker"
)

// Kind tells how a model is addressed in AWS, which decides its IAM resource ARNs.
type Kind string

const (
	// KindFoundationModel is a Bedrock foundation model invoked by its model id.
	KindFoundationModel Kind = "foundation-model"
	// KindInferenceProfile is a Bedrock cross-region inference profile (an id such as
	// "us.anthropic...") that routes to a foundation model in several regions.
	KindInferenceProfile Kind = "inference-profile"
	// KindEndpoint is a SageMaker endpoint, addressed by its name.
	KindEndpoint Kind = "endpoint"
)

// Capabilities say what a model supports.
type Capabilities struct {
	// Streaming is whether answers can be streamed.
	Streaming bool `yaml:"streaming"`
	// SystemPrompt is whether a system prompt is supported.
	SystemPrompt bool `yaml:"systemPrompt"`
	// Images is whether image content blocks are supported.
	Images bool `yaml:"images"`
	// MaxImages is the most images one request may carry; 0 without image support.
	MaxImages int32 `yaml:"maxImages"`
	// MaxImageBytes is the largest image one request may carry, in bytes.
	MaxImageBytes int64 `yaml:"maxImageBytes"`
}

// Price is the estimated on-demand price of a model, in exact nanos of US dollars per 1,000
// tokens.
type Price struct {
	// InputPer1k is the price of 1,000 input tokens, in USD nanos.
	InputPer1k int64
	// OutputPer1k is the price of 1,000 output tokens, in USD nanos.
	OutputPer1k int64
	// Note says where the figure comes from or how it was derived.
	Note string
}

// Model is one Bedrock model or inference profile, or one SageMaker endpoint.
type Model struct {
	// ID is the Bedrock model or inference profile id, or the SageMaker endpoint name.
	ID string
	// Provider is the AWS service that runs the model.
	Provider Provider
	// Kind tells how the model is addressed in AWS.
	Kind Kind
	// FoundationModel is, for an inference profile, the id of the foundation model it routes
	// to; for a foundation model, its own id; empty for endpoints.
	FoundationModel string
	// Regions are, for an inference profile, the regions it may be called from and route to.
	Regions []string
	// OnDemandRegions are, for a foundation model, the regions where it runs on demand
	// (called by its own id).
	OnDemandRegions []string
	// Profiles are, for a foundation model, the cross-region inference profiles through
	// which it runs elsewhere, in order of preference.
	Profiles []Profile
	// Family is the model family, such as "Anthropic Claude".
	Family string
	// DisplayName is the name to show people.
	DisplayName string
	// Description is a one-line description.
	Description string
	// Capabilities say what the model supports.
	Capabilities Capabilities
	// ContextWindow is the most input and output tokens the model considers at once.
	ContextWindow int64
	// MaxOutputTokens is the most tokens one answer may have; also the default max_tokens.
	MaxOutputTokens int64
	// ContentTypes are, for endpoints, the request content types accepted, default first.
	ContentTypes []string
	// Usage says, for endpoints, where the container reports token usage; Bedrock models
	// report it through the Converse API.
	Usage Usage
	// Price is the model's estimated price.
	Price Price

	invokeID string // set by Catalog.InRegion
}

// PriceTable identifies the price figures a catalog carries.
type PriceTable struct {
	// Version names the table; it is recorded with every cost computed from it.
	Version string
	// AsOf is the day (YYYY-MM-DD) the figures were taken from the AWS price list.
	AsOf string
	// Currency is the ISO 4217 code of every price; always "USD".
	Currency string
	// Note is the table's caveat, shown wherever prices are.
	Note string
}

// Catalog is a validated, immutable set of models with their price table. It is safe for
// concurrent use.
type Catalog struct {
	prices PriceTable
	models []Model // sorted by provider, then display name
	byID   map[string]int
}

// Lookup returns the model with the given id (a Bedrock model or inference profile id, or a
// SageMaker endpoint name).
func (c *Catalog) Lookup(id string) (Model, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Model{}, false
	}
	return c.models[i].clone(), true
}

// PriceOf returns the price of the model id (without copying the model, for the request
// path); ok is false when the catalog does not know id.
func (c *Catalog) PriceOf(id string) (p Price, ok bool) {
	i, ok := c.byID[id]
	if !ok {
		return Price{}, false
	}
	return c.models[i].Price, true
}

// Models returns every model, sorted by provider (Bedrock first), then display name.
func (c *Catalog) Models() []Model {
	out := make([]Model, len(c.models))
	for i, m := range c.models {
		out[i] = m.clone()
	}
	return out
}

// PriceTable returns the identity of the catalog's price table.
func (c *Catalog) PriceTable() PriceTable { return c.prices }

func (m Model) clone() Model {
	m.Regions = slices.Clone(m.Regions)
	m.OnDemandRegions = slices.Clone(m.OnDemandRegions)
	m.Profiles = slices.Clone(m.Profiles)
	for i := range m.Profiles {
		m.Profiles[i].Regions = slices.Clone(m.Profiles[i].Regions)
	}
	m.ContentTypes = slices.Clone(m.ContentTypes)
	m.Usage = m.Usage.clone()
	return m
}

func sortModels(ms []Model) {
	rank := func(p Provider) int {
		if p == ProviderBedrock {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(ms, func(a, b Model) int {
		if d := rank(a.Provider) - rank(b.Provider); d != 0 {
			return d
		}
		if d := strings.Compare(a.DisplayName, b.DisplayName); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
}
