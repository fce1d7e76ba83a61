package policy

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a policy file, at a line and column (1-based; 0 when the
// position is unknown).
type Problem struct {
	Line, Column int
	// Path locates the problem by YAML field names from the document's root, such as
	// "groups[1].quotas.userTokensPerDay"; empty for the document as a whole.
	Path    string
	Message string
}

// String formats p as "line:column: message".
func (p Problem) String() string {
	return fmt.Sprintf("%d:%d: %s", p.Line, p.Column, p.Message)
}

// ValidationError lists every problem found in a policy file.
type ValidationError struct {
	// Source names the file (or "embedded").
	Source string
	// Problems are sorted by position.
	Problems []Problem
}

// Error formats every problem as "source:line:column: message", one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s: %d problem(s)", e.Source, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n%s:%s", e.Source, p)
	}
	return b.String()
}
