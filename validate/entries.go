package validate

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// entry is one member of an object.
type entry struct {
	key string
	val any
}

// entries returns the members of an object in order: bson.D's own, sorted
// keys for maps. ok is false when v is not an object.
func entries(v any) (out []entry, ok bool) {
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case bson.M:
		m = x
	case bson.D:
		out = make([]entry, len(x))
		for i, e := range x {
			out[i] = entry{e.Key, e.Value}
		}
		return out, true
	default:
		return nil, false
	}
	if m == nil {
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out = make([]entry, len(keys))
	for i, k := range keys {
		out[i] = entry{k, m[k]}
	}
	return out, true
}

// array returns the elements of a list; ok is false when v is not one.
func array(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, x != nil
	case bson.A:
		return x, x != nil
	}
	return nil, false
}

// trimJS is JavaScript's String.prototype.trim; field keys are matched
// after it (§3.9), which also removes a BOM.
func trimJS(s string) string { return strings.TrimFunc(s, isJSSpace) }

// isJSSpace reports whether JavaScript's String.prototype.trim removes r:
// the WhiteSpace and LineTerminator code points, which include the BOM.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

// join appends key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
