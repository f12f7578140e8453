package dynschema

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/query"
)

// GraphQL filters compile to the same internal query.Filter as the REST
// query string: a field's operator input becomes conditions on its dotted
// path, with values typed as query.Cast types REST values (ids and Ref
// values as ObjectIDs, dates as times), and and/or/not become the
// filter's And, Or and Not. Nested filters (Object fields, object Array
// items) add their members' paths; on arrays a condition matches when any
// element matches, as in MongoDB.

// scalarKind is the operator input a field filters with.
type scalarKind int

const (
	kindString scalarKind = iota
	kindFloat
	kindBoolean
	kindTime
	kindID
)

func kindOf(t collections.FieldType) scalarKind {
	switch t {
	case collections.Number:
		return kindFloat
	case collections.Boolean:
		return kindBoolean
	case collections.Date:
		return kindTime
	case collections.Ref:
		return kindID
	}
	return kindString
}

// compileFilter compiles a collection's Filter input (nil: match all).
// Errors: Invalid, with the REST messages for values that do not cast.
func compileFilter(c *collInfo, v any) (*query.Filter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return &query.Filter{}, nil
	}
	return compileLevel(c.fields, c.fields, "", m, 0)
}

// compileLevel compiles the members of one filter object whose fields are
// at path prefix; top are the collection's fields (for casting).
func compileLevel(top, fields []collections.Field, prefix string, m map[string]any, depth int) (*query.Filter, error) {
	if depth > query.MaxFilterDepth {
		return nil, errs.New(errs.Invalid, "Filter is nested too deeply (at most %d levels).", query.MaxFilterDepth)
	}
	f := &query.Filter{}
	for _, key := range sortedKeys(m) {
		val := m[key]
		if val == nil {
			continue
		}
		switch {
		case prefix == "" && (key == "and" || key == "or"):
			for _, item := range listArg(val) {
				sub, ok := item.(map[string]any)
				if !ok {
					continue
				}
				g, err := compileLevel(top, fields, prefix, sub, depth+1)
				if err != nil {
					return nil, err
				}
				if key == "and" {
					f.And = append(f.And, g)
				} else {
					f.Or = append(f.Or, g)
				}
			}
		case prefix == "" && key == "not":
			sub, ok := val.(map[string]any)
			if !ok {
				continue
			}
			g, err := compileLevel(top, fields, prefix, sub, depth+1)
			if err != nil {
				return nil, err
			}
			f.Not = g
		case prefix == "" && key == "_id":
			if err := addConds(f, top, key, kindID, val); err != nil {
				return nil, err
			}
		case prefix == "" && (key == "createdAt" || key == "updatedAt"):
			if err := addConds(f, top, key, kindTime, val); err != nil {
				return nil, err
			}
		default:
			fd, ok := fieldByKey(fields, key)
			if !ok {
				return nil, errs.New(errs.Invalid, "Unknown filter field %q.", prefix+key)
			}
			if sub, nested := nestedFields(fd); nested {
				sm, _ := val.(map[string]any)
				g, err := compileLevel(top, sub, prefix+key+".", sm, depth+1)
				if err != nil {
					return nil, err
				}
				f.Conds = append(f.Conds, g.Conds...)
				f.And = append(f.And, g.And...)
				continue
			}
			t := fd.Type
			if t == collections.Array && fd.Items != nil {
				t = fd.Items.Type
			}
			if err := addConds(f, top, prefix+key, kindOf(t), val); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func fieldByKey(fields []collections.Field, key string) (collections.Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return collections.Field{}, false
}

// opNames are the operator inputs in a fixed order.
var opNames = []struct {
	name string
	op   query.Op
}{
	{"eq", query.Eq}, {"ne", query.Ne}, {"in", query.In}, {"nin", query.Nin},
	{"gt", query.Gt}, {"gte", query.Gte}, {"lt", query.Lt}, {"lte", query.Lte},
	{"regex", query.Regex}, {"exists", query.Exists},
}

// addConds adds the conditions of one operator input on path.
func addConds(f *query.Filter, top []collections.Field, path string, k scalarKind, v any) error {
	ops, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, o := range opNames {
		raw, present := ops[o.name]
		if !present {
			continue
		}
		switch o.op {
		case query.Exists:
			if b, ok := raw.(bool); ok {
				f.Conds = append(f.Conds, query.Cond{Path: path, Op: query.Exists, Value: b})
			}
		case query.Regex:
			if s, ok := raw.(string); ok {
				f.Conds = append(f.Conds, query.Cond{Path: path, Op: query.Regex, Value: s})
			}
		case query.In, query.Nin:
			if raw == nil {
				continue
			}
			items := listArg(raw)
			list := make([]any, 0, len(items))
			for _, it := range items {
				cv, err := castValue(top, path, k, it)
				if err != nil {
					return err
				}
				list = append(list, cv)
			}
			f.Conds = append(f.Conds, query.Cond{Path: path, Op: o.op, Value: list})
		case query.Eq, query.Ne:
			cv, err := castValue(top, path, k, raw)
			if err != nil {
				return err
			}
			f.Conds = append(f.Conds, query.Cond{Path: path, Op: o.op, Value: cv})
		default: // gt gte lt lte: null compares with nothing
			if raw == nil {
				continue
			}
			cv, err := castValue(top, path, k, raw)
			if err != nil {
				return err
			}
			f.Conds = append(f.Conds, query.Cond{Path: path, Op: o.op, Value: cv})
		}
	}
	return nil
}

// castValue types one filter value: IDs and times through query.Cast, as
// REST casts query-string values.
func castValue(top []collections.Field, path string, k scalarKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindFloat:
		if n, ok := toFloat(v); ok {
			return n, nil
		}
	case kindBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kindTime:
		if s, ok := v.(string); ok {
			t, ok := query.ParseDate(s)
			if !ok {
				return nil, errs.New(errs.Invalid, "Invalid value %q for %q; expected a date such as 2024-01-15 or 2024-01-15T10:30:00.000Z.", s, path)
			}
			return t, nil
		}
		if n, ok := toFloat(v); ok {
			return query.Cast(top, path, strconv.FormatFloat(n, 'f', -1, 64))
		}
	case kindID:
		return query.Cast(top, path, stringArg(map[string]any{"v": v}, "v"))
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, errs.New(errs.Invalid, "Invalid value for %q.", path)
}

// listQuery builds the list parameters of a list or page field exactly as
// REST parses them: limit, skip, sort (field:asc|desc), and for pages a
// cursor (after, or "start" for the first page); the filter is the
// compiled GraphQL filter.
func listQuery(c *collInfo, args map[string]any, pageMode bool) (*query.List, error) {
	vals := url.Values{}
	limitName := "limit"
	if pageMode {
		limitName = "first"
	}
	if n, ok := intArg(args, limitName); ok {
		vals.Set("limit", strconv.FormatInt(n, 10))
	}
	if n, ok := intArg(args, "skip"); ok && !pageMode {
		vals.Set("skip", strconv.FormatInt(n, 10))
	}
	var specs []string
	for _, s := range listArg(args["sort"]) {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		field, _ := m["field"].(string)
		dir := "asc"
		if o, _ := m["order"].(string); o == "DESC" {
			dir = "desc"
		}
		specs = append(specs, field+":"+dir)
	}
	if len(specs) > 0 {
		vals.Set("sort", strings.Join(specs, ","))
	}
	if pageMode {
		after := stringArg(args, "after")
		if after == "" {
			after = "start"
		}
		vals.Set("cursor", after)
	}
	l, err := query.ParseList(vals, c.fields)
	if err != nil {
		return nil, err
	}
	if l.Filter, err = compileFilter(c, args["filter"]); err != nil {
		return nil, err
	}
	l.NoTotal = true // lists and pages carry no total (…Count does)
	return l, nil
}
