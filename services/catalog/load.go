package catalog

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// EnvFile is the environment variable naming a catalog file to use instead of the embedded
// default; commands read it in their configuration and pass its value to Load.
const EnvFile = "PORTICO_CATALOG_FILE"

//go:embed catalog.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default catalog, the shared dev model list.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Default returns the embedded default catalog. It never fails: the embedded file is
// validated by the package's tests.
func Default() *Catalog {
	c, err := Parse("catalog.yaml", defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("catalog: embedded default is invalid: %v", err))
	}
	return c
}

// Load returns the catalog in the file at path (the value of PORTICO_CATALOG_FILE), or the
// embedded default when path is empty.
func Load(path string) (*Catalog, error) {
	if path == "" {
		return Default(), nil
	}
	return LoadFile(path)
}

// LoadFile reads and validates the catalog file at path.
func LoadFile(path string) (*Catalog, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the catalog file
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return Parse(path, data)
}

// Problem is one thing wrong in a catalog file, at a line.
type Problem struct {
	// Line is the 1-based line of the offending value, or 0 when unknown.
	Line int
	// Path is the YAML path of the offending value, such as "$.models[2].price".
	Path string
	// Message says what is wrong.
	Message string
}

// ValidationError lists every problem found in a catalog file.
type ValidationError struct {
	// File is the name the catalog was parsed under.
	File string
	// Problems are sorted by line.
	Problems []Problem
}

// Error prints one "file:line: path: message" line per problem.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid catalog:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s:%d: %s: %s", e.File, p.Line, p.Path, p.Message)
	}
	return b.String()
}

type fileDoc struct {
	PriceTable struct {
		Version  string `yaml:"version"`
		AsOf     string `yaml:"asOf"`
		Currency string `yaml:"currency"`
		Note     string `yaml:"note"`
	} `yaml:"priceTable"`
	Models         []fileModel         `yaml:"models"`
	KnowledgeBases []fileKnowledgeBase `yaml:"knowledgeBases"`
}

type fileModel struct {
	ID              string   `yaml:"id"`
	Provider        string   `yaml:"provider"`
	Kind            string   `yaml:"kind"`
	FoundationModel string   `yaml:"foundationModel"`
	Regions         []string `yaml:"regions"`
	OnDemandRegions []string `yaml:"onDemandRegions"`
	Profiles        []struct {
		ID      string   `yaml:"id"`
		Regions []string `yaml:"regions"`
	} `yaml:"profiles"`
	Family          string       `yaml:"family"`
	DisplayName     string       `yaml:"displayName"`
	Description     string       `yaml:"description"`
	Capabilities    Capabilities `yaml:"capabilities"`
	ContextWindow   int64        `yaml:"contextWindow"`
	MaxOutputTokens int64        `yaml:"maxOutputTokens"`
	ContentTypes    []string     `yaml:"contentTypes"`
	Usage           *struct {
		Format       string   `yaml:"format"`
		ContentTypes []string `yaml:"contentTypes"`
	} `yaml:"usage"`
	Price *struct {
		InputPer1k  string `yaml:"inputPer1k"`
		OutputPer1k string `yaml:"outputPer1k"`
		Estimate    *bool  `yaml:"estimate"`
		Note        string `yaml:"note"`
	} `yaml:"price"`
}

var (
	bedrockID = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+)+(:[0-9]+)?(:[0-9]+k?)?$`)
	endpoint  = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	region    = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
)

// Parse validates a catalog document. name is used in error messages. Every problem is
// reported with its line, in one *ValidationError; YAML syntax errors, unknown fields and
// wrong types are reported the same way.
func Parse(name string, data []byte) (*Catalog, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var doc fileDoc
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	v := validator{file: file}
	c := &Catalog{byID: map[string]int{}}

	pt := doc.PriceTable
	c.prices = PriceTable{Version: pt.Version, AsOf: pt.AsOf, Currency: pt.Currency, Note: strings.TrimSpace(pt.Note)}
	if pt.Version == "" {
		v.add("$.priceTable.version", "the price table needs a version")
	}
	if _, err := time.Parse(time.DateOnly, pt.AsOf); err != nil {
		v.add("$.priceTable.asOf", "asOf must be the day the prices were taken, as YYYY-MM-DD")
	}
	if pt.Currency != Currency {
		v.add("$.priceTable.currency", "currency must be USD")
	}
	if len(doc.Models) == 0 {
		v.add("$.models", "the catalog lists no models")
	}
	for i, fm := range doc.Models {
		p := fmt.Sprintf("$.models[%d]", i)
		m, ok := v.model(p, fm)
		if !ok {
			continue
		}
		if _, dup := c.byID[m.ID]; dup {
			v.add(p+".id", fmt.Sprintf("duplicate model id %q", m.ID))
			continue
		}
		c.byID[m.ID] = len(c.models)
		c.models = append(c.models, m)
	}
	v.knowledgeBases(c, doc.KnowledgeBases)
	if len(v.problems) > 0 {
		return nil, &ValidationError{File: name, Problems: v.problems}
	}
	sortModels(c.models)
	for i, m := range c.models {
		c.byID[m.ID] = i
	}
	return c, nil
}

type validator struct {
	file     *ast.File
	problems []Problem
}

func (v *validator) add(path, msg string) {
	v.problems = append(v.problems, Problem{Line: v.line(path), Path: path, Message: msg})
}

// line finds the line of the value at path, or of its nearest existing parent.
func (v *validator) line(path string) int {
	for p := path; p != "" && p != "$"; {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(v.file); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 1
}

func (v *validator) model(p string, fm fileModel) (Model, bool) {
	before := len(v.problems)
	m := Model{
		ID: fm.ID, Provider: Provider(fm.Provider), Kind: Kind(fm.Kind),
		FoundationModel: fm.FoundationModel, Regions: fm.Regions, OnDemandRegions: fm.OnDemandRegions,
		Family: fm.Family, DisplayName: fm.DisplayName, Description: strings.TrimSpace(fm.Description),
		Capabilities: fm.Capabilities, ContextWindow: fm.ContextWindow, MaxOutputTokens: fm.MaxOutputTokens,
		ContentTypes: fm.ContentTypes,
	}
	switch m.Provider {
	case ProviderBedrock:
		if !bedrockID.MatchString(m.ID) {
			v.add(p+".id", fmt.Sprintf("%q is not a Bedrock model or inference profile id", m.ID))
		}
		switch m.Kind {
		case KindFoundationModel:
			if m.FoundationModel != "" && m.FoundationModel != m.ID {
				v.add(p+".foundationModel", "a foundation model's foundationModel must be empty or its own id")
			}
			m.FoundationModel = m.ID
			if len(m.Regions) > 0 {
				v.add(p+".regions", "regions are only for inference profiles; a foundation model lists onDemandRegions and profiles")
			}
			v.regions(p+".onDemandRegions", m.OnDemandRegions)
			for j, fp := range fm.Profiles {
				pp := fmt.Sprintf("%s.profiles[%d]", p, j)
				geo, rest, ok := strings.Cut(fp.ID, ".")
				if !ok || rest != m.ID || !slices.Contains(profileGeographies, geo) {
					v.add(pp+".id", fmt.Sprintf("%q is not <geography>.%s with a geography of %v", fp.ID, m.ID, profileGeographies))
				}
				if len(fp.Regions) == 0 {
					v.add(pp+".regions", "a profile needs the regions it is called from and routes to")
				}
				v.regions(pp+".regions", fp.Regions)
				m.Profiles = append(m.Profiles, Profile{ID: fp.ID, Regions: fp.Regions})
			}
		case KindInferenceProfile:
			if !bedrockID.MatchString(m.FoundationModel) {
				v.add(p+".foundationModel", "an inference profile needs the id of the foundation model it routes to")
			}
			if len(m.Regions) == 0 {
				v.add(p+".regions", "an inference profile needs the regions it routes to")
			}
			v.regions(p+".regions", m.Regions)
			if len(m.OnDemandRegions) > 0 || len(fm.Profiles) > 0 {
				v.add(p+".onDemandRegions", "onDemandRegions and profiles are only for foundation models")
			}
		default:
			v.add(p+".kind", "a Bedrock model's kind must be foundation-model or inference-profile")
		}
		if len(m.ContentTypes) > 0 {
			v.add(p+".contentTypes", "content types are only for SageMaker endpoints")
		}
		if fm.Usage != nil {
			v.add(p+".usage", "usage is only for SageMaker endpoints (Bedrock reports it through the Converse API)")
		}
	case ProviderSageMaker:
		if !endpoint.MatchString(m.ID) {
			v.add(p+".id", fmt.Sprintf("%q is not a SageMaker endpoint name", m.ID))
		}
		if m.Kind != KindEndpoint {
			v.add(p+".kind", "a SageMaker model's kind must be endpoint")
		}
		if m.FoundationModel != "" || len(m.Regions) > 0 || len(m.OnDemandRegions) > 0 || len(fm.Profiles) > 0 {
			v.add(p+".foundationModel", "foundationModel, regions, onDemandRegions and profiles are only for Bedrock")
		}
		if len(m.ContentTypes) == 0 {
			v.add(p+".contentTypes", "an endpoint needs at least one content type, its default first")
		}
		for j, ct := range m.ContentTypes {
			if !strings.Contains(ct, "/") || strings.ContainsAny(ct, " \t") {
				v.add(fmt.Sprintf("%s.contentTypes[%d]", p, j), fmt.Sprintf("%q is not a MIME type", ct))
			}
		}
		m.Usage = v.usage(p+".usage", fm)
	default:
		v.add(p+".provider", "provider must be bedrock or sagemaker")
	}
	if m.Family == "" {
		v.add(p+".family", "family is required")
	}
	if m.DisplayName == "" {
		v.add(p+".displayName", "displayName is required")
	}
	if m.ContextWindow <= 0 {
		v.add(p+".contextWindow", "contextWindow must be positive")
	}
	if m.MaxOutputTokens <= 0 || (m.ContextWindow > 0 && m.MaxOutputTokens > m.ContextWindow) {
		v.add(p+".maxOutputTokens", "maxOutputTokens must be positive and at most contextWindow")
	}
	caps := m.Capabilities
	if caps.Images {
		if caps.MaxImages <= 0 || caps.MaxImageBytes <= 0 {
			v.add(p+".capabilities", "a model with images needs positive maxImages and maxImageBytes")
		}
	} else if caps.MaxImages != 0 || caps.MaxImageBytes != 0 {
		v.add(p+".capabilities", "maxImages and maxImageBytes are only for models with images")
	}
	if caps.Documents {
		switch {
		case m.Provider != ProviderBedrock:
			v.add(p+".capabilities", "documents are only for Bedrock models (Converse document blocks)")
		case caps.MaxDocuments <= 0 || caps.MaxDocuments > MaxDocuments:
			v.add(p+".capabilities", fmt.Sprintf("a model with documents needs maxDocuments from 1 to %d (Converse's limit)", MaxDocuments))
		case caps.MaxDocumentBytes <= 0 || caps.MaxDocumentBytes > MaxDocumentBytes:
			v.add(p+".capabilities", fmt.Sprintf("a model with documents needs maxDocumentBytes from 1 to %d (Converse's 4.5 MB)", MaxDocumentBytes))
		}
	} else if caps.MaxDocuments != 0 || caps.MaxDocumentBytes != 0 || caps.Citations {
		v.add(p+".capabilities", "maxDocuments, maxDocumentBytes and citations are only for models with documents")
	}
	if fm.Price == nil {
		v.add(p+".price", "price is required")
	} else {
		pp := p + ".price"
		if fm.Price.Estimate == nil || !*fm.Price.Estimate {
			v.add(pp, "every price must be labelled an estimate (estimate: true)")
		}
		var err error
		if m.Price.InputPer1k, err = ParseNanos(fm.Price.InputPer1k); err != nil {
			v.add(pp+".inputPer1k", err.Error())
		}
		if m.Price.OutputPer1k, err = ParseNanos(fm.Price.OutputPer1k); err != nil {
			v.add(pp+".outputPer1k", err.Error())
		}
		m.Price.Note = fm.Price.Note
	}
	return m, len(v.problems) == before
}

// Converse's document limits (Bedrock API reference, Message content: "You can include up
// to five documents. Each document's size must be no more than 4.5 MB"): a catalog may lower
// them per model, never raise them.
const (
	// MaxDocuments is the most documents one Converse request may carry.
	MaxDocuments = 5
	// MaxDocumentBytes is the largest document Converse accepts, 4.5 MiB.
	MaxDocumentBytes = 4_718_592
)

// profileGeographies are the prefixes of Bedrock's cross-region inference profile ids.
var profileGeographies = []string{"us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"}

// regions checks a list of region names.
func (v *validator) regions(p string, rs []string) {
	for j, r := range rs {
		if !region.MatchString(r) {
			v.add(fmt.Sprintf("%s[%d]", p, j), fmt.Sprintf("%q is not an AWS region", r))
		}
	}
}

// usage validates where an endpoint reports its usage. It is required: Portico must be told
// where a report lives (or that there is none) rather than look for one.
func (v *validator) usage(p string, fm fileModel) Usage {
	if fm.Usage == nil {
		v.add(p, `an endpoint needs usage: {format: none}, or the format (openai, tgi-details) and response contentTypes of its container's usage report`)
		return Usage{}
	}
	u := Usage{Format: UsageFormat(fm.Usage.Format), ContentTypes: fm.Usage.ContentTypes}
	switch u.Format {
	case UsageNone:
		if len(u.ContentTypes) > 0 {
			v.add(p+".contentTypes", "an endpoint without a usage report reads it from no content type")
		}
	case UsageOpenAI, UsageTGIDetails:
		if len(u.ContentTypes) == 0 {
			v.add(p+".contentTypes", "name the response content types the usage report is read from")
		}
		for j, ct := range u.ContentTypes {
			if !slices.Contains(usageContentTypes, ct) {
				v.add(fmt.Sprintf("%s.contentTypes[%d]", p, j), fmt.Sprintf("a usage report is read from one of %v, not %q", usageContentTypes, ct))
			}
		}
	default:
		v.add(p+".format", "usage format must be none, openai or tgi-details")
	}
	return u
}

// yamlError turns a goccy/go-yaml error into a ValidationError with its line.
func yamlError(name string, err error) error {
	var te interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &te) {
		line := 0
		if t := te.GetToken(); t != nil {
			line = t.Position.Line
		}
		return &ValidationError{File: name, Problems: []Problem{{Line: line, Path: "$", Message: te.GetMessage()}}}
	}
	return &ValidationError{File: name, Problems: []Problem{{Path: "$", Message: err.Error()}}}
}
