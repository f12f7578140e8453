package dynschema

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
)

// Input values arrive as gqlparser gives them: objects as map[string]any,
// lists as []any, numbers as int64, float64 or json.Number, everything
// else as strings and booleans. They become request bodies for the data
// layer, which validates them exactly as it validates REST bodies.

// docBody turns an Input value into the body of an insert or replace:
// declared fields in schema order; for a flexible collection the JSON
// object of its data field.
func docBody(c *collInfo, v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if c.flexible {
		return m["data"]
	}
	return inputObject(c.fields, m)
}

// patchBody turns a Patch value into the body of an update: members of a
// nested Patch object become dotted paths, so only they change.
func patchBody(c *collInfo, v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if c.flexible {
		return m["data"]
	}
	out := bson.D{}
	patchPaths(&out, "", c.fields, m)
	return out
}

func patchPaths(out *bson.D, prefix string, fields []collections.Field, m map[string]any) {
	for _, f := range fields {
		v, ok := m[f.Key]
		if !ok {
			continue
		}
		if sub, isMap := v.(map[string]any); isMap && f.Type == collections.Object {
			patchPaths(out, prefix+f.Key+".", f.Fields, sub)
			continue
		}
		*out = append(*out, bson.E{Key: prefix + f.Key, Value: inputValue(f, v)})
	}
}

// inputObject converts an input object of the given fields to a bson.D.
func inputObject(fields []collections.Field, m map[string]any) bson.D {
	out := make(bson.D, 0, len(m))
	for _, f := range fields {
		if v, ok := m[f.Key]; ok {
			out = append(out, bson.E{Key: f.Key, Value: inputValue(f, v)})
		}
	}
	return out
}

// inputValue converts the input value of field f.
func inputValue(f collections.Field, v any) any {
	if v == nil {
		return nil
	}
	switch f.Type {
	case collections.Object:
		if m, ok := v.(map[string]any); ok {
			return inputObject(f.Fields, m)
		}
	case collections.Array:
		if f.Items == nil {
			return v // JSON
		}
		items, ok := v.([]any)
		if !ok {
			items = []any{v} // a single value for a list (input coercion)
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = inputValue(*f.Items, it)
		}
		return out
	}
	return v
}

// intArg reads an Int argument; ok is false when it is absent or null.
func intArg(args map[string]any, name string) (int64, bool) {
	switch n := args[name].(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// stringArg reads a String or ID argument ("" when absent or null).
func stringArg(args map[string]any, name string) string {
	switch v := args[name].(type) {
	case string:
		return v
	case nil:
		return ""
	case json.Number:
		return v.String()
	case int64:
		return strconv.FormatInt(v, 10)
	default:
		return fmt.Sprint(v)
	}
}

// listArg reads a list argument, wrapping a single value (input coercion).
func listArg(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// sortedKeys returns a map's keys in order, for deterministic results.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
