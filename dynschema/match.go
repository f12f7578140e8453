package dynschema

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/query"
)

// match evaluates a query.Filter against a document in memory, as MongoDB
// would evaluate the filter's Mongo() form: a path through an array
// matches when any element matches, equality on an array field matches
// the whole array or any element, values compare only within one type
// class (numbers, strings, dates, ObjectIDs, booleans), eq null matches a
// missing field, and regex ignores case. Subscriptions use it to pick the
// events a subscriber asked for.
func match(f *query.Filter, doc bson.D) bool {
	if f == nil {
		return true
	}
	for _, c := range f.Conds {
		if !matchCond(c, doc) {
			return false
		}
	}
	for _, g := range f.And {
		if !match(g, doc) {
			return false
		}
	}
	if len(f.Or) > 0 {
		hit := false
		for _, g := range f.Or {
			if match(g, doc) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return f.Not == nil || !match(f.Not, doc)
}

func matchCond(c query.Cond, doc bson.D) bool {
	vals, found := pathValues(doc, strings.Split(c.Path, "."))
	switch c.Op {
	case query.Eq:
		return eqAny(vals, found, c.Value)
	case query.Ne:
		return !eqAny(vals, found, c.Value)
	case query.In, query.Nin:
		in := false
		for _, v := range listArg(c.Value) {
			if eqAny(vals, found, v) {
				in = true
				break
			}
		}
		return in == (c.Op == query.In)
	case query.Gt, query.Gte, query.Lt, query.Lte:
		for _, v := range vals {
			n, ok := compare(v, c.Value)
			if !ok {
				continue
			}
			if (c.Op == query.Gt && n > 0) || (c.Op == query.Gte && n >= 0) || (c.Op == query.Lt && n < 0) || (c.Op == query.Lte && n <= 0) {
				return true
			}
		}
		return false
	case query.Regex:
		p, _ := c.Value.(string)
		re, err := regexp.Compile("(?i)" + p)
		if err != nil {
			return false
		}
		for _, v := range vals {
			if s, ok := v.(string); ok && re.MatchString(s) {
				return true
			}
		}
		return false
	case query.Exists:
		want, _ := c.Value.(bool)
		return found == want
	}
	return false
}

// pathValues returns the values at a dotted path: at the end of the path
// an array stands for itself and for each of its elements; on the way an
// array is entered element by element (or by index). found reports
// whether the path exists at all.
func pathValues(v any, segs []string) (vals []any, found bool) {
	if len(segs) == 0 {
		vals = []any{v}
		if items, ok := asList(v); ok {
			vals = append(vals, items...)
		}
		return vals, true
	}
	switch x := v.(type) {
	case bson.D:
		child, ok := lookup(x, segs[0])
		if !ok {
			return nil, false
		}
		return pathValues(child, segs[1:])
	}
	items, ok := asList(v)
	if !ok {
		return nil, false
	}
	if i, err := strconv.Atoi(segs[0]); err == nil && i >= 0 {
		if i < len(items) {
			return pathValues(items[i], segs[1:])
		}
		return nil, false
	}
	for _, it := range items {
		if d, ok := it.(bson.D); ok {
			vs, f := pathValues(d, segs)
			vals = append(vals, vs...)
			found = found || f
		}
	}
	return vals, found
}

// eqAny is MongoDB equality of a field with want: null matches a missing
// or null field.
func eqAny(vals []any, found bool, want any) bool {
	if want == nil {
		if !found {
			return true
		}
		for _, v := range vals {
			if isNull(v) {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if n, ok := compare(v, want); ok && n == 0 {
			return true
		}
	}
	return false
}

// compare orders two scalars of the same type class; ok is false across
// classes (and for documents and arrays).
func compare(a, b any) (int, bool) {
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		return boolInt(x) - boolInt(y), true
	case bson.ObjectID:
		y, ok := b.(bson.ObjectID)
		return bytes.Compare(x[:], y[:]), ok
	}
	if x, ok := asTime(a); ok {
		y, ok := asTime(b)
		return x.Compare(y), ok
	}
	return 0, false
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case bson.DateTime:
		return t.Time(), true
	}
	return time.Time{}, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
