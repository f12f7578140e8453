package data

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// populate replaces the ObjectIDs at each populate path of docs with the
// referenced documents: one query per referenced collection per call,
// never one per document. Missing targets, and targets the caller may not
// read, become null (single) or are left out (arrays).
func (s *Service) populate(ctx context.Context, c *principal.Caller, docs []bson.D, pops []query.Populate) error {
	if len(pops) == 0 || len(docs) == 0 {
		return nil
	}
	// Collect the ids per target collection.
	ids := map[string][]bson.ObjectID{}
	for _, p := range pops {
		for i := range docs {
			visit(docs[i], strings.Split(p.Path, "."), func(v any) any {
				for _, id := range objectIDs(v) {
					ids[p.Collection] = append(ids[p.Collection], id)
				}
				return v
			})
		}
	}
	// One query per target collection.
	found := map[string]map[bson.ObjectID]bson.D{}
	for coll, list := range ids {
		m, err := s.fetchTargets(ctx, c, coll, dedupe(list))
		if err != nil {
			return err
		}
		found[coll] = m
	}
	for _, p := range pops {
		m := found[p.Collection]
		for i := range docs {
			docs[i] = visit(docs[i], strings.Split(p.Path, "."), func(v any) any {
				return replaceRefs(v, m)
			}).(bson.D)
		}
	}
	return nil
}

// GetMany returns the documents of collection name with the given ids that
// the caller may read, by id, in one query: for users only the public
// profile fields. A collection the caller may not read, or that is not
// defined, yields none, as populate does. Errors: Internal, Unavailable.
func (s *Service) GetMany(ctx context.Context, c *principal.Caller, name string, ids []bson.ObjectID) (map[bson.ObjectID]Doc, error) {
	ctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	defer cancel()
	found, err := s.fetchTargets(ctx, c, name, dedupe(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[bson.ObjectID]Doc, len(found))
	for id, d := range found {
		out[id] = Doc(d)
	}
	return out, nil
}

func (s *Service) fetchTargets(ctx context.Context, c *principal.Caller, name string, ids []bson.ObjectID) (map[bson.ObjectID]bson.D, error) {
	out := map[bson.ObjectID]bson.D{}
	if len(ids) == 0 {
		return out, nil
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	opts := options.Find()
	if name == collections.UsersCollection {
		// A user populates as its public profile only.
		proj := bson.D{}
		for _, f := range collections.UserPublicFields {
			proj = append(proj, bson.E{Key: f, Value: 1})
		}
		opts.SetProjection(proj)
	} else {
		col, err := c.Snapshot.Collection(name)
		if err != nil {
			return out, nil // the target collection is gone: nothing resolves
		}
		rf, err := readFilter(c, col)
		if err != nil {
			return out, nil // the caller may not read it: nothing resolves
		}
		filter = and(filter, rf)
	}
	cur, err := s.coll(c, name).Find(ctx, filter, opts)
	if err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	var list []bson.D
	if err := cur.All(ctx, &list); err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	for _, d := range list {
		if id, ok := Doc(d).Get("_id"); ok {
			if oid, ok := id.(bson.ObjectID); ok {
				out[oid] = d
			}
		}
	}
	return out, nil
}

// visit calls fn on the value at path inside v, descending through
// documents and arrays, and returns v with fn's results put back.
func visit(v any, path []string, fn func(any) any) any {
	if len(path) == 0 {
		return fn(v)
	}
	switch x := v.(type) {
	case bson.D:
		for i := range x {
			if x[i].Key == path[0] {
				x[i].Value = visit(x[i].Value, path[1:], fn)
			}
		}
		return x
	case bson.A:
		for i := range x {
			x[i] = visit(x[i], path, fn)
		}
		return x
	case []any:
		for i := range x {
			x[i] = visit(x[i], path, fn)
		}
		return x
	}
	return v
}

func objectIDs(v any) []bson.ObjectID {
	switch x := v.(type) {
	case bson.ObjectID:
		return []bson.ObjectID{x}
	case string:
		if id, err := bson.ObjectIDFromHex(x); err == nil {
			return []bson.ObjectID{id}
		}
	case bson.A:
		var out []bson.ObjectID
		for _, e := range x {
			out = append(out, objectIDs(e)...)
		}
		return out
	}
	return nil
}

// replaceRefs swaps an id for its document (null when missing), or in an
// array each id for its document (dropping missing ones).
func replaceRefs(v any, m map[bson.ObjectID]bson.D) any {
	if a, ok := v.(bson.A); ok {
		out := bson.A{}
		for _, e := range a {
			ids := objectIDs(e)
			if len(ids) == 1 {
				if d, ok := m[ids[0]]; ok {
					out = append(out, d)
				}
				continue
			}
			out = append(out, e)
		}
		return out
	}
	ids := objectIDs(v)
	if len(ids) != 1 {
		return v
	}
	if d, ok := m[ids[0]]; ok {
		return d
	}
	return nil
}

func dedupe(ids []bson.ObjectID) []bson.ObjectID {
	seen := map[bson.ObjectID]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
