package query

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// A cursor is standard base64 of the JSON
// {"sortValue": <first sort field of the last item>, "_id": "<hex>"} (§3.4).
// When the order has several fields before "_id", "sortValues" holds all
// of them (an addition; "sortValue" stays the first). Dates are ISO
// strings, ObjectIDs hex strings; a missing value is null.
type cursorJSON struct {
	SortValue  any    `json:"sortValue"`
	ID         string `json:"_id"`
	SortValues []any  `json:"sortValues,omitempty"`
}

// CursorFilter is the keyset condition "after the cursor position" in the
// order SortD gives, or nil when l is not in cursor mode or its cursor
// did not decode (then the walk starts from the beginning, §3.4).
//
// For keys k1..kn (the last is "_id") it is the OR over i of
// (k1 = v1 AND … AND k(i-1) = v(i-1) AND ki after vi). A missing/null
// value sorts before every other value, as in MongoDB. Values of one sort
// field must share one BSON type; mixed types are not walked correctly.
func (l *List) CursorFilter() *Filter {
	if l.Cursor == "" || l.after == nil {
		return nil
	}
	keys := totalOrder(l.Sort)
	or := make([]*Filter, 0, len(keys))
	for i, k := range keys {
		after := afterValue(k, l.after[i])
		if after == nil {
			continue
		}
		branch := &Filter{}
		for j := range i {
			branch.Conds = append(branch.Conds, Cond{Path: keys[j].Path, Op: Eq, Value: l.after[j]})
		}
		branch.Conds = append(branch.Conds, after.Conds...)
		branch.Or = after.Or
		or = append(or, branch)
	}
	return &Filter{Or: or}
}

// afterValue is the condition "k comes after v", or nil when nothing can
// (descending past a null).
func afterValue(k SortKey, v any) *Filter {
	switch {
	case !k.Desc && v == nil:
		return &Filter{Conds: []Cond{{Path: k.Path, Op: Ne, Value: nil}}}
	case !k.Desc:
		return &Filter{Conds: []Cond{{Path: k.Path, Op: Gt, Value: v}}}
	case v == nil:
		return nil
	case k.Path == "_id": // never null
		return &Filter{Conds: []Cond{{Path: k.Path, Op: Lt, Value: v}}}
	}
	return &Filter{Or: []*Filter{
		{Conds: []Cond{{Path: k.Path, Op: Lt, Value: v}}},
		{Conds: []Cond{{Path: k.Path, Op: Eq, Value: nil}}},
	}}
}

// NextCursor encodes the position just after doc, the last document of a
// page as read from MongoDB (bson.D, bson.M or map[string]any).
//
// Errors: Invalid when a sort field holds an array or document (no keyset
// order exists); Internal when doc has no ObjectID "_id".
func (l *List) NextCursor(doc any) (string, error) {
	keys := totalOrder(l.Sort)
	vals := make([]any, 0, len(keys))
	for _, k := range keys[:len(keys)-1] {
		v, err := cursorValue(k.Path, getPath(doc, k.Path))
		if err != nil {
			return "", err
		}
		vals = append(vals, v)
	}
	id, ok := getPath(doc, "_id").(bson.ObjectID)
	if !ok {
		return "", errs.New(errs.Internal, "cursor: document has no ObjectID _id")
	}
	c := cursorJSON{ID: id.Hex(), SortValue: id.Hex()}
	if len(vals) > 0 {
		c.SortValue = vals[0]
	}
	if len(vals) > 1 {
		c.SortValues = vals
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "cursor: encode")
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// cursorValue converts a stored value to its JSON form in a cursor.
func cursorValue(path string, v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int32, int64, int, float64:
		return x, nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z07:00"), nil
	case bson.DateTime:
		return x.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"), nil
	case bson.ObjectID:
		return x.Hex(), nil
	}
	return nil, errs.New(errs.Invalid, "Cursor pagination cannot sort on %s: it holds an array or object.", quote(path))
}

// getPath reads a dotted path from a decoded document; nil when absent.
func getPath(doc any, path string) any {
	cur := doc
	for seg := range strings.SplitSeq(path, ".") {
		switch d := cur.(type) {
		case bson.D:
			cur = nil
			for _, e := range d {
				if e.Key == seg {
					cur = e.Value
					break
				}
			}
		case bson.M:
			cur = d[seg]
		case map[string]any:
			cur = d[seg]
		case bson.A:
			cur = index(d, seg)
		case []any:
			cur = index(d, seg)
		default:
			return nil
		}
	}
	return cur
}

func index(a []any, seg string) any {
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 || i >= len(a) {
		return nil
	}
	return a[i]
}

// decodeCursor returns the position of a cursor, one typed value per key
// of the total order, or nil when it does not decode.
func decodeCursor(s string, keys []SortKey, fields []collections.Field) []any {
	// An unescaped "+" in a query string arrives as a space.
	s = strings.ReplaceAll(s, " ", "+")
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			raw = b
			break
		}
	}
	var m map[string]json.RawMessage
	if raw == nil || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil
	}
	var idHex string
	if json.Unmarshal(m["_id"], &idHex) != nil {
		return nil
	}
	id, err := bson.ObjectIDFromHex(idHex)
	if err != nil {
		return nil
	}
	sortValue, ok := m["sortValue"]
	if !ok {
		return nil
	}
	rawVals := []json.RawMessage{sortValue}
	if n := len(keys) - 1; n > 1 {
		if json.Unmarshal(m["sortValues"], &rawVals) != nil || len(rawVals) != n {
			return nil
		}
	}
	out := make([]any, 0, len(keys))
	for i, k := range keys[:len(keys)-1] {
		v, ok := cursorCast(kindAt(fields, k.Path), rawVals[i])
		if !ok {
			return nil
		}
		out = append(out, v)
	}
	return append(out, id)
}

// cursorCast turns a JSON cursor value back into the type stored for a
// field of kind k.
func cursorCast(k kind, raw json.RawMessage) (any, bool) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		switch k {
		case kindDate:
			t, err := time.Parse(time.RFC3339Nano, x)
			return t.UTC(), err == nil
		case kindObjectID:
			id, err := bson.ObjectIDFromHex(x)
			return id, err == nil
		case kindString:
			return x, true
		}
	case json.Number:
		if k == kindNumber {
			f, err := x.Float64()
			return f, err == nil
		}
		if k == kindString { // an undeclared field holding a number
			if n, err := x.Int64(); err == nil {
				return n, true
			}
			f, err := x.Float64()
			return f, err == nil
		}
	case bool:
		return x, k == kindBoolean || k == kindString
	}
	return nil, false
}
