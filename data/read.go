package data

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/query"
)

// ListResult is one page of a list.
type ListResult struct {
	Items []Doc
	// Total counts the documents that match the filter and RLS (0 when
	// the query said NoTotal).
	Total int64
	Page  int64
	Limit int64
	// Cursor mode only.
	CursorMode bool
	Cursor     string
	NextCursor *string
}

// regexTimeout bounds queries that use a regular expression (§3.3).
const regexTimeout = 2 * time.Second

// List returns a page of documents the caller may read.
// Errors: Forbidden, NotFound, Unauthenticated (policy), Invalid (query).
func (s *Service) List(ctx context.Context, c *principal.Caller, name string, l *query.List) (*ListResult, error) {
	col, err := target(c, name)
	if err != nil {
		return nil, err
	}
	rf, err := readFilter(c, col)
	if err != nil {
		return nil, err
	}
	cf, err := l.Filter.Mongo()
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.queryContext(ctx, l.Filter)
	defer cancel()
	match := and(cf, rf)
	filter := match
	if cur := l.CursorFilter(); cur != nil {
		curD, err := cur.Mongo()
		if err != nil {
			return nil, err
		}
		filter = and(match, curD)
	}
	coll := s.coll(c, name)
	var total int64
	if !l.NoTotal {
		if total, err = coll.CountDocuments(ctx, match); err != nil {
			return nil, readErr(err, "Failed to fetch data.")
		}
	}
	limit := l.Limit
	if l.Cursor != "" {
		limit++
	}
	opts := options.Find().SetSort(l.SortD()).SetLimit(limit)
	if l.Cursor == "" && l.Skip > 0 {
		opts.SetSkip(l.Skip)
	}
	proj := l.Shape.Projection()
	var extra []string
	if len(proj) > 0 && l.Cursor != "" {
		for _, k := range l.Sort {
			if !slices.ContainsFunc(proj, func(e bson.E) bool { return e.Key == k.Path }) {
				proj = append(proj, bson.E{Key: k.Path, Value: 1})
				extra = append(extra, k.Path)
			}
		}
	}
	if len(proj) > 0 {
		opts.SetProjection(proj)
	}
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	res := &ListResult{Total: total, Page: l.Page, Limit: l.Limit}
	if l.Cursor != "" {
		res.CursorMode, res.Cursor = true, l.Cursor
		if int64(len(docs)) > l.Limit {
			docs = docs[:l.Limit]
			next, err := l.NextCursor(docs[len(docs)-1])
			if err != nil {
				return nil, err
			}
			res.NextCursor = &next
		}
		for i := range docs {
			docs[i] = dropKeys(docs[i], extra)
		}
	}
	if err := s.populate(ctx, c, docs, l.Shape.Populate); err != nil {
		return nil, err
	}
	res.Items = make([]Doc, len(docs))
	for i, d := range docs {
		res.Items[i] = shape(d, &l.Shape)
	}
	return res, nil
}

// Readable returns the collection after the checks every read starts
// with: the users block, the collection's existence and the RLS read rule.
// Errors: Forbidden, NotFound, Unauthenticated.
func (s *Service) Readable(c *principal.Caller, name string) (*collections.Collection, error) {
	col, err := target(c, name)
	if err != nil {
		return nil, err
	}
	if _, err := readFilter(c, col); err != nil {
		return nil, err
	}
	return col, nil
}

// Count returns how many documents match the filter and the caller's RLS.
// Errors: as List.
func (s *Service) Count(ctx context.Context, c *principal.Caller, name string, l *query.List) (int64, error) {
	col, err := target(c, name)
	if err != nil {
		return 0, err
	}
	rf, err := readFilter(c, col)
	if err != nil {
		return 0, err
	}
	cf, err := l.Filter.Mongo()
	if err != nil {
		return 0, err
	}
	ctx, cancel := s.queryContext(ctx, l.Filter)
	defer cancel()
	n, err := s.coll(c, name).CountDocuments(ctx, and(cf, rf))
	if err != nil {
		return 0, readErr(err, "Failed to fetch data.")
	}
	return n, nil
}

// Get returns one document. A document hidden by RLS is NotFound, like a
// missing one. Errors: Forbidden, NotFound, Unauthenticated, Invalid.
func (s *Service) Get(ctx context.Context, c *principal.Caller, name, id string, sh *query.Shape) (Doc, error) {
	// With a publishable key the collection check runs before the id
	// check, with a secret key after it (§3.6).
	if err := policy.CheckCollectionName(name); err != nil {
		return nil, err
	}
	var oid bson.ObjectID
	var err error
	if c.Key == projects.Secret {
		if oid, err = policy.ParseID(id); err != nil {
			return nil, err
		}
	}
	col, err := c.Snapshot.Collection(name)
	if err != nil {
		return nil, err
	}
	rf, err := readFilter(c, col)
	if err != nil {
		return nil, err
	}
	if c.Key != projects.Secret {
		if oid, err = policy.ParseID(id); err != nil {
			return nil, err
		}
	}
	if sh == nil {
		sh = &query.Shape{HideVersion: true}
	}
	ctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	defer cancel()
	opts := options.FindOne()
	if p := sh.Projection(); len(p) > 0 {
		opts.SetProjection(p)
	}
	var doc bson.D
	err = s.coll(c, name).FindOne(ctx, and(bson.D{{Key: "_id", Value: oid}}, rf), opts).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "Document not found.")
	}
	if err != nil {
		return nil, readErr(err, "Failed to fetch data.")
	}
	docs := []bson.D{doc}
	if err := s.populate(ctx, c, docs, sh.Populate); err != nil {
		return nil, err
	}
	return shape(docs[0], sh), nil
}

func (s *Service) queryContext(ctx context.Context, f *query.Filter) (context.Context, context.CancelFunc) {
	if f != nil && f.Uses(query.Regex) {
		return context.WithTimeout(ctx, regexTimeout)
	}
	return context.WithTimeout(ctx, s.QueryTimeout)
}

// shape applies meta=false and the hidden version key.
func shape(d bson.D, sh *query.Shape) Doc {
	var drop []string
	if sh.NoMeta {
		drop = append(drop, "createdAt", "updatedAt", "schemaVersion", "__v")
	} else if sh.HideVersion {
		drop = append(drop, "__v")
	}
	return Doc(dropKeys(d, drop))
}

func dropKeys(d bson.D, keys []string) bson.D {
	if len(keys) == 0 {
		return d
	}
	out := d[:0:0]
	for _, e := range d {
		if !slices.Contains(keys, e.Key) {
			out = append(out, e)
		}
	}
	return out
}
