package validate

import (
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// plain converts an undeclared value for storage: objects to bson.D,
// arrays to bson.A, numbers as number does; member names are checked.
func plain(v any, path string) (any, error) {
	if in, ok := entries(v); ok {
		out := make(bson.D, 0, len(in))
		seen := make(map[string]bool, len(in))
		for _, e := range in {
			if seen[e.key] {
				continue
			}
			seen[e.key] = true
			p := join(path, e.key)
			if err := checkName(e.key, p, false); err != nil {
				return nil, err
			}
			val, err := plain(e.val, p)
			if err != nil {
				return nil, err
			}
			out = append(out, bson.E{Key: e.key, Value: val})
		}
		return out, nil
	}
	if items, ok := array(v); ok {
		out := make(bson.A, len(items))
		for i, item := range items {
			val, err := plain(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	switch x := v.(type) {
	case time.Time:
		return bson.NewDateTimeFromTime(x), nil
	case nil, string, bool:
		return x, nil
	}
	if n, ok := number(v); ok {
		return n, nil
	}
	return v, nil // already a BSON value (ObjectID, DateTime, …)
}

// checkName refuses member names MongoDB cannot store safely: a leading
// '$' (an operator) and, outside update paths, a '.'. path names the
// member in the message.
func checkName(key, path string, isPath bool) error {
	if strings.HasPrefix(key, "$") {
		return errs.New(errs.Invalid, "Field '%s' is not allowed: field names cannot start with '$'.", path)
	}
	if !isPath && strings.Contains(key, ".") {
		return errs.New(errs.Invalid, "Field '%s' is not allowed: field names cannot contain '.'.", path)
	}
	return nil
}
