package policy

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// Insert applies §2.7 rows 7–12 to an insert or bulk-insert body. body is
// the decoded request body: one document (map[string]any, bson.M or bson.D)
// or a list of them ([]any or bson.A). Every item's owner field is set to
// the user's id as the field stores it (see OwnerValue): injected when
// absent, null or "", kept when it already names the user (as a string),
// refused otherwise. Keys that name the owner field only once whitespace or
// a BOM is trimmed count as the owner field and are removed. Maps are
// changed in place; the body is also returned, with bson.D items replaced.
// A guard that is not restricted returns body unchanged.
// Errors: Forbidden, Invalid.
func (g WriteGuard) Insert(body any) (any, error) {
	if !g.restricted { // row 1
		return body, nil
	}
	if g.ownerField == "_id" { // row 7
		return nil, errs.New(errs.Forbidden, "%s", MsgInsertOwnerID)
	}
	var items []any
	switch b := body.(type) {
	case []any:
		items = b
	case bson.A:
		items = b
	default:
		return g.own(body, 0)
	}
	if len(items) == 0 { // row 8
		return nil, errs.New(errs.Invalid, "%s", MsgEmptyArray)
	}
	for i, item := range items {
		owned, err := g.own(item, i)
		if err != nil {
			return nil, err
		}
		items[i] = owned
	}
	return body, nil
}

// own sets the owner of item i (rows 9–12).
func (g WriteGuard) own(item any, i int) (any, error) {
	switch d := item.(type) {
	case map[string]any:
		if d != nil {
			return d, g.ownMap(d, i)
		}
	case bson.M:
		if d != nil {
			return d, g.ownMap(map[string]any(d), i)
		}
	case bson.D:
		return g.ownD(d, i)
	}
	return nil, errs.New(errs.Invalid, "%s", MsgItemNotObject(i)) // row 9
}

// check is rows 10–11 for one value found under the owner field.
func (g WriteGuard) check(v any, i int) error {
	if blank(v) { // row 10: injected below
		return nil
	}
	if s, ok := stringForm(v); !ok || s != g.userID { // row 11
		return errs.New(errs.Forbidden, "%s", MsgOwnerMismatch(i, g.ownerField))
	}
	return nil // row 12
}

func (g WriteGuard) ownMap(d map[string]any, i int) error {
	var aliases []string
	for k, v := range d {
		if !sameKey(k, g.ownerField) {
			continue
		}
		if err := g.check(v, i); err != nil {
			return err
		}
		if k != g.ownerField {
			aliases = append(aliases, k)
		}
	}
	for _, k := range aliases {
		delete(d, k)
	}
	d[g.ownerField] = g.ownerValue
	return nil
}

func (g WriteGuard) ownD(d bson.D, i int) (bson.D, error) {
	out := make(bson.D, 0, len(d)+1)
	set := false
	for _, e := range d {
		if !sameKey(e.Key, g.ownerField) {
			out = append(out, e)
			continue
		}
		if err := g.check(e.Value, i); err != nil {
			return nil, err
		}
		if e.Key == g.ownerField && !set {
			out = append(out, bson.E{Key: g.ownerField, Value: g.ownerValue})
			set = true
		}
	}
	if !set {
		out = append(out, bson.E{Key: g.ownerField, Value: g.ownerValue})
	}
	return out, nil
}
