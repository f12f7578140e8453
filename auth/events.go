package auth

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/principal"
)

// AddEmitter registers a receiver of account changes: users.insert on
// sign-up (also social), users.update on profile changes and e-mail
// verification, users.delete when the admin deletes a user. Webhooks
// receive them like data events; the document never holds the password
// hash.
func (s *Service) AddEmitter(e data.Emitter) { s.emitters = append(s.emitters, e) }

// userFields are what an account event carries.
var userFields = bson.D{
	{Key: "_id", Value: 1}, {Key: "email", Value: 1}, {Key: "username", Value: 1}, {Key: "name", Value: 1},
	{Key: "avatarUrl", Value: 1}, {Key: VerifiedField, Value: 1}, {Key: "authProviders", Value: 1},
	{Key: "createdAt", Value: 1}, {Key: "updatedAt", Value: 1},
}

// emitUser sends an account event with the user as stored now (or doc,
// for deletes).
func (s *Service) emitUser(ctx context.Context, c *principal.Caller, op data.Op, id bson.ObjectID, doc bson.D) {
	if len(s.emitters) == 0 {
		return
	}
	if doc == nil {
		users, err := s.users(ctx, c)
		if err != nil {
			return
		}
		if err := users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(userFields)).Decode(&doc); err != nil {
			s.logger.Warn("load user for event", "err", err)
			return
		}
	}
	ev := data.Event{ProjectID: c.Snapshot.Project.ID, Collection: UsersCollection, Op: op, ID: id, Doc: data.Doc(withoutSecrets(doc))}
	for _, e := range s.emitters {
		e.Emit(context.WithoutCancel(ctx), ev)
	}
}
