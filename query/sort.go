package query

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// SortKey is one field of a sort order.
type SortKey struct {
	Path string
	Desc bool
}

// DefaultSort is the order when none is asked for: newest first (§3.3).
func DefaultSort() []SortKey { return []SortKey{{Path: "createdAt", Desc: true}} }

// ParseSort parses sort parameters. Each value is a comma-separated list
// of specs: "field" or "field:asc|ascending|1" (ascending),
// "field:desc|descending|-1" (descending; case-insensitive) or "-field".
// Empty specs are skipped, repeated parameters are joined, and a field
// named twice keeps its first direction. No specs at all gives
// DefaultSort. A bad direction or field name is an Invalid error.
func ParseSort(params []string) ([]SortKey, error) {
	var keys []SortKey
	seen := map[string]bool{}
	for _, param := range params {
		for spec := range strings.SplitSeq(param, ",") {
			spec = strings.TrimSpace(spec)
			if spec == "" {
				continue
			}
			k, err := parseSortSpec(spec)
			if err != nil {
				return nil, err
			}
			if !seen[k.Path] {
				seen[k.Path] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return DefaultSort(), nil
	}
	return keys, nil
}

func parseSortSpec(spec string) (SortKey, error) {
	var k SortKey
	if rest, ok := strings.CutPrefix(spec, "-"); ok {
		k = SortKey{Path: strings.TrimSpace(rest), Desc: true}
	} else if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		k.Path = strings.TrimSpace(spec[:i])
		switch strings.ToLower(strings.TrimSpace(spec[i+1:])) {
		case "asc", "ascending", "1":
		case "desc", "descending", "-1":
			k.Desc = true
		default:
			return k, errs.New(errs.Invalid, "Invalid sort direction in %s; use asc, desc, 1 or -1.", quote(spec))
		}
	} else {
		k.Path = spec
	}
	if err := ValidatePath(k.Path); err != nil {
		return k, errs.New(errs.Invalid, "Invalid sort %s: %s", quote(spec), errs.ClientMessage(err))
	}
	return k, nil
}

// totalOrder makes an order total: keys up to the first "_id", or all
// keys followed by "_id" in the direction of the last key. Two documents
// never tie, so offset pages and cursors are stable.
func totalOrder(keys []SortKey) []SortKey {
	for i, k := range keys {
		if k.Path == "_id" {
			return keys[:i+1]
		}
	}
	desc := len(keys) > 0 && keys[len(keys)-1].Desc
	return append(keys[:len(keys):len(keys)], SortKey{Path: "_id", Desc: desc})
}

// SortD is the MongoDB sort document of l: Sort made total with an "_id"
// tie-breaker.
func (l *List) SortD() bson.D {
	keys := totalOrder(l.Sort)
	d := make(bson.D, 0, len(keys))
	for _, k := range keys {
		dir := 1
		if k.Desc {
			dir = -1
		}
		d = append(d, bson.E{Key: k.Path, Value: dir})
	}
	return d
}
