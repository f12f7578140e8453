package policy

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// WriteGuard carries the ownership rules for one write that passed
// CheckWrite. The zero value, which CheckWrite returns for secret keys,
// checks and injects nothing.
type WriteGuard struct {
	restricted bool
	ownerField string
	userID     string
	ownerValue any // the user id as the owner field stores it
}

// Restricted reports whether the write is owner-constrained (publishable
// key); false for the secret key.
func (g WriteGuard) Restricted() bool { return g.restricted }

// OwnerField is the field that holds a document's owner; "" when not
// restricted.
func (g WriteGuard) OwnerField() string { return g.ownerField }

// UserID is the writing end user's id; "" when not restricted.
func (g WriteGuard) UserID() string { return g.userID }

// CheckWrite decides whether p may write (insert, bulk insert, PUT, PATCH,
// DELETE) to c, the collection's definition or nil when it is not defined:
// §2.7 rows 1–6. The guard it returns applies rows 7–18 through Insert and
// Modify. Errors: NotFound, Forbidden, Unauthenticated.
func CheckWrite(p Principal, c *collections.Collection) (WriteGuard, error) {
	if p.IsSecret() { // row 1
		return WriteGuard{}, nil
	}
	if c == nil { // row 2
		return WriteGuard{}, errs.New(errs.NotFound, "%s", MsgCollectionNotFound)
	}
	if !c.RLS.Enabled { // row 3
		return WriteGuard{}, errs.New(errs.Forbidden, "%s", MsgRLSDisabled)
	}
	if c.RLS.RequireAuthForWrite && p.UserID == "" { // row 4
		return WriteGuard{}, errs.New(errs.Unauthenticated, "%s", MsgWriteAuth)
	}
	if !validMode(mode(c.RLS)) { // row 5
		return WriteGuard{}, errs.New(errs.Forbidden, "%s", MsgUnsupportedMode)
	}
	if p.UserID == "" { // row 6
		return WriteGuard{}, errs.New(errs.Unauthenticated, "%s", MsgWriteAuth)
	}
	field := ownerField(c.RLS)
	return WriteGuard{
		restricted: true,
		ownerField: field,
		userID:     p.UserID,
		ownerValue: OwnerValue(c.Fields, field, p.UserID),
	}, nil
}

// OwnerValue is userID as the owner field stores it (§2.7 notes): an
// ObjectID when ownerField is declared as a top-level Ref field (or is
// _id) and userID is 24 hex digits, the string otherwise.
func OwnerValue(fields []collections.Field, ownerField, userID string) any {
	ref := ownerField == "_id"
	for _, f := range fields {
		if sameKey(f.Key, ownerField) {
			ref = f.Type == collections.Ref
			break
		}
	}
	if ref {
		if id, err := bson.ObjectIDFromHex(userID); err == nil {
			return id
		}
	}
	return userID
}

// ParseID parses a document id from a route (§2.7 row 13, §3.6, §3.10,
// §3.11): 24 hex digits. Errors: Invalid.
func ParseID(id string) (bson.ObjectID, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return bson.ObjectID{}, errs.New(errs.Invalid, "%s", MsgInvalidID)
	}
	return oid, nil
}
