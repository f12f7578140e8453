package data

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/validate"
)

// writeTarget applies the users block and §2.7 rows 1–6, and finds the
// collection. Errors: Forbidden, NotFound, Unauthenticated.
func writeTarget(c *principal.Caller, name string) (*collections.Collection, policy.WriteGuard, error) {
	if err := policy.CheckCollectionName(name); err != nil {
		return nil, policy.WriteGuard{}, err
	}
	col, err := c.Snapshot.Collection(name)
	if err != nil && c.Key == projects.Secret {
		return nil, policy.WriteGuard{}, err
	}
	if err != nil {
		col = nil
	}
	guard, err := policy.CheckWrite(c.Policy(), col)
	if err != nil {
		return nil, guard, err
	}
	return col, guard, nil
}

// stamp completes a validated document: an _id when the client sent none,
// createdAt (the client's, else now), updatedAt and __v.
func (s *Service) stamp(d bson.D) (bson.D, bson.ObjectID) {
	var id bson.ObjectID
	var created any
	out := make(bson.D, 0, len(d)+4)
	for _, e := range d {
		switch e.Key {
		case "_id":
			id, _ = e.Value.(bson.ObjectID)
		case "createdAt":
			created = e.Value
		default:
			out = append(out, e)
		}
	}
	if id.IsZero() {
		id = bson.NewObjectID()
	}
	if created == nil {
		created = s.timestamp()
	}
	out = append(bson.D{{Key: "_id", Value: id}}, out...)
	out = append(out, bson.E{Key: "createdAt", Value: created}, bson.E{Key: "updatedAt", Value: created}, bson.E{Key: "__v", Value: int32(0)})
	return out, id
}

// Insert stores one document and returns it as stored.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid, Conflict.
func (s *Service) Insert(ctx context.Context, c *principal.Caller, name string, body any) (Doc, error) {
	col, guard, err := writeTarget(c, name)
	if err != nil {
		return nil, err
	}
	// The RLS item checks (§2.7 rows 7–12) come first: an empty array or
	// a non-object item is reported as the contract says (§3.7 order).
	if body, err = guard.Insert(body); err != nil {
		return nil, err
	}
	if !isObject(body) {
		return nil, errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	doc, err := validate.Insert(col.Fields, body)
	if err != nil {
		return nil, err
	}
	doc, id := s.stamp(doc)
	if _, err := s.coll(c, name).InsertOne(ctx, doc); err != nil {
		return nil, writeErr(err, "Failed to insert data.")
	}
	s.emit(ctx, c, name, OpInsert, id, Doc(doc))
	return Doc(doc), nil
}

// InsertMany stores 1 to 100 documents, all or nothing: every item is
// validated first, and when the database refuses one midway the documents
// this call inserted are removed again. It returns how many were inserted.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid, Conflict.
func (s *Service) InsertMany(ctx context.Context, c *principal.Caller, name string, body any) (int, error) {
	col, guard, err := writeTarget(c, name)
	if err != nil {
		return 0, err
	}
	if body, err = guard.Insert(body); err != nil {
		return 0, err
	}
	docs, err := validate.InsertMany(col.Fields, body)
	if err != nil {
		return 0, err
	}
	ids := make([]bson.ObjectID, len(docs))
	all := make([]any, len(docs))
	for i := range docs {
		docs[i], ids[i] = s.stamp(docs[i])
		all[i] = docs[i]
	}
	coll := s.coll(c, name)
	if _, err := coll.InsertMany(ctx, all, options.InsertMany().SetOrdered(true)); err != nil {
		// No transactions on every engine: undo by id what went in. An
		// ordered insert stops at its first failed document, so only the
		// ones before it are ours; the failed one may carry the _id of an
		// existing document, which must survive.
		undo := ids
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) {
			for _, we := range bwe.WriteErrors {
				if we.Index >= 0 && we.Index < len(undo) {
					undo = undo[:we.Index]
				}
			}
		}
		if len(undo) > 0 {
			if _, derr := coll.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: undo}}}}); derr != nil {
				s.logger.Error("bulk insert rollback failed", "collection", name, "err", derr)
			}
		}
		return 0, writeErr(err, "Failed to insert bulk data")
	}
	for i := range docs {
		s.emit(ctx, c, name, OpInsert, ids[i], Doc(docs[i]))
	}
	return len(docs), nil
}

// Update applies a partial update ($set of the body's keys; PUT and PATCH
// alike) and returns the document after it.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid, Conflict.
func (s *Service) Update(ctx context.Context, c *principal.Caller, name, id string, body any) (Doc, error) {
	col, filter, err := s.owned(ctx, c, name, id, body)
	if err != nil {
		return nil, err
	}
	patch, err := validate.Update(col.Fields, body)
	if err != nil {
		return nil, err
	}
	set := append(patch.Set, bson.E{Key: "updatedAt", Value: s.timestamp()})
	update := bson.D{{Key: "$set", Value: set}}
	if len(patch.Unset) > 0 {
		unset := bson.D{}
		for _, k := range patch.Unset {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	var doc bson.D
	err = s.coll(c, name).FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "Document not found.")
	}
	if err != nil {
		return nil, writeErr(err, "Failed to update data.")
	}
	oid, _ := filter[0].Value.(bson.ObjectID)
	s.emit(ctx, c, name, OpUpdate, oid, Doc(doc))
	return Doc(doc), nil
}

// Replace replaces a document's fields with body, validated as a full
// document like an insert: fields left out are removed (or take their
// defaults), _id and createdAt are kept, updatedAt is set. The policy
// checks are Update's; under RLS the owner may not change, and an owner
// field left out of body keeps its stored value.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid, Conflict.
func (s *Service) Replace(ctx context.Context, c *principal.Caller, name, id string, body any) (Doc, error) {
	col, filter, err := s.owned(ctx, c, name, id, body)
	if err != nil {
		return nil, err
	}
	var stored bson.D
	err = s.coll(c, name).FindOne(ctx, filter).Decode(&stored)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "Document not found.")
	}
	if err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	if len(filter) > 1 { // owner-constrained: keep the owner
		body = withOwner(body, filter[1])
	}
	doc, err := validate.Insert(col.Fields, body)
	if err != nil {
		return nil, err
	}
	repl := make(bson.D, 0, len(doc)+3)
	for _, e := range doc {
		if e.Key != "_id" && e.Key != "createdAt" {
			repl = append(repl, e)
		}
	}
	if v, ok := Doc(stored).Get("createdAt"); ok {
		repl = append(repl, bson.E{Key: "createdAt", Value: v})
	}
	repl = append(repl, bson.E{Key: "updatedAt", Value: s.timestamp()})
	if v, ok := Doc(stored).Get("__v"); ok {
		repl = append(repl, bson.E{Key: "__v", Value: v})
	}
	var out bson.D
	err = s.coll(c, name).FindOneAndReplace(ctx, filter, repl, options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "Document not found.")
	}
	if err != nil {
		return nil, writeErr(err, "Failed to update data.")
	}
	oid, _ := filter[0].Value.(bson.ObjectID)
	s.emit(ctx, c, name, OpUpdate, oid, Doc(out))
	return Doc(out), nil
}

// withOwner returns body with the owner entry added when body has no
// member of that name.
func withOwner(body any, owner bson.E) any {
	switch b := body.(type) {
	case bson.D:
		if _, ok := Doc(b).Get(owner.Key); !ok {
			return append(b[:len(b):len(b)], owner)
		}
	case map[string]any:
		if _, ok := b[owner.Key]; !ok {
			m := make(map[string]any, len(b)+1)
			for k, v := range b {
				m[k] = v
			}
			m[owner.Key] = owner.Value
			return m
		}
	}
	return body
}

// Delete removes a document and returns it as it was.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid.
func (s *Service) Delete(ctx context.Context, c *principal.Caller, name, id string) (Doc, error) {
	_, filter, err := s.owned(ctx, c, name, id, nil)
	if err != nil {
		return nil, err
	}
	var doc bson.D
	err = s.coll(c, name).FindOneAndDelete(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "Document not found.")
	}
	if err != nil {
		return nil, writeErr(err, "Failed to delete data.")
	}
	oid, _ := filter[0].Value.(bson.ObjectID)
	s.emit(ctx, c, name, OpDelete, oid, Doc(doc))
	return Doc(doc), nil
}

// owned runs the checks an update or delete shares (§2.7 rows 1–6 and
// 13–18, §3.10, §3.11) and returns the filter that addresses the document:
// its _id, and for owner-constrained writes the owner as it was read, so a
// concurrent change of owner cannot slip through.
func (s *Service) owned(ctx context.Context, c *principal.Caller, name, id string, body any) (*collections.Collection, bson.D, error) {
	if c.Key == projects.Secret {
		// Without RLS the id is checked before the collection (§3.10,
		// §3.11), after the users block.
		if err := policy.CheckCollectionName(name); err != nil {
			return nil, nil, err
		}
		if _, err := policy.ParseID(id); err != nil {
			return nil, nil, err
		}
	}
	col, guard, err := writeTarget(c, name)
	if err != nil {
		return nil, nil, err
	}
	oid, err := policy.ParseID(id)
	if err != nil {
		return nil, nil, err
	}
	if col == nil { // a secret key on an undefined collection was refused above
		return nil, nil, errs.New(errs.NotFound, "Collection not found")
	}
	if body != nil && !isObject(body) {
		return nil, nil, errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	filter := bson.D{{Key: "_id", Value: oid}}
	if !guard.Restricted() {
		return col, filter, nil
	}
	var stored bson.D
	err = s.coll(c, name).FindOne(ctx, filter).Decode(&stored)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil, readErr(err, "Failed to fetch data.")
	}
	var current any
	if err == nil {
		current = Doc(stored)
	}
	if err := guard.Modify(current, body); err != nil {
		return nil, nil, err
	}
	owner, _ := Doc(stored).Get(guard.OwnerField())
	return col, append(filter, bson.E{Key: guard.OwnerField(), Value: owner}), nil
}

func isObject(v any) bool {
	switch v.(type) {
	case bson.D, bson.M, map[string]any:
		return true
	}
	return false
}
