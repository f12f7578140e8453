package policy

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// getter is a document type with its own lookup, such as data.Doc.
type getter interface {
	Get(key string) (any, bool)
}

// lookup returns doc[key] for the document shapes callers hold:
// map[string]any, bson.M, bson.D, bson.Raw and any type with a
// Get(key) (any, bool) method. Null is (nil, true).
func lookup(doc any, key string) (any, bool) {
	switch d := doc.(type) {
	case getter:
		return d.Get(key)
	case map[string]any:
		v, ok := d[key]
		return v, ok
	case bson.M:
		v, ok := d[key]
		return v, ok
	case bson.D:
		for _, e := range d {
			if e.Key == key {
				return e.Value, true
			}
		}
	case bson.Raw:
		rv, err := d.LookupErr(key)
		if err != nil {
			return nil, false
		}
		return rawValue(rv), true
	}
	return nil, false
}

// keys lists the top-level keys of a document shape lookup understands.
func keys(doc any) []string {
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		for k := range d {
			out = append(out, k)
		}
	case bson.M:
		for k := range d {
			out = append(out, k)
		}
	case bson.D:
		for _, e := range d {
			out = append(out, e.Key)
		}
	case bson.Raw:
		elems, _ := d.Elements()
		for _, e := range elems {
			out = append(out, e.Key())
		}
	}
	return out
}

// composite stands for a stored value that is neither a scalar nor null.
type composite struct{}

func rawValue(rv bson.RawValue) any {
	switch rv.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil
	case bson.TypeString:
		return rv.StringValue()
	case bson.TypeObjectID:
		return rv.ObjectID()
	case bson.TypeBoolean:
		return rv.Boolean()
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
		return rv.AsFloat64()
	}
	return composite{}
}

// stringForm is JavaScript's String(v) for the scalars an owner field can
// hold; ok is false for objects, arrays and other values, which never
// compare equal to anything.
func stringForm(v any) (s string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case string:
		return x, true
	case bson.ObjectID:
		return x.Hex(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return jsNumber(x), true
	case float32:
		return jsNumber(float64(x)), true
	case int:
		return strconv.Itoa(x), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return jsNumber(f), true
		}
	}
	return "", false
}

func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.Abs(f) >= 1e21 || (f != 0 && math.Abs(f) < 1e-6):
		s := strconv.FormatFloat(f, 'g', -1, 64)
		return strings.NewReplacer("e+0", "e+", "e-0", "e-").Replace(s)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// blank reports the owner values that count as absent on insert (§2.7 row
// 10): null and "".
func blank(v any) bool {
	s, isString := v.(string)
	return v == nil || (isString && s == "")
}

// sameKey reports whether a body key names key once JavaScript whitespace
// and a BOM are trimmed from it, as field keys are matched (§3.9).
func sameKey(bodyKey, key string) bool {
	return bodyKey == key || strings.TrimFunc(bodyKey, isJSSpace) == key
}
