package dynschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/data"
)

// object is a response object: fields in selection order.
type object struct {
	keys []string
	vals []any
}

func (o *object) add(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// get returns the value of key k (for tests and subscriptions).
func (o *object) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// marshal writes a completed response value as JSON.
func marshal(v any) []byte {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case *object:
		if x == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeJSON(b, x.vals[i])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		writeFloat(b, x)
	case json.RawMessage:
		b.Write(x)
	case rawMarshaler:
		x.m.MarshalGQL(b)
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(raw)
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1)
}

// writeFloat writes a finite float without an exponent below 1e21, as the
// REST API writes numbers.
func writeFloat(b *bytes.Buffer, f float64) {
	if math.Abs(f) < 1e21 && (f == math.Trunc(f) || math.Abs(f) >= 1e-6) {
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
		return
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
}

// isNull reports a missing value: nil, BSON null or undefined, or a nil
// document or pointer.
func isNull(v any) bool {
	switch x := v.(type) {
	case nil, bson.Null, bson.Undefined:
		return true
	case bson.D:
		return x == nil
	case data.Doc:
		return x == nil
	case *object:
		return x == nil
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// asList returns the elements of a list value.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case bson.A:
		return x, true
	case []bson.D:
		out := make([]any, len(x))
		for i, d := range x {
			out[i] = d
		}
		return out, true
	case []data.Doc:
		out := make([]any, len(x))
		for i, d := range x {
			out[i] = bson.D(d)
		}
		return out, true
	}
	return nil, false
}

// coerceLeaf serializes a scalar or enum value of type def (spec
// §Result Coercion). A stored value the type cannot represent is a field
// error.
func coerceLeaf(def *ast.Definition, v any) (any, error) {
	switch p := v.(type) {
	case *string:
		v = *p
	case *bool:
		v = *p
	}
	bad := func() error {
		return gqlerror.Errorf("%s cannot represent value: %s", def.Name, short(v))
	}
	if def.Kind == ast.Enum {
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			return nil, bad()
		}
		return s, nil
	}
	switch def.Name {
	case "ID":
		switch x := v.(type) {
		case bson.ObjectID:
			return x.Hex(), nil
		case string:
			return x, nil
		}
		if n, ok := toFloat(v); ok && n == math.Trunc(n) {
			return strconv.FormatFloat(n, 'f', -1, 64), nil
		}
	case "String":
		switch x := v.(type) {
		case string:
			return x, nil
		case bson.ObjectID:
			return x.Hex(), nil
		case bool:
			return strconv.FormatBool(x), nil
		case bson.DateTime:
			return x.Time().UTC().Format(data.TimeFormat), nil
		}
		if n, ok := toFloat(v); ok {
			var b bytes.Buffer
			writeFloat(&b, n)
			return b.String(), nil
		}
	case "Float":
		if n, ok := toFloat(v); ok && !math.IsNaN(n) && !math.IsInf(n, 0) {
			return n, nil
		}
	case "Int":
		if n, ok := toFloat(v); ok && n == math.Trunc(n) && math.Abs(n) <= math.MaxInt32 {
			return int64(n), nil
		}
	case "Boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "Time":
		switch x := v.(type) {
		case bson.DateTime:
			return x.Time().UTC().Format(data.TimeFormat), nil
		case time.Time:
			return x.UTC().Format(data.TimeFormat), nil
		case string:
			return x, nil
		}
	case "JSON":
		return jsonValue(v)
	}
	return nil, bad()
}

// jsonValue renders any stored value in the REST wire form.
func jsonValue(v any) (json.RawMessage, error) {
	raw, err := data.Doc(bson.D{{Key: "v", Value: v}}).MarshalJSON()
	if err != nil {
		return nil, err
	}
	// {"v":<value>}
	return json.RawMessage(raw[5 : len(raw)-1]), nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case bson.Decimal128:
		f, err := strconv.ParseFloat(n.String(), 64)
		return f, err == nil
	}
	return 0, false
}

// short renders a value for an error message, at most 64 characters.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if raw, err := jsonValue(v); err == nil {
		s = string(raw)
	}
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64]) + "…"
	}
	return s
}
