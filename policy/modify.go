package policy

import (
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// Modify applies §2.7 rows 14–18 to a PUT, PATCH or DELETE whose id was
// parsed with ParseID (row 13). stored is the document as stored
// (map[string]any, bson.M, bson.D, bson.Raw or a type with a
// Get(key) (any, bool) method such as data.Doc; nil when there is none) and
// patch the update body (same shapes; nil for a delete). A missing document
// is NotFound for every key; a guard that is not restricted checks nothing
// else. The owner may not change (row 16, checked before row 17): a patch
// key naming the owner field with a different value, or a dotted path into
// it, is refused. Errors: NotFound, Forbidden.
func (g WriteGuard) Modify(stored, patch any) error {
	if isNil(stored) { // row 14
		return errs.New(errs.NotFound, "%s", MsgDocumentNotFound)
	}
	if !g.restricted { // row 1
		return nil
	}
	if g.ownerField == "_id" { // row 15
		id, _ := lookup(stored, "_id")
		if !g.isUser(id) {
			return errs.New(errs.Forbidden, "%s", MsgNotYourDocument)
		}
	}
	owner, hasOwner := lookup(stored, g.ownerField)
	for _, k := range keys(patch) { // row 16
		head, _, dotted := strings.Cut(k, ".")
		switch {
		case sameKey(k, g.ownerField):
			v, _ := lookup(patch, k)
			if !hasOwner || !sameForm(v, owner) {
				return errs.New(errs.Forbidden, "%s", MsgOwnerImmutable(g.ownerField))
			}
		case dotted && sameKey(head, g.ownerField):
			return errs.New(errs.Forbidden, "%s", MsgOwnerImmutable(g.ownerField))
		}
	}
	if !hasOwner || !g.isUser(owner) { // row 17
		return errs.New(errs.Forbidden, "%s", MsgNotYourDocument)
	}
	return nil // row 18
}

// isUser reports whether a stored owner value names the guard's user.
func (g WriteGuard) isUser(v any) bool {
	s, ok := stringForm(v)
	return ok && v != nil && s == g.userID
}

// sameForm compares two values as JavaScript's String() would, except
// that objects and arrays never compare equal.
func sameForm(a, b any) bool {
	sa, okA := stringForm(a)
	sb, okB := stringForm(b)
	return okA && okB && sa == sb
}

func isNil(doc any) bool {
	switch d := doc.(type) {
	case nil:
		return true
	case map[string]any:
		return d == nil
	case bson.M:
		return d == nil
	case bson.D:
		return d == nil
	case bson.Raw:
		return d == nil
	}
	v := reflect.ValueOf(doc) // a named document type such as data.Doc
	return (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil()
}
