package query

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
)

// OwnerFilter is the row-level security read filter of §2.6 row 6: the
// owner field equals the user. The user ID is compared in the form the
// owner field is stored (§2.7): a bson.ObjectID when the owner field is
// "_id" or declared Ref (and the ID is a valid ObjectID), otherwise the
// string. AND it with the client's filter (And) for lists, counts and
// get-one; use Pipeline.WithMatch for aggregations.
func OwnerFilter(ownerField, userID string, fields []collections.Field) *Filter {
	var v any = userID
	if kindAt(fields, ownerField) == kindObjectID {
		if id, err := bson.ObjectIDFromHex(userID); err == nil {
			v = id
		}
	}
	return &Filter{Conds: []Cond{{Path: ownerField, Op: Eq, Value: v}}}
}
