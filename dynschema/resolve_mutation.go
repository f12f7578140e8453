package dynschema

import (
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/principal"
)

// mutation resolves a Mutation root field.
func (r *run) mutation(ctx context.Context, name string, args map[string]any) (any, error) {
	rf, ok := r.x.model.roots[ast.Mutation][name]
	if !ok {
		return nil, fmt.Errorf("no resolver for Mutation.%s", name)
	}
	c, err := r.callerFor()
	if err != nil {
		return nil, err
	}
	d := r.x.deps.Data
	var coll string
	if rf.coll != nil {
		coll = rf.coll.name
	}
	switch rf.kind {
	case rootInsert:
		doc, err := d.Insert(ctx, c, coll, docBody(rf.coll, args["doc"]))
		return bsonDoc(doc, err)
	case rootInsertMany:
		return r.insertMany(ctx, c, rf.coll, listArg(args["docs"]))
	case rootUpdate:
		doc, err := d.Update(ctx, c, coll, stringArg(args, "id"), patchBody(rf.coll, args["set"]))
		return bsonDoc(doc, err)
	case rootReplace:
		doc, err := d.Replace(ctx, c, coll, stringArg(args, "id"), docBody(rf.coll, args["doc"]))
		return bsonDoc(doc, err)
	case rootDelete:
		doc, err := d.Delete(ctx, c, coll, stringArg(args, "id"))
		return bsonDoc(doc, err)
	case rootSignUp:
		body := bson.D{}
		for _, k := range []string{"email", "password", "name", "username"} {
			if v, ok := args[k]; ok && v != nil {
				body = append(body, bson.E{Key: k, Value: v})
			}
		}
		res, err := r.x.deps.Auth.SignUp(ctx, c, body, requestFrom(ctx).client())
		if err != nil {
			return nil, err
		}
		return r.authPayload(ctx, c, res.Tokens, res.UserID)
	case rootLogin:
		body := bson.D{{Key: "email", Value: args["email"]}, {Key: "password", Value: args["password"]}}
		t, err := r.x.deps.Auth.Login(ctx, c, body, requestFrom(ctx).client())
		if err != nil {
			return nil, err
		}
		return r.authPayload(ctx, c, t, t.UserID)
	case rootRefresh:
		t, err := r.x.deps.Auth.Refresh(ctx, c, stringArg(args, "refreshToken"), requestFrom(ctx).client())
		if err != nil {
			return nil, err
		}
		return r.authPayload(ctx, c, t, t.UserID)
	case rootUploadFile:
		return r.uploadFile(ctx, c, args)
	case rootDeleteFile:
		return r.deleteFile(ctx, c, args)
	case rootLogout:
		if err := r.x.deps.Auth.Logout(ctx, c, stringArg(args, "refreshToken")); err != nil {
			return nil, err
		}
		return true, nil
	}
	return nil, fmt.Errorf("no resolver for Mutation.%s", name)
}

func bsonDoc[D ~[]bson.E](doc D, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return bson.D(doc), nil
}

// insertMany inserts all documents or none (data.InsertMany) and returns
// them as stored. The documents get their ids here, so that they can be
// read back in one query.
func (r *run) insertMany(ctx context.Context, c *principal.Caller, ci *collInfo, items []any) (any, error) {
	ids := make([]bson.ObjectID, len(items))
	body := make([]any, len(items))
	for i, it := range items {
		ids[i] = bson.NewObjectID()
		doc := docBody(ci, it)
		switch d := doc.(type) {
		case bson.D:
			doc = append(bson.D{{Key: "_id", Value: ids[i]}}, d...)
		case map[string]any:
			m := make(map[string]any, len(d)+1)
			for k, v := range d {
				m[k] = v
			}
			m["_id"] = ids[i]
			doc = m
		}
		body[i] = doc
	}
	if _, err := r.x.deps.Data.InsertMany(ctx, c, ci.name, body); err != nil {
		return nil, err
	}
	found, err := r.x.deps.Data.GetMany(ctx, c, ci.name, ids)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if d, ok := found[id]; ok {
			out = append(out, bson.D(d))
		}
	}
	return out, nil
}

// authPayload is a value of AuthPayload.
type authPayload struct {
	tokens *auth.Tokens // nil: an unverified user got a new code instead
	user   bson.D
}

func (p *authPayload) field(name string) any {
	if p.tokens == nil {
		if name == "user" {
			return p.user
		}
		return nil
	}
	switch name {
	case "accessToken":
		return p.tokens.AccessToken
	case "refreshToken":
		return p.tokens.RefreshToken
	case "expiresIn":
		return p.tokens.ExpiresIn
	case "user":
		return p.user
	}
	return nil
}

// authPayload loads the public profile of the signed-in user.
func (r *run) authPayload(ctx context.Context, c *principal.Caller, t *auth.Tokens, userID string) (any, error) {
	p := &authPayload{tokens: t}
	id, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return p, nil
	}
	users, err := r.x.deps.Data.GetMany(ctx, c, collections.UsersCollection, []bson.ObjectID{id})
	if err != nil {
		return nil, err
	}
	if u, ok := users[id]; ok {
		p.user = bson.D(u)
	}
	return p, nil
}
