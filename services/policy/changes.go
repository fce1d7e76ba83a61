package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// MaxChanges is the most lines Changes returns; a longer summary ends with a count of the
// rest.
const MaxChanges = 200

// Changes summarises what changed from one policy document to another, one line per change,
// sorted by field path, such as
//
//	groups[MLUsers].quotas.userTokensPerDay: 200000 -> 100000
//	groups[MLUsers].models: +amazon.nova-pro-v1:0 -amazon.titan-text-express-v1
//	groups[Contractors]: added
//
// Entries of lists of groups and scopes are named by their name or scope rather than their
// position, so reordering them is no change; an entry added or removed is one line. Comments and formatting are not content: a
// change of those alone reads "no change to the policy's content". It works on any field, so
// it names fields added to the policy later as well. A document that does not parse is
// compared as empty.
func Changes(from, to []byte) []string {
	a, b := flatten(from), flatten(to)
	var out []string
	var whole []string // entries added or removed: their fields are not listed one by one
	for _, path := range slices.Sorted(maps.Keys(merge(a, b))) {
		va, ina := a[path]
		vb, inb := b[path]
		if slices.ContainsFunc(whole, func(e string) bool { return strings.HasPrefix(path, e+".") }) {
			continue
		}
		if (ina != inb) && (va.entry || vb.entry) {
			whole = append(whole, path)
		}
		switch {
		case !ina:
			out = append(out, fmt.Sprintf("%s: %s", path, added(vb)))
		case !inb:
			out = append(out, fmt.Sprintf("%s: %s", path, removed(va)))
		case va.set != nil || vb.set != nil:
			if d := setDiff(va.set, vb.set); d != "" {
				out = append(out, path+": "+d)
			}
		case va.scalar != vb.scalar:
			out = append(out, fmt.Sprintf("%s: %s -> %s", path, va.scalar, vb.scalar))
		}
	}
	if len(out) == 0 {
		return []string{"no change to the policy's content"}
	}
	if len(out) > MaxChanges {
		out = append(out[:MaxChanges-1], fmt.Sprintf("... and %d more changes", len(out)-MaxChanges+1))
	}
	return out
}

// leaf is one flattened value: a scalar, a list of scalars (as a set), or an entry (a named
// group or scope) marked present.
type leaf struct {
	scalar string
	set    []string
	entry  bool
}

func added(v leaf) string {
	switch {
	case v.entry:
		return "added"
	case v.set != nil:
		return "set to [" + strings.Join(v.set, ", ") + "]"
	}
	return "set to " + v.scalar
}

func removed(v leaf) string {
	switch {
	case v.entry:
		return "removed"
	case v.set != nil:
		return "removed (was [" + strings.Join(v.set, ", ") + "])"
	}
	return "removed (was " + v.scalar + ")"
}

func setDiff(a, b []string) string {
	var parts []string
	for _, v := range b {
		if !slices.Contains(a, v) {
			parts = append(parts, "+"+v)
		}
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			parts = append(parts, "-"+v)
		}
	}
	return strings.Join(parts, " ")
}

func merge(a, b map[string]leaf) map[string]leaf {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// flatten decodes a document into field paths and their values.
func flatten(doc []byte) map[string]leaf {
	out := map[string]leaf{}
	var root any
	if yaml.Unmarshal(doc, &root) != nil {
		return out
	}
	walk(out, "", root)
	return out
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func walk(out map[string]leaf, path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walk(out, join(path, k), x)
		}
	case []any:
		if names, ok := entryNames(v); ok {
			for i, x := range v {
				p := fmt.Sprintf("%s[%s]", path, names[i])
				out[p] = leaf{entry: true}
				for k, y := range x.(map[string]any) {
					walk(out, join(p, k), y)
				}
			}
			return
		}
		set := make([]string, 0, len(v))
		for _, x := range v {
			set = append(set, scalar(x))
		}
		slices.Sort(set)
		out[path] = leaf{set: slices.Compact(set)}
	default:
		out[path] = leaf{scalar: scalar(v)}
	}
}

// entryNames returns the names of a list of named entries (maps with a distinct name, scope
// or model field), or false when the list is not one.
func entryNames(v []any) ([]string, bool) {
	if len(v) == 0 {
		return nil, false
	}
	names := make([]string, len(v))
	seen := map[string]bool{}
	for i, x := range v {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		var name string
		for _, k := range []string{"name", "scope", "model"} {
			if s, ok := m[k].(string); ok && s != "" {
				name = s
				break
			}
		}
		if name == "" || seen[name] {
			return nil, false
		}
		seen[name] = true
		names[i] = name
	}
	return names, true
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case map[string]any, []any:
		b, err := yaml.MarshalWithOptions(v, yaml.Flow(true))
		if err != nil {
			return fmt.Sprint(v)
		}
		return strings.TrimSpace(string(b))
	}
	return fmt.Sprint(v)
}
