// Package query holds the one query language of the data API: the internal
// filter that the REST query string (contract/REST.md §3.3) and the
// per-project GraphQL filter inputs both compile to, its safe translation
// to a MongoDB filter, list parameters (sort, paging, cursor, count,
// projection, populate), the check that rejects "$" keys in request bodies,
// and the allow-list for aggregation pipelines (§3.12).
//
// The package is pure: it touches no database and no transport. Every
// error it returns is an *errs.Error of kind Invalid unless stated.
package query

import (
	"strings"

	"github.com/urbackend/urbackend/errs"
)

// Op is a comparison operator of a condition.
type Op string

// The operators. Each maps to the MongoDB operator of the same name.
const (
	Eq     Op = "eq"     // equal; on an array field: the array contains the value
	Ne     Op = "ne"     // not equal (also matches documents without the field)
	In     Op = "in"     // equal to any of Value ([]any)
	Nin    Op = "nin"    // equal to none of Value ([]any)
	Gt     Op = "gt"     // greater than
	Gte    Op = "gte"    // greater than or equal
	Lt     Op = "lt"     // less than
	Lte    Op = "lte"    // less than or equal
	Regex  Op = "regex"  // matches the regular expression Value (string), ignoring case
	Exists Op = "exists" // the field is present (Value true) or absent (Value false)
)

var ops = map[Op]string{
	Eq: "$eq", Ne: "$ne", In: "$in", Nin: "$nin",
	Gt: "$gt", Gte: "$gte", Lt: "$lt", Lte: "$lte",
	Regex: "$regex", Exists: "$exists",
}

// MaxRegexLen is the longest regular expression a filter may use (§3.3).
const MaxRegexLen = 128

// MaxFilterDepth is how deeply And/Or/Not may nest.
const MaxFilterDepth = 16

// Cond is one condition on one field.
//
// Path is a dotted field path ("title", "meta.views", "_id"); no segment
// may be empty or start with "$". Value is already typed: string, float64
// (or another Go number), bool, time.Time, bson.ObjectID or nil; a []any of
// those for In and Nin; a bool for Exists; a string pattern for Regex.
type Cond struct {
	Path  string
	Op    Op
	Value any
}

// Filter is a boolean combination of conditions. A document matches when
// it matches every Cond, every filter in And, at least one filter in Or
// (when Or is not empty), and does not match Not (when Not is set). The
// zero Filter, and a nil *Filter, match every document.
type Filter struct {
	Conds []Cond
	And   []*Filter
	Or    []*Filter
	Not   *Filter
}

// Empty reports whether f matches every document because it has no
// conditions at all.
func (f *Filter) Empty() bool {
	return f == nil || (len(f.Conds) == 0 && len(f.And) == 0 && len(f.Or) == 0 && f.Not == nil)
}

// And combines filters into one that matches when all of them match.
// Nil and empty filters are left out; And of nothing is the empty filter.
func And(filters ...*Filter) *Filter {
	var keep []*Filter
	for _, f := range filters {
		if !f.Empty() {
			keep = append(keep, f)
		}
	}
	switch len(keep) {
	case 0:
		return &Filter{}
	case 1:
		return keep[0]
	}
	return &Filter{And: keep}
}

// Uses reports whether op appears anywhere in f. The data layer uses it to
// put the 2-second time limit of §3.3 on queries with a Regex.
func (f *Filter) Uses(op Op) bool {
	if f == nil {
		return false
	}
	for _, c := range f.Conds {
		if c.Op == op {
			return true
		}
	}
	for _, g := range f.And {
		if g.Uses(op) {
			return true
		}
	}
	for _, g := range f.Or {
		if g.Uses(op) {
			return true
		}
	}
	return f.Not.Uses(op)
}

// ValidatePath checks a dotted field path used in a filter, sort or
// projection: not empty, no empty segment, no segment starting with "$",
// no NUL byte, at most 512 bytes.
func ValidatePath(path string) error {
	bad := func(why string) error {
		return errs.New(errs.Invalid, "Invalid field name %s: %s.", quote(path), why)
	}
	switch {
	case path == "":
		return errs.New(errs.Invalid, "Field name must not be empty.")
	case len(path) > 512:
		return bad("it is longer than 512 bytes")
	case strings.IndexByte(path, 0) >= 0:
		return bad("it contains a NUL byte")
	}
	for seg := range strings.SplitSeq(path, ".") {
		if seg == "" {
			return bad("a path segment is empty")
		}
		if seg[0] == '$' {
			return bad(`names must not start with "$"`)
		}
	}
	return nil
}

// quote returns s in double quotes for an error message, shortened to 64
// characters so that a huge input does not become a huge message.
func quote(s string) string {
	const limit = 64
	r := []rune(s)
	if len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return `"` + s + `"`
}
