package auth

import (
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// UsersCollection holds a project's end users.
const UsersCollection = collections.UsersCollection

// VerifiedField is the verification flag of a user.
const VerifiedField = collections.VerifiedField

// UsersFields is the built-in definition of the users collection.
var UsersFields = collections.UsersFields

// PublicFields are the fields of a user anyone may see.
var PublicFields = collections.UserPublicFields

// privileged fields are set only by the server: a user cannot change them
// through update-profile.
var privileged = []string{"_id", "email", "password", VerifiedField, "githubId", "googleId", "authProviders", "createdAt", "updatedAt", "__v"}

func usersIndexes() []mongo.IndexModel {
	var out []mongo.IndexModel
	for _, k := range []string{"email", "username", "githubId", "googleId"} {
		out = append(out, mongo.IndexModel{
			Keys:    bson.D{{Key: k, Value: 1}},
			Options: options.Index().SetUnique(true).SetSparse(true).SetName("ub_unique_" + k),
		})
	}
	return out
}

// user is a stored end user.
type user struct {
	ID       bson.ObjectID `bson:"_id"`
	Email    string        `bson:"email"`
	Password string        `bson:"password"`
	Username string        `bson:"username,omitempty"`
	Verified bool          `bson:"emailVerified"`
}

func findUser(ctx context.Context, coll *mongo.Collection, filter bson.D) (*user, error) {
	var u user
	err := coll.FindOne(ctx, filter).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to load user.")
	}
	return &u, nil
}

// withoutSecrets drops the password hash from a stored user document.
func withoutSecrets(d bson.D) bson.D {
	out := d[:0:0]
	for _, e := range d {
		if e.Key != "password" {
			out = append(out, e)
		}
	}
	return out
}

// isPrivileged reports whether key, or the field a dotted key reaches
// into ("authProviders.0"), is set only by the server.
func isPrivileged(key string) bool {
	k, _, _ := strings.Cut(strings.TrimSpace(key), ".")
	k = strings.TrimSpace(k)
	for _, p := range privileged {
		if strings.EqualFold(k, p) {
			return true
		}
	}
	return false
}

// passwordBytes is what bcrypt hashes: the first 72 bytes of the password,
// as the original's bcryptjs does (Go's bcrypt refuses longer input, and
// passwords may be 100 characters).
func passwordBytes(pw string) []byte {
	b := []byte(pw)
	if len(b) > 72 {
		b = b[:72]
	}
	return b
}
