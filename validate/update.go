package validate

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// Patch is a validated partial update (§3.10): Set for $set, in input
// order, and Unset for $unset (optional unique fields set to null or "").
type Patch struct {
	Set   bson.D
	Unset []string
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool { return len(p.Set) == 0 && len(p.Unset) == 0 }

// Update validates patch, a partial update used by PUT and PATCH, against
// fields (§3.9 update rules). Only the members present are checked: a
// top-level declared field as on insert but without defaults (a required
// one may not be null or ""), a dotted path ("meta.views", "tags.0") that
// reaches a declared field as that nested field; other members are kept as
// sent. _id, createdAt, updatedAt and __v are ignored. Two members that
// would touch the same path are refused. Errors: Invalid.
func Update(fields []collections.Field, patch any) (Patch, error) {
	in, ok := entries(patch)
	if !ok {
		return Patch{}, errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	chosen := choose(fields, in)
	var p Patch
	for i, e := range in {
		segs := strings.Split(e.key, ".")
		if isSystem(segs[0]) {
			continue
		}
		for _, s := range segs {
			if err := checkName(s, e.key, true); err != nil {
				return Patch{}, err
			}
			if s == "" {
				return Patch{}, errs.New(errs.Invalid, "Field '%s' is not a valid path.", e.key)
			}
		}
		if f, ok := find(fields, e.key); ok && len(segs) == 1 {
			if chosen[f.Key] != i {
				continue // a whitespace variant of a key that is also present
			}
			key := trimJS(f.Key)
			val, act, err := declared(f, key, e.val, true, true, false, key)
			if err != nil {
				return Patch{}, err
			}
			switch act {
			case store:
				p.Set = append(p.Set, bson.E{Key: key, Value: val})
			case remove:
				p.Unset = append(p.Unset, key)
			}
			continue
		}
		val, key, err := pathValue(fields, segs, e.val)
		if err != nil {
			return Patch{}, err
		}
		p.Set = append(p.Set, bson.E{Key: key, Value: val})
	}
	if err := checkConflicts(p); err != nil {
		return Patch{}, err
	}
	return p, nil
}

// choose picks, for each declared top-level field, the member that sets
// it: the exact key, else the first whose trimmed key matches.
func choose(fields []collections.Field, in []entry) map[string]int {
	byKey := make(map[string][]int, len(in))
	for i, e := range in {
		k := trimJS(e.key)
		byKey[k] = append(byKey[k], i)
	}
	chosen := make(map[string]int, len(fields))
	for _, f := range fields {
		chosen[f.Key] = pick(in, byKey[trimJS(f.Key)], trimJS(f.Key))
	}
	return chosen
}

// find returns the field whose trimmed key is key, trimmed.
func find(fields []collections.Field, key string) (collections.Field, bool) {
	key = trimJS(key)
	for _, f := range fields {
		if trimJS(f.Key) == key {
			return f, true
		}
	}
	return collections.Field{}, false
}

func isSystem(key string) bool {
	return key == "_id" || key == "createdAt" || key == "updatedAt" || key == "__v"
}

// pathValue validates the value of a member whose key is a dotted path:
// as the declared field it reaches, else as sent. It returns the value and
// the path with declared keys trimmed.
func pathValue(fields []collections.Field, segs []string, v any) (any, string, error) {
	f, name, err := resolve(fields, segs)
	key := strings.Join(segs, ".")
	if err != nil {
		return nil, "", err
	}
	if f == nil {
		val, err := plain(v, key)
		return val, key, err
	}
	val, _, err := declared(*f, name, v, true, false, false, key)
	return val, key, err
}

// resolve follows a dotted path through declared Object fields and Array
// items (a numeric segment indexes an array). It returns the field the
// path reaches and its name in messages, or nil when the path leaves the
// declared fields. Declared segments in segs are replaced by their keys.
func resolve(fields []collections.Field, segs []string) (*collections.Field, string, error) {
	fs := fields
	for i := 0; i < len(segs); i++ {
		f, ok := find(fs, segs[i])
		if !ok {
			return nil, "", nil
		}
		segs[i] = trimJS(f.Key)
		name := segs[i]
		if f.Type == collections.Array && i+1 < len(segs) {
			if !isIndex(segs[i+1]) {
				return nil, "", errs.New(errs.Invalid, "Field '%s' cannot be set: '%s' is an Array.", strings.Join(segs, "."), strings.Join(segs[:i+1], "."))
			}
			if f.Items == nil {
				return nil, "", nil
			}
			name += "[" + segs[i+1] + "]"
			i++
			f = *f.Items
		}
		if i == len(segs)-1 {
			return &f, name, nil
		}
		if f.Type != collections.Object {
			return nil, "", errs.New(errs.Invalid, "Field '%s' cannot be set: '%s' is a %s.", strings.Join(segs, "."), strings.Join(segs[:i+1], "."), f.Type)
		}
		fs = f.Fields
	}
	return nil, "", nil
}

func isIndex(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// checkConflicts refuses two members that touch the same path or a path
// and one inside it, which MongoDB would refuse.
func checkConflicts(p Patch) error {
	paths := make(map[string]bool, len(p.Set)+len(p.Unset))
	all := make([]string, 0, len(p.Set)+len(p.Unset))
	for _, e := range p.Set {
		all = append(all, e.Key)
	}
	all = append(all, p.Unset...)
	for _, k := range all {
		if paths[k] {
			return conflict(k, k)
		}
		paths[k] = true
	}
	for _, k := range all {
		for i := range len(k) {
			if k[i] == '.' && paths[k[:i]] {
				return conflict(k, k[:i])
			}
		}
	}
	return nil
}

func conflict(path, at string) error {
	return errs.New(errs.Invalid, "Updating the path '%s' would create a conflict at '%s'", path, at)
}
