package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

//go:embed dev.yaml
var devPolicy []byte

// DefaultUsageAdmins are the usage-admin groups of a file that does not name any.
var DefaultUsageAdmins = []string{"Administrators"}

// Option configures how a policy is validated.
type Option func(*options)

type options struct {
	models             map[string]bool
	endpoints          map[string]bool
	source             string
	requirePolicyAdmin bool
}

// RequirePolicyAdmin makes validation refuse a policy whose policyAdmins names no group: an
// edit made at run time must not lock every policy admin out.
func RequirePolicyAdmin() Option {
	return func(o *options) { o.requirePolicyAdmin = true }
}

// WithModelIDs makes validation refuse model ids outside ids (the catalog's).
func WithModelIDs(ids ...string) Option {
	return func(o *options) {
		o.models = make(map[string]bool, len(ids))
		for _, id := range ids {
			o.models[id] = true
		}
	}
}

// WithEndpointNames makes validation refuse SageMaker endpoint names outside names.
func WithEndpointNames(names ...string) Option {
	return func(o *options) {
		o.endpoints = make(map[string]bool, len(names))
		for _, n := range names {
			o.endpoints[n] = true
		}
	}
}

// WithSource names the policy's origin in error messages (Load sets the file name).
func WithSource(name string) Option {
	return func(o *options) { o.source = name }
}

// Default returns the embedded development policy (dev.yaml).
func Default(opts ...Option) (*Policy, error) {
	return Parse(devPolicy, append([]Option{WithSource("embedded dev.yaml")}, opts...)...)
}

// DefaultYAML returns the embedded development policy's source.
func DefaultYAML() []byte { return slices.Clone(devPolicy) }

// Load reads and validates the policy file at path.
func Load(path string, opts ...Option) (*Policy, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the policy file
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(data, append([]Option{WithSource(path)}, opts...)...)
}

// Parse validates a policy document and compiles it. Problems are returned as a
// *ValidationError.
func Parse(data []byte, opts ...Option) (*Policy, error) {
	o := options{source: "policy"}
	for _, opt := range opts {
		opt(&o)
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &ValidationError{Source: o.source, Problems: []Problem{yamlProblem(err)}}
	}
	// The decoder reads the first document only: a second one (a concatenated file, a stray
	// "---") would be silently ignored, with whatever grants, admins or guardrails it holds.
	for _, d := range file.Docs[min(1, len(file.Docs)):] {
		if d.Body == nil {
			continue
		}
		line, col := 0, 0
		if t := d.Start; t != nil {
			line, col = t.Position.Line, t.Position.Column
		} else if t := d.Body.GetToken(); t != nil {
			line, col = t.Position.Line, t.Position.Column
		}
		return nil, &ValidationError{Source: o.source, Problems: []Problem{{Line: line, Column: col,
			Message: "a policy file holds one YAML document; remove the second \"---\" and what follows or merge it"}}}
	}
	var doc document
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.Strict()); err != nil {
		return nil, &ValidationError{Source: o.source, Problems: []Problem{yamlProblem(err)}}
	}
	v := validator{opts: &o, file: file}
	p := v.compile(&doc)
	if len(v.problems) > 0 {
		slices.SortStableFunc(v.problems, func(a, b Problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, &ValidationError{Source: o.source, Problems: v.problems}
	}
	return p, nil
}

func yamlProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		t := ye.GetToken()
		return Problem{Line: t.Position.Line, Column: t.Position.Column, Message: ye.GetMessage()}
	}
	return Problem{Message: err.Error()}
}

// position finds the line and column of the node at a YAML path such as "$.groups[0].name".
func position(file *ast.File, path string) (int, int) {
	p, err := yaml.PathString(path)
	if err != nil {
		return 0, 0
	}
	n, err := p.FilterFile(file)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0, 0
	}
	t := n.GetToken()
	return t.Position.Line, t.Position.Column
}
