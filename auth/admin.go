package auth

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
)

// UserSummary is an end user as the admin sees it: never the password
// hash.
type UserSummary struct {
	ID            bson.ObjectID `bson:"_id"`
	Email         string        `bson:"email"`
	Username      string        `bson:"username,omitempty"`
	Name          string        `bson:"name,omitempty"`
	EmailVerified bool          `bson:"emailVerified"`
	AuthProviders []string      `bson:"authProviders,omitempty"`
	CreatedAt     time.Time     `bson:"createdAt"`
}

// ListUsers returns a page of a project's users, newest first; search
// matches the e-mail, username or name (case-insensitive, literal).
// For the admin API: the caller must hold the secret key's rights.
// Errors: Forbidden.
func (s *Service) ListUsers(ctx context.Context, c *principal.Caller, search string, limit, skip int64) ([]UserSummary, int64, error) {
	if !c.Policy().IsSecret() {
		return nil, 0, errs.New(errs.Forbidden, "Forbidden. This action requires a Secret Key (sk_live_...).")
	}
	users, err := s.users(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	filter := bson.D{}
	if search = strings.TrimSpace(search); search != "" {
		re := bson.Regex{Pattern: regexp.QuoteMeta(search), Options: "i"}
		filter = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "email", Value: re}}, bson.D{{Key: "username", Value: re}}, bson.D{{Key: "name", Value: re}},
		}}}
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	total, err := users.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, "Failed to list users.")
	}
	cur, err := users.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetSkip(max(skip, 0)).SetLimit(limit).
		SetProjection(bson.D{{Key: "password", Value: 0}}))
	if err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, "Failed to list users.")
	}
	var out []UserSummary
	if err := cur.All(ctx, &out); err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, "Failed to list users.")
	}
	return out, total, nil
}

// RevokeSessions revokes every refresh session of a user. Errors:
// Forbidden, Invalid.
func (s *Service) RevokeSessions(ctx context.Context, c *principal.Caller, userID string) error {
	if !c.Policy().IsSecret() {
		return errs.New(errs.Forbidden, "Forbidden. This action requires a Secret Key (sk_live_...).")
	}
	id, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return errs.New(errs.Invalid, "Invalid ID format.")
	}
	return s.revokeUser(ctx, c.Snapshot.Project.ID, id, "")
}

// DeleteUser deletes a user and revokes their sessions. Errors: Forbidden,
// Invalid, NotFound.
func (s *Service) DeleteUser(ctx context.Context, c *principal.Caller, userID string) error {
	if err := s.RevokeSessions(ctx, c, userID); err != nil {
		return err
	}
	id, _ := bson.ObjectIDFromHex(userID)
	users, err := s.users(ctx, c)
	if err != nil {
		return err
	}
	// Read the account first (the embedded database cannot project in
	// findAndModify), then delete it.
	var gone bson.D
	err = users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(userFields)).Decode(&gone)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errs.New(errs.NotFound, "User not found")
	}
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to delete the user.")
	}
	res, err := users.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return errs.Wrap(errs.Internal, err, "Failed to delete the user.")
	}
	if res.DeletedCount == 0 {
		return errs.New(errs.NotFound, "User not found")
	}
	s.emitUser(ctx, c, data.OpDelete, id, gone)
	return nil
}
