// Package principal carries who is making a request on the context: an
// admin of the platform, or (for project APIs) a project key and end user.
package principal

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type adminKey struct{}

// WithAdmin returns a context that carries an authenticated admin's id.
func WithAdmin(ctx context.Context, id bson.ObjectID) context.Context {
	return context.WithValue(ctx, adminKey{}, id)
}

// Admin returns the authenticated admin's id, if any.
func Admin(ctx context.Context) (bson.ObjectID, bool) {
	id, ok := ctx.Value(adminKey{}).(bson.ObjectID)
	return id, ok
}
