package data

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Doc is a document as clients see it: keys in stored order, ObjectIds as
// 24-hex strings, dates as UTC ISO strings with milliseconds
// (2024-01-15T10:30:00.000Z), integral numbers without exponents.
type Doc bson.D

// Get returns the value of a top-level key.
func (d Doc) Get(key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the document in the wire form.
func (d Doc) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, bson.D(d)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// TimeFormat is JavaScript's Date.prototype.toISOString layout.
const TimeFormat = "2006-01-02T15:04:05.000Z"

func writeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bson.D:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e.Key)
			b.WriteByte(':')
			if err := writeValue(b, e.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case Doc:
		return writeValue(b, bson.D(x))
	case bson.M:
		return writeValue(b, mapToD(x))
	case map[string]any:
		return writeValue(b, mapToD(x))
	case bson.A:
		return writeValue(b, []any(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []Doc:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, bson.D(e)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		writeFloat(b, x)
	case float32:
		writeFloat(b, float64(x))
	case json.Number:
		b.WriteString(x.String())
	case bson.ObjectID:
		writeString(b, x.Hex())
	case bson.DateTime:
		writeString(b, x.Time().UTC().Format(TimeFormat))
	case time.Time:
		writeString(b, x.UTC().Format(TimeFormat))
	case bson.Decimal128:
		writeString(b, x.String())
	case bson.Binary:
		writeString(b, base64.StdEncoding.EncodeToString(x.Data))
	case bson.Regex:
		writeString(b, x.Pattern)
	case bson.Timestamp:
		b.WriteString(strconv.FormatUint(uint64(x.T), 10))
	case bson.Null, bson.Undefined:
		b.WriteString("null")
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(raw)
	}
	return nil
}

// writeFloat writes numbers as JavaScript would: integral values without
// an exponent below 1e21, non-finite values as null.
func writeFloat(b *bytes.Buffer, f float64) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		b.WriteString("null")
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	case math.Abs(f) >= 1e-6 && math.Abs(f) < 1e21:
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

func mapToD(m map[string]any) bson.D {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	d := make(bson.D, 0, len(m))
	for _, k := range keys {
		d = append(d, bson.E{Key: k, Value: m[k]})
	}
	return d
}
