package dynschema

import (
	"context"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
)

// Ref fields resolve through a per-request loader. When a list (or a
// single document) of a collection type is completed, prefetch walks the
// selection level by level: at each level it gathers the ids of every
// selected Ref field of every document, nested objects included, and
// loads each referenced collection with one query (data.GetMany, which
// applies the caller's RLS to the target and returns only public
// profiles for users). Completing the Ref fields then reads the cache.
// So a list of 100 posts with author { name } costs two queries, never
// 101; a target the caller may not read, or that is gone, resolves to
// null (and is left out of lists), as REST's populate does.

// maxRefDepth bounds how many levels of references one prefetch follows.
const maxRefDepth = 16

type loader struct {
	mu   sync.Mutex
	docs map[string]map[bson.ObjectID]bson.D // collection → id → document (nil: missing or hidden)
}

func newLoader() *loader { return &loader{docs: map[string]map[bson.ObjectID]bson.D{}} }

// known reports whether id of collection coll was loaded, and its document.
func (l *loader) known(coll string, id bson.ObjectID) (bson.D, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.docs[coll][id]
	return d, ok
}

// fetch loads the ids of each collection that are not known yet: one
// query per collection.
func (l *loader) fetch(ctx context.Context, r *run, want map[string][]bson.ObjectID) error {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, coll := range names {
		var missing []bson.ObjectID
		for _, id := range want[coll] {
			if _, ok := l.known(coll, id); !ok && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || r.caller == nil {
			continue
		}
		found, err := r.x.deps.Data.GetMany(ctx, r.caller, coll, missing)
		if err != nil {
			return err
		}
		l.mu.Lock()
		if l.docs[coll] == nil {
			l.docs[coll] = map[bson.ObjectID]bson.D{}
		}
		for _, id := range missing {
			l.docs[coll][id] = bson.D(found[id])
		}
		l.mu.Unlock()
	}
	return nil
}

// resolve returns the referenced document of a Ref value, or the list of
// documents of an Array of Ref value (missing ones left out).
func (l *loader) resolve(ctx context.Context, r *run, coll string, v any) (any, error) {
	ids := refIDs(v)
	if err := l.fetch(ctx, r, map[string][]bson.ObjectID{coll: ids}); err != nil {
		return nil, err
	}
	if _, isList := asList(v); isList {
		out := []any{}
		for _, id := range ids {
			if d, _ := l.known(coll, id); d != nil {
				out = append(out, d)
			}
		}
		return out, nil
	}
	if len(ids) != 1 {
		return nil, nil
	}
	d, _ := l.known(coll, ids[0])
	if d == nil {
		return nil, nil
	}
	return d, nil
}

// refIDs returns the ids of a Ref value: an ObjectID, its hex string, or
// a list of them.
func refIDs(v any) []bson.ObjectID {
	switch x := v.(type) {
	case bson.ObjectID:
		return []bson.ObjectID{x}
	case string:
		if id, err := bson.ObjectIDFromHex(x); err == nil {
			return []bson.ObjectID{id}
		}
	}
	if items, ok := asList(v); ok {
		var out []bson.ObjectID
		for _, it := range items {
			out = append(out, refIDs(it)...)
		}
		return out
	}
	return nil
}

// refWork is the documents of one type reached at one level, and the
// selection to apply to them.
type refWork struct {
	typ  string
	docs []any
	sel  ast.SelectionSet
}

// pendingRef is a Ref field's targets, to walk at the next level.
type pendingRef struct {
	coll string
	work refWork
	ids  []bson.ObjectID
}

// prefetch loads, level by level, every document the selection sel
// reaches through Ref fields from values of type typ. Load errors are not
// reported here: the Ref fields retry and report them on their paths.
func (r *run) prefetch(ctx context.Context, typ string, values []any, sel ast.SelectionSet) {
	if info := r.x.model.objects[typ]; info == nil || (info.kind != objDoc && info.kind != objNested) {
		return
	}
	level := []refWork{{typ: typ, docs: values, sel: sel}}
	for depth := 0; len(level) > 0 && depth < maxRefDepth; depth++ {
		want := map[string][]bson.ObjectID{}
		var next []pendingRef
		for _, w := range level {
			r.gather(w, want, &next)
		}
		if len(next) == 0 || r.loader.fetch(ctx, r, want) != nil {
			return
		}
		level = level[:0]
		for _, p := range next {
			w := p.work
			for _, id := range p.ids {
				if d, _ := r.loader.known(p.coll, id); d != nil {
					w.docs = append(w.docs, d)
				}
			}
			if len(w.docs) > 0 {
				level = append(level, w)
			}
		}
	}
}

// gather adds the ids the selected Ref fields of w's documents hold
// (nested objects included) to want, and their targets to next.
func (r *run) gather(w refWork, want map[string][]bson.ObjectID, next *[]pendingRef) {
	info := r.x.model.objects[w.typ]
	if info == nil || (info.kind != objDoc && info.kind != objNested) {
		return
	}
	for _, cf := range graphql.CollectFields(r.op, w.sel, []string{w.typ}) {
		f, ok := info.fields[cf.Name]
		if !ok {
			continue
		}
		if target, isRef := refTarget(f); isRef {
			tt, ok := r.x.model.refType(target)
			if !ok {
				continue
			}
			var ids []bson.ObjectID
			for _, d := range w.docs {
				v, _ := lookup(asDoc(d), cf.Name)
				ids = append(ids, refIDs(v)...)
			}
			if len(ids) == 0 {
				continue
			}
			want[target] = append(want[target], ids...)
			*next = append(*next, pendingRef{coll: target, ids: ids, work: refWork{typ: tt, sel: cf.Selections}})
			continue
		}
		if _, nested := nestedFields(f); nested {
			var children []any
			for _, d := range w.docs {
				v, _ := lookup(asDoc(d), cf.Name)
				if items, ok := asList(v); ok {
					children = append(children, items...)
				} else if sub := asDoc(v); sub != nil {
					children = append(children, sub)
				}
			}
			r.gather(refWork{typ: w.typ + collections.TypeName(f.Key), docs: children, sel: cf.Selections}, want, next)
		}
	}
}

func asDoc(v any) bson.D {
	d, _ := v.(bson.D)
	return d
}
