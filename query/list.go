package query

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// List is a parsed list or count request (§3.3–§3.5).
type List struct {
	// Filter is the client's filter; never nil. The caller ANDs in the
	// RLS filter (see And and OwnerFilter) and, in cursor mode,
	// CursorFilter.
	Filter *Filter
	// Count is true for count=true: only Filter matters; every other
	// field keeps its default and the other parameters are not parsed.
	Count bool
	// Sort is the requested order, or DefaultSort. Use SortD for the
	// MongoDB sort, which adds an "_id" tie-breaker.
	Sort []SortKey
	// Limit is the page size, 1..MaxLimit.
	Limit int64
	// Page is the 1-based page reported in the response; with skip it is
	// Skip/Limit+1.
	Page int64
	// Skip is the number of matching documents to skip (offset mode).
	Skip int64
	// Cursor is the cursor parameter as sent; when it is not empty the
	// request is in cursor mode (§3.4): Skip is 0, the caller fetches
	// Limit+1 documents with CursorFilter ANDed in, returns the first
	// Limit, and answers nextCursor = NextCursor(last returned document)
	// when there was one more, else null.
	Cursor string
	// Shape is the projection (fields, meta) and populate request.
	Shape
	// NoTotal tells that the caller does not report the number of
	// matching documents, so a list need not count them. ParseList never
	// sets it.
	NoTotal bool

	after []any // the decoded cursor position, one value per totalOrder key
}

// reserved are the parameters that are not filters: those of §3.3, skip
// (an offset, §3.3), and key / x-api-key, which carry the API key and
// must never become filters (§2.1, §2.3).
var reserved = map[string]bool{
	"page": true, "sort": true, "limit": true, "fields": true, "populate": true,
	"expand": true, "count": true, "meta": true, "cursor": true, "skip": true,
	"key": true, "x-api-key": true,
}

// suffixes are the operator suffixes in the order the contract lists them.
var suffixes = []struct {
	suffix string
	op     Op
}{
	{"_gt", Gt}, {"_gte", Gte}, {"_lt", Lt}, {"_lte", Lte},
	{"_ne", Ne}, {"_in", In}, {"_exists", Exists}, {"_regex", Regex},
}

// bracketOps are the operators of the additive filter[field][op]=v form.
var bracketOps = map[string]Op{
	"eq": Eq, "ne": Ne, "gt": Gt, "gte": Gte, "lt": Lt, "lte": Lte,
	"in": In, "nin": Nin, "exists": Exists, "regex": Regex,
}

var bracketRE = regexp.MustCompile(`^filter\[([^\[\]]+)\](?:\[([^\[\]]+)\])?$`)

// ParseList parses the query string of GET /api/data/:c (list, count and
// cursor mode) against the collection's declared fields (empty for a
// flexible collection).
//
// Filters: every parameter that is not reserved is a condition. A key
// ending in _gt _gte _lt _lte _ne _in _exists or _regex applies that
// operator to the field before the suffix; any other key is equality, and
// a repeated equality key means "any of". Values are cast by the field's
// declared type (see Cast). The docs' filter[field]=v and
// filter[field][op]=v forms are accepted too. Parameters are read in
// sorted key order, so the result and the first error are deterministic.
//
// Errors (all Invalid): an uncastable value, a field name with a "$"
// segment, an operator parameter given twice, a bad _exists value or
// regex (with the contract's messages), a bad sort direction, a populate
// path that is not in the schema.
func ParseList(values url.Values, fields []collections.Field) (*List, error) {
	f, err := parseFilter(values, fields)
	if err != nil {
		return nil, err
	}
	l := &List{Filter: f, Limit: DefaultLimit, Page: 1, Sort: DefaultSort()}
	if values.Get("count") == "true" {
		l.Count = true
		return l, nil
	}
	l.Limit, l.Page, l.Skip = parsePaging(values)
	if l.Sort, err = ParseSort(values["sort"]); err != nil {
		return nil, err
	}
	if l.Shape, err = parseShape(values, fields, false); err != nil {
		return nil, err
	}
	if c := values.Get("cursor"); c != "" {
		l.Cursor = c
		l.Page, l.Skip = 1, 0
		l.after = decodeCursor(c, totalOrder(l.Sort), fields)
	}
	return l, nil
}

// parseFilter turns the non-reserved parameters into a Filter.
func parseFilter(values url.Values, fields []collections.Field) (*Filter, error) {
	f := &Filter{}
	keys := make([]string, 0, len(values))
	for k := range values {
		if k != "" && !reserved[k] && len(values[k]) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		path, op, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if err := ValidatePath(path); err != nil {
			return nil, err
		}
		c, err := parseCond(key, path, op, values[key], fields)
		if err != nil {
			return nil, err
		}
		f.Conds = append(f.Conds, c)
	}
	return f, nil
}

// splitKey finds the field path and operator of a filter parameter.
func splitKey(key string) (string, Op, error) {
	if m := bracketRE.FindStringSubmatch(key); m != nil {
		if m[2] == "" {
			return m[1], Eq, nil
		}
		op, ok := bracketOps[m[2]]
		if !ok {
			return "", "", errs.New(errs.Invalid, "Unknown filter operator %s in %s; use eq, ne, gt, gte, lt, lte, in, nin, exists or regex.", quote(m[2]), quote(key))
		}
		return m[1], op, nil
	}
	for _, s := range suffixes {
		if field, ok := strings.CutSuffix(key, s.suffix); ok && field != "" {
			return field, s.op, nil
		}
	}
	return key, Eq, nil
}

// parseCond builds the condition of one parameter from its values.
func parseCond(key, path string, op Op, vals []string, fields []collections.Field) (Cond, error) {
	k := kindAt(fields, path)
	once := func() (string, error) {
		if len(vals) != 1 {
			return "", errs.New(errs.Invalid, "Parameter %s may be given only once.", quote(key))
		}
		return vals[0], nil
	}
	switch op {
	case Eq:
		if len(vals) > 1 {
			list, err := castAll(k, key, vals)
			return Cond{Path: path, Op: In, Value: list}, err
		}
		v, err := castKind(k, key, vals[0])
		return Cond{Path: path, Op: Eq, Value: v}, err
	case In, Nin:
		var items []string
		for _, v := range vals {
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					items = append(items, item)
				}
			}
		}
		list, err := castAll(k, key, items)
		return Cond{Path: path, Op: op, Value: list}, err
	case Exists:
		if len(vals) == 1 && (vals[0] == "true" || vals[0] == "false") {
			return Cond{Path: path, Op: Exists, Value: vals[0] == "true"}, nil
		}
		return Cond{}, errs.New(errs.Invalid, "Invalid value for %q; expected \"true\" or \"false\".", key)
	case Regex:
		p, err := once()
		if err != nil {
			return Cond{}, err
		}
		if jsLen(p) > MaxRegexLen {
			return Cond{}, errs.New(errs.Invalid, "Regex pattern for %q exceeds %d characters.", key, MaxRegexLen)
		}
		if checkRegex(p) != nil {
			return Cond{}, errs.New(errs.Invalid, "Invalid regex pattern for %q.", key)
		}
		return Cond{Path: path, Op: Regex, Value: p}, nil
	}
	s, err := once()
	if err != nil {
		return Cond{}, err
	}
	v, err := castKind(k, key, s)
	return Cond{Path: path, Op: op, Value: v}, err
}

func castAll(k kind, key string, vals []string) ([]any, error) {
	out := make([]any, 0, len(vals))
	for _, s := range vals {
		v, err := castKind(k, key, s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
