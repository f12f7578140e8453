package policy

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// OwnerFilter restricts reads to one owner: documents whose Field holds
// UserID. The zero value restricts nothing.
type OwnerFilter struct {
	Field  string
	UserID string
}

// IsZero reports whether f restricts nothing.
func (f OwnerFilter) IsZero() bool { return f.Field == "" }

// Values are the stored forms that count as UserID: the string, and the
// ObjectID when UserID is 24 hex digits. Owners are compared on string
// forms (§2.7 notes), so a filter must match both: an owner field declared
// Ref stores ObjectIDs, any other stores strings, and legacy data may mix.
// Nil for the zero filter.
func (f OwnerFilter) Values() []any {
	if f.IsZero() {
		return nil
	}
	vals := []any{f.UserID}
	if id, err := bson.ObjectIDFromHex(f.UserID); err == nil {
		vals = append(vals, id)
	}
	return vals
}

// BSON is the filter to AND into every query (and to prepend as $match to
// aggregations): {Field: {$in: Values()}}, or an empty document, which
// matches everything, for the zero filter.
func (f OwnerFilter) BSON() bson.D {
	if f.IsZero() {
		return bson.D{}
	}
	return bson.D{{Key: f.Field, Value: bson.D{{Key: "$in", Value: bson.A(f.Values())}}}}
}

// Matches reports whether doc (map[string]any, bson.M, bson.D, bson.Raw or
// a type with a Get(key) (any, bool) method) passes the filter, comparing string forms. It decides which change events
// a subscriber may see. The zero filter matches every document.
func (f OwnerFilter) Matches(doc any) bool {
	if f.IsZero() {
		return true
	}
	v, ok := lookup(doc, f.Field)
	if !ok {
		return false
	}
	s, ok := stringForm(v)
	return ok && v != nil && s == f.UserID
}

// Read decides a read (list, count, get one, aggregate) by p on c, the
// collection's definition or nil when it is not defined (§2.6). It returns
// the owner filter to AND into every query; the zero filter means no
// restriction. A secret key is always allowed (the caller reports a missing
// collection). Errors: NotFound, Unauthenticated, Forbidden.
func Read(p Principal, c *collections.Collection) (OwnerFilter, error) {
	if p.IsSecret() { // row 1
		return OwnerFilter{}, nil
	}
	if c == nil { // row 2
		return OwnerFilter{}, errs.New(errs.NotFound, "%s", MsgCollectionNotFound)
	}
	if !c.RLS.Enabled { // row 3
		return OwnerFilter{}, nil
	}
	switch mode(c.RLS) {
	case collections.PublicRead, collections.OwnerWriteOnly: // row 4
		return OwnerFilter{}, nil
	case collections.Private:
		if p.UserID == "" { // row 5
			return OwnerFilter{}, errs.New(errs.Unauthenticated, "%s", MsgPrivateReadAuth)
		}
		return OwnerFilter{Field: ownerField(c.RLS), UserID: p.UserID}, nil // row 6
	}
	return OwnerFilter{}, errs.New(errs.Forbidden, "%s", MsgUnsupportedMode) // row 7
}

// mode is the RLS mode with the contract's default for a missing one.
func mode(r collections.RLS) string {
	if r.Mode == "" {
		return collections.PublicRead
	}
	return r.Mode
}

// ownerField is the owner field with the contract's default for a missing
// one.
func ownerField(r collections.RLS) string {
	if r.OwnerField == "" {
		return "userId"
	}
	return r.OwnerField
}

func validMode(m string) bool {
	return m == collections.PublicRead || m == collections.Private || m == collections.OwnerWriteOnly
}
