package collections

// The built-in users collection: every project has it, admins cannot define
// or drop it, and Ref fields may point to it. The auth API writes it; the
// data API refuses it.

// VerifiedField is the verification flag of a user.
const VerifiedField = "emailVerified"

// UsersFields is the definition of the users collection.
var UsersFields = []Field{
	{Key: "email", Type: String, Required: true, Unique: true, Format: "email"},
	{Key: "password", Type: String, Required: true},
	{Key: "username", Type: String, Unique: true},
	{Key: "name", Type: String},
	{Key: "avatarUrl", Type: String},
	{Key: VerifiedField, Type: Boolean},
	{Key: "githubId", Type: String, Unique: true},
	{Key: "googleId", Type: String, Unique: true},
	{Key: "authProviders", Type: Array, Items: &Field{Type: String}},
}

// Users is the users collection's definition.
func Users() *Collection {
	return &Collection{Name: UsersCollection, Fields: UsersFields, RLS: DefaultRLS()}
}

// UserPublicFields are the fields of a user anyone may see: the public
// profile, and what a Ref to users populates. Never the password hash, the
// e-mail, codes or provider ids.
var UserPublicFields = []string{"_id", "username", "name", "avatarUrl", "createdAt", "updatedAt"}
