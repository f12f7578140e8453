package query

import (
	"reflect"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// Mongo compiles f to a MongoDB filter document. It is the only way a
// client's filter reaches the database, so it checks everything again:
// paths must pass ValidatePath (no "$" segment), operators come from the
// fixed table ($eq $ne $in $nin $gt $gte $lt $lte $regex+$options $exists,
// combined with $and $or $nor), values must be scalars (never a document,
// so no client "$" key can ride in a value), regex patterns must be
// strings of at most MaxRegexLen that compile, and nesting is limited to
// MaxFilterDepth. A nil or empty filter compiles to an empty document.
//
// Conditions on one path share one operator document
// ({"price": {"$gt": 10, "$lt": 50}}); a lone equality is written as
// {"path": value}; repeated operators on a path go into $and.
func (f *Filter) Mongo() (bson.D, error) {
	return f.mongo(0)
}

func (f *Filter) mongo(depth int) (bson.D, error) {
	out := bson.D{}
	if f == nil {
		return out, nil
	}
	if depth > MaxFilterDepth {
		return nil, errs.New(errs.Invalid, "Filter is nested too deeply (at most %d levels).", MaxFilterDepth)
	}
	var and bson.A

	// Group conditions by path, keeping the order of first appearance.
	var paths []string
	byPath := map[string][]Cond{}
	for _, c := range f.Conds {
		if err := ValidatePath(c.Path); err != nil {
			return nil, err
		}
		if _, seen := byPath[c.Path]; !seen {
			paths = append(paths, c.Path)
		}
		byPath[c.Path] = append(byPath[c.Path], c)
	}
	for _, p := range paths {
		conds := byPath[p]
		if len(conds) == 1 && conds[0].Op == Eq && scalar(conds[0].Value) {
			v, err := condValue(conds[0])
			if err != nil {
				return nil, err
			}
			out = append(out, bson.E{Key: p, Value: v})
			continue
		}
		if distinctOps(conds) {
			doc := bson.D{}
			for _, c := range conds {
				e, err := opDoc(c)
				if err != nil {
					return nil, err
				}
				doc = append(doc, e...)
			}
			out = append(out, bson.E{Key: p, Value: doc})
			continue
		}
		for _, c := range conds {
			e, err := opDoc(c)
			if err != nil {
				return nil, err
			}
			and = append(and, bson.D{{Key: p, Value: e}})
		}
	}
	for _, g := range f.And {
		d, err := g.mongo(depth + 1)
		if err != nil {
			return nil, err
		}
		and = append(and, d)
	}
	if len(f.Or) > 0 {
		or := make(bson.A, 0, len(f.Or))
		for _, g := range f.Or {
			d, err := g.mongo(depth + 1)
			if err != nil {
				return nil, err
			}
			or = append(or, d)
		}
		out = append(out, bson.E{Key: "$or", Value: or})
	}
	if f.Not != nil {
		d, err := f.Not.mongo(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: "$nor", Value: bson.A{d}})
	}
	if len(and) > 0 {
		out = append(out, bson.E{Key: "$and", Value: and})
	}
	return out, nil
}

func distinctOps(conds []Cond) bool {
	seen := map[Op]bool{}
	for _, c := range conds {
		if seen[c.Op] {
			return false
		}
		seen[c.Op] = true
	}
	return true
}

// opDoc returns the operator document of one condition, e.g.
// {"$gt": 10} or {"$regex": "^a", "$options": "i"}.
func opDoc(c Cond) (bson.D, error) {
	name, ok := ops[c.Op]
	if !ok {
		return nil, errs.New(errs.Invalid, "Unknown filter operator %s on %s.", quote(string(c.Op)), quote(c.Path))
	}
	v, err := condValue(c)
	if err != nil {
		return nil, err
	}
	if c.Op == Regex {
		return bson.D{{Key: "$regex", Value: v}, {Key: "$options", Value: "i"}}, nil
	}
	return bson.D{{Key: name, Value: v}}, nil
}

// condValue checks the value of c against its operator and returns it in
// the form the driver encodes.
func condValue(c Cond) (any, error) {
	bad := func(want string) error {
		return errs.New(errs.Invalid, "Filter on %s: %s needs %s.", quote(c.Path), c.Op, want)
	}
	switch c.Op {
	case Eq, Ne:
		if !scalar(c.Value) {
			return nil, bad("a string, number, boolean, date, ID or null")
		}
		return c.Value, nil
	case Gt, Gte, Lt, Lte:
		if c.Value == nil || !scalar(c.Value) {
			return nil, bad("a string, number, boolean, date or ID")
		}
		return c.Value, nil
	case In, Nin:
		list, ok := scalarList(c.Value)
		if !ok {
			return nil, bad("a list of strings, numbers, booleans, dates, IDs or nulls")
		}
		return list, nil
	case Exists:
		b, ok := c.Value.(bool)
		if !ok {
			return nil, bad("true or false")
		}
		return b, nil
	case Regex:
		s, ok := c.Value.(string)
		if !ok {
			return nil, bad("a string pattern")
		}
		if err := checkRegex(s); err != nil {
			return nil, errs.New(errs.Invalid, "Filter on %s: %s", quote(c.Path), errs.ClientMessage(err))
		}
		return s, nil
	}
	return nil, errs.New(errs.Invalid, "Unknown filter operator %s on %s.", quote(string(c.Op)), quote(c.Path))
}

// checkRegex enforces MaxRegexLen (counted as JavaScript does) and that the pattern compiles. Patterns
// are compiled with Go's RE2 syntax: the embedded FerretDB evaluates
// $regex with the same engine, so a pattern that passes here behaves the
// same on both databases (PCRE-only features such as lookaround and
// backreferences are refused).
func checkRegex(p string) error {
	if jsLen(p) > MaxRegexLen {
		return errs.New(errs.Invalid, "regex pattern exceeds %d characters.", MaxRegexLen)
	}
	if _, err := regexp.Compile(p); err != nil {
		return errs.New(errs.Invalid, "invalid regex pattern.")
	}
	return nil
}

// jsLen is the length of s as JavaScript counts it (UTF-16 code units),
// which is how the original measured regex patterns.
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// scalar reports whether v may be compared against: never a document, an
// array or anything else that could carry operator keys.
func scalar(v any) bool {
	switch v.(type) {
	case nil, string, bool, float64, float32, int, int32, int64,
		time.Time, bson.ObjectID, bson.DateTime, bson.Decimal128:
		return true
	}
	return false
}

// scalarList converts a slice of scalars (any slice type) to a bson.A.
func scalarList(v any) (bson.A, bool) {
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make(bson.A, 0, rv.Len())
	for i := range rv.Len() {
		e := rv.Index(i).Interface()
		if !scalar(e) {
			return nil, false
		}
		out = append(out, e)
	}
	return out, true
}
