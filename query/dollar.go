package query

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// maxBodyDepth bounds the recursion of RejectDollarKeys.
const maxBodyDepth = 256

// RejectDollarKeys walks a decoded JSON body (objects as map[string]any,
// bson.M or bson.D; arrays as []any or bson.A) and returns an Invalid
// error naming the first key, at any depth, that starts with "$" or
// contains a NUL byte, or when the body nests deeper than 256 levels.
//
// Why: MongoDB reads "$"-prefixed keys as operators. A body stored or
// used in an update as sent could smuggle $set/$unset/$rename or
// expression operators into a write (the original only dropped top-level
// "$" keys, §3.2), and a stored "$" field cannot be queried or projected
// reliably afterwards. BSON keys are NUL-terminated C strings, so a NUL in
// a key would truncate it or be refused by the driver after validation
// passed. Rejecting both up front gives the client a clear 400 instead.
func RejectDollarKeys(v any) error {
	return rejectDollar(v, "", 0)
}

func rejectDollar(v any, path string, depth int) error {
	if depth > maxBodyDepth {
		return errs.New(errs.Invalid, "Request body is nested too deeply (at most %d levels).", maxBodyDepth)
	}
	check := func(k string, val any) error {
		p := join(path, k)
		if strings.HasPrefix(k, "$") {
			return errs.New(errs.Invalid, "Field names must not start with \"$\" (found %s).", quote(p))
		}
		if strings.IndexByte(k, 0) >= 0 {
			return errs.New(errs.Invalid, "Field names must not contain a NUL byte (found %s).", quote(strings.ReplaceAll(p, "\x00", `\0`)))
		}
		return rejectDollar(val, p, depth+1)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := check(k, x[k]); err != nil {
				return err
			}
		}
	case bson.M:
		for _, k := range sortedKeys(x) {
			if err := check(k, x[k]); err != nil {
				return err
			}
		}
	case bson.D:
		for _, e := range x {
			if err := check(e.Key, e.Value); err != nil {
				return err
			}
		}
	case []any:
		return rejectDollarList(x, path, depth)
	case bson.A:
		return rejectDollarList(x, path, depth)
	}
	return nil
}

func rejectDollarList(a []any, path string, depth int) error {
	for i, e := range a {
		if err := rejectDollar(e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
			return err
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// sortedKeys returns the keys of m in order, so errors are deterministic.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}
