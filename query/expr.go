package query

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// maxStageDepth bounds nesting inside one aggregation stage.
const maxStageDepth = 64

// checker validates the contents of one aggregation stage against the
// allow-lists; stage names it in error messages.
type checker struct{ stage string }

func (c checker) fail(format string, args ...any) error {
	return errs.New(errs.Invalid, format+" (in stage %s).", append(args, quote(c.stage))...)
}

func (c checker) deep(depth int) error {
	if depth > maxStageDepth {
		return c.fail("Aggregation pipeline is nested too deeply")
	}
	return nil
}

// expr checks an aggregation expression: every "$" key must be an allowed
// expression operator ($literal's argument is not inspected, it is data),
// and "$$" variables must be allowed system variables or user variables.
func (c checker) expr(v any, depth int) error {
	if err := c.deep(depth); err != nil {
		return err
	}
	if s, ok := v.(string); ok {
		return c.variable(s)
	}
	if l, ok := asList(v); ok {
		for _, e := range l {
			if err := c.expr(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	d, ok := asDoc(v)
	if !ok {
		return nil
	}
	for _, e := range d {
		if err := c.key(e.Key); err != nil {
			return err
		}
		if strings.HasPrefix(e.Key, "$") {
			if !exprOps[e.Key] {
				return c.fail("Aggregation operator %s is not allowed", quote(e.Key))
			}
			if e.Key == "$literal" {
				continue
			}
		}
		if err := c.expr(e.Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// variable checks a "$$name" reference in an expression string.
func (c checker) variable(s string) error {
	name, ok := strings.CutPrefix(s, "$$")
	if !ok {
		return nil
	}
	name, _, _ = strings.Cut(name, ".")
	if systemVars[name] || (name != "" && name[0] >= 'a' && name[0] <= 'z') {
		return nil
	}
	return c.fail("Aggregation variable %s is not allowed", quote("$$"+name))
}

// key refuses a NUL byte in any key.
func (c checker) key(k string) error {
	if strings.IndexByte(k, 0) >= 0 {
		return c.fail("Field names must not contain a NUL byte")
	}
	return nil
}

// query checks a $match query document.
func (c checker) query(v any, depth int) error {
	if err := c.deep(depth); err != nil {
		return err
	}
	d, ok := asDoc(v)
	if !ok {
		return c.fail("A query must be an object")
	}
	for _, e := range d {
		switch e.Key {
		case "$and", "$or", "$nor":
			l, ok := asList(e.Value)
			if !ok || len(l) == 0 {
				return c.fail("%s needs a non-empty array of queries", quote(e.Key))
			}
			for _, q := range l {
				if err := c.query(q, depth+1); err != nil {
					return err
				}
			}
		case "$expr":
			if err := c.expr(e.Value, depth+1); err != nil {
				return err
			}
		default:
			if strings.HasPrefix(e.Key, "$") {
				return c.fail("Query operator %s is not allowed", quote(e.Key))
			}
			if err := ValidatePath(e.Key); err != nil {
				return c.fail("%s", strings.TrimSuffix(errs.ClientMessage(err), "."))
			}
			if err := c.fieldCond(e.Value, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldCond checks the condition on one field: an operator document or a
// literal value to compare with.
func (c checker) fieldCond(v any, depth int) error {
	if err := c.deep(depth); err != nil {
		return err
	}
	d, ok := asDoc(v)
	if !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return c.literal(v, depth)
	}
	for _, e := range d {
		if !strings.HasPrefix(e.Key, "$") {
			return c.fail("A condition cannot mix operators and field %s", quote(e.Key))
		}
		if !fieldOps[e.Key] {
			return c.fail("Query operator %s is not allowed", quote(e.Key))
		}
		var err error
		switch e.Key {
		case "$regex":
			s, ok := e.Value.(string)
			if !ok {
				return c.fail("$regex needs a string pattern")
			}
			if rerr := checkRegex(s); rerr != nil {
				return c.fail("Invalid $regex: %s", strings.TrimSuffix(errs.ClientMessage(rerr), "."))
			}
		case "$options":
			s, ok := e.Value.(string)
			if !ok || strings.Trim(s, "imsx") != "" {
				return c.fail("$options may only contain i, m, s and x")
			}
		case "$not":
			err = c.fieldCond(e.Value, depth+1)
		case "$elemMatch":
			if sub, ok := asDoc(e.Value); ok && len(sub) > 0 && strings.HasPrefix(sub[0].Key, "$") {
				err = c.fieldCond(e.Value, depth+1)
			} else {
				err = c.query(e.Value, depth+1)
			}
		default:
			err = c.literal(e.Value, depth+1)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// literal checks a value used as data: no "$" key anywhere in it.
func (c checker) literal(v any, depth int) error {
	if err := c.deep(depth); err != nil {
		return err
	}
	if l, ok := asList(v); ok {
		for _, e := range l {
			if err := c.literal(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	d, ok := asDoc(v)
	if !ok {
		return nil
	}
	for _, e := range d {
		if err := c.key(e.Key); err != nil {
			return err
		}
		if strings.HasPrefix(e.Key, "$") {
			return c.fail("Operator %s is not allowed here", quote(e.Key))
		}
		if err := c.literal(e.Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// asDoc returns v as an ordered document: a bson.D as is, a map with its
// keys sorted. ok is false when v is not an object.
func asDoc(v any) (bson.D, bool) {
	switch x := v.(type) {
	case bson.D:
		return x, true
	case map[string]any:
		return mapDoc(x), true
	case bson.M:
		return mapDoc(x), true
	}
	return nil, false
}

func mapDoc[M ~map[string]any](m M) bson.D {
	d := make(bson.D, 0, len(m))
	for _, k := range sortedKeys(m) {
		d = append(d, bson.E{Key: k, Value: m[k]})
	}
	return d
}

// asList returns v as a list when it is a JSON array.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case bson.A:
		return x, true
	}
	return nil, false
}
