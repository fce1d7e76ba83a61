package devidp

import (
	"maps"
	"slices"

	"github.com/google/uuid"
)

func contains(list []string, s string) bool { return s != "" && slices.Contains(list, s) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// newID returns a token id (jti, origin_jti) in Cognito's UUID form.
func newID() string { return uuid.NewString() }
