package validate

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
)

// action says what to do with a declared field after validation.
type action int

const (
	skip   action = iota // absent: leave it out
	store                // store the value
	remove               // leave it out (insert) or $unset it (update)
)

// object validates the members of an object against fields and returns
// them as stored: declared fields in schema order, then the undeclared
// members in input order. top marks the document's own level (strings
// trimmed, unique fields, defaults); full marks a whole object, where
// absent required fields fail and absent arrays become []. path is the
// object's dotted path, for messages about names.
func object(fields []collections.Field, in []entry, path string, top, full bool) (bson.D, error) {
	byKey := make(map[string][]int, len(in))
	for i, e := range in {
		k := trimJS(e.key)
		byKey[k] = append(byKey[k], i)
	}
	used := make([]bool, len(in))
	out := make(bson.D, 0, len(in)+len(fields))
	for _, f := range fields {
		key := trimJS(f.Key)
		var v any
		i := pick(in, byKey[key], key)
		for _, j := range byKey[key] {
			used[j] = true
		}
		if i >= 0 {
			v = in[i].val
		}
		val, act, err := declared(f, key, v, i >= 0, top, full, join(path, key))
		if err != nil {
			return nil, err
		}
		if act == store {
			out = append(out, bson.E{Key: key, Value: val})
		}
	}
	seen := make(map[string]bool, len(in))
	for i, e := range in {
		if used[i] || seen[e.key] {
			continue
		}
		seen[e.key] = true
		p := join(path, e.key)
		if err := checkName(e.key, p, false); err != nil {
			return nil, err
		}
		val, err := plain(e.val, p)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: e.key, Value: val})
	}
	return out, nil
}

// pick chooses among the members whose trimmed key is key: the exact
// match, else the first; -1 when there is none.
func pick(in []entry, idx []int, key string) int {
	for _, i := range idx {
		if in[i].key == key {
			return i
		}
	}
	if len(idx) > 0 {
		return idx[0]
	}
	return -1
}

// declared validates the value v of the declared field f, named name in
// messages; present is false when the member is absent.
func declared(f collections.Field, name string, v any, present, top, full bool, path string) (any, action, error) {
	if s, ok := v.(string); ok && top && f.Type == collections.String {
		v = trimJS(s)
	}
	if !present || v == nil {
		switch {
		case full && top && !f.Required && f.Default != nil:
			return defaultValue(f), store, nil
		case f.Required && (present || full):
			return nil, skip, fieldErr(name, "is required.")
		case !present && full && f.Type == collections.Array:
			return bson.A{}, store, nil
		case !present:
			return nil, skip, nil
		case top && f.Unique:
			return nil, remove, nil
		}
		return nil, store, nil
	}
	if v == "" && f.Type == collections.String {
		// MongoDB's required validator refuses "", which the original
		// answered with a 500; an optional unique "" is dropped like null.
		if f.Required {
			return nil, skip, fieldErr(name, "is required.")
		}
		if top && f.Unique {
			return nil, remove, nil
		}
	}
	val, err := value(f, name, v, path)
	if err != nil {
		return nil, skip, err
	}
	return val, store, nil
}

// defaultValue is f's default as stored.
func defaultValue(f collections.Field) any {
	if n, ok := number(f.Default); ok {
		return n
	}
	return f.Default
}
