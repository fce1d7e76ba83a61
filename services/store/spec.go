package store

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of store a Spec names.
const (
	// KindSQLite is a SQLite file on this machine (development, one instance).
	KindSQLite = "sqlite"
	// KindDynamoDB is a DynamoDB table (every instance; the table must exist).
	KindDynamoDB = "dynamodb"
)

// Spec is a parsed store name, the form of PORTICO_STORE: "sqlite:<path>" or
// "dynamodb:<table>". The command that opens the store reads the variable and parses it here,
// the one place the form is known.
type Spec struct {
	// Kind is KindSQLite or KindDynamoDB.
	Kind string
	// Target is the SQLite file's path or the DynamoDB table's name; never empty.
	Target string
}

// ParseSpec parses a store name. Its errors name neither the variable nor the value: the
// caller wraps them with both.
func ParseSpec(s string) (Spec, error) {
	kind, target, ok := strings.Cut(s, ":")
	switch {
	case !ok || target == "":
		return Spec{}, errors.New("want sqlite:<path> or dynamodb:<table>")
	case kind != KindSQLite && kind != KindDynamoDB:
		return Spec{}, fmt.Errorf("unknown store %q, want sqlite:<path> or dynamodb:<table>", kind)
	}
	return Spec{Kind: kind, Target: target}, nil
}
