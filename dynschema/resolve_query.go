package dynschema

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
)

// errIntrospection answers __schema and __type when introspection is off.
var errIntrospection = errs.New(errs.Forbidden, "introspection disabled")

// callerFor returns the caller of the operation. Errors: Unauthenticated
// when the transport put none on the context.
func (r *run) callerFor() (*principal.Caller, error) {
	if r.caller == nil {
		return nil, errs.New(errs.Unauthenticated, "API key not found")
	}
	return r.caller, nil
}

// query resolves a Query root field.
func (r *run) query(ctx context.Context, name string, args map[string]any) (any, error) {
	switch name {
	case "__schema":
		if r.op.DisableIntrospection {
			return nil, errIntrospection
		}
		return introspection.WrapSchema(r.x.schema), nil
	case "__type":
		if r.op.DisableIntrospection {
			return nil, errIntrospection
		}
		return introspection.WrapTypeFromDef(r.x.schema, r.x.schema.Types[stringArg(args, "name")]), nil
	}
	rf, ok := r.x.model.roots[ast.Query][name]
	if !ok {
		return nil, fmt.Errorf("no resolver for Query.%s", name)
	}
	c, err := r.callerFor()
	if err != nil {
		return nil, err
	}
	d := r.x.deps.Data
	switch rf.kind {
	case rootMe:
		doc, err := r.x.deps.Auth.Me(ctx, c, requestFrom(ctx).Authorization)
		if err != nil {
			return nil, err
		}
		return doc, nil
	case rootList:
		l, err := listQuery(rf.coll, args, false)
		if err != nil {
			return nil, err
		}
		res, err := d.List(ctx, c, rf.coll.name, l)
		if err != nil {
			return nil, err
		}
		return docList(res.Items), nil
	case rootByID:
		doc, err := d.Get(ctx, c, rf.coll.name, stringArg(args, "id"), nil)
		if errs.Is(err, errs.NotFound) && errs.ClientMessage(err) == policy.MsgDocumentNotFound {
			return nil, nil // missing or not visible
		}
		if err != nil {
			return nil, err
		}
		return bson.D(doc), nil
	case rootCount:
		l, err := listQuery(rf.coll, args, false)
		if err != nil {
			return nil, err
		}
		return d.Count(ctx, c, rf.coll.name, l)
	case rootFiles:
		return r.listFiles(ctx, c, args)
	case rootPage:
		l, err := listQuery(rf.coll, args, true)
		if err != nil {
			return nil, err
		}
		res, err := d.List(ctx, c, rf.coll.name, l)
		if err != nil {
			return nil, err
		}
		p := &page{items: docList(res.Items), hasNext: res.NextCursor != nil}
		if n := len(res.Items); n > 0 {
			cur, err := l.NextCursor(bson.D(res.Items[n-1]))
			if err != nil {
				return nil, err
			}
			p.endCursor = &cur
		}
		return p, nil
	}
	return nil, fmt.Errorf("no resolver for Query.%s", name)
}

func docList(docs []data.Doc) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = bson.D(d)
	}
	return out
}

// page is a value of a <T>Page type.
type page struct {
	items     []any
	endCursor *string
	hasNext   bool
}

func (p *page) field(name string) any {
	switch name {
	case "items":
		return p.items
	case "endCursor":
		return p.endCursor
	case "hasNextPage":
		return p.hasNext
	}
	return nil
}

// docField reads field name of a document, nested object or user profile.
// A flexible collection's data field is the whole document; Ref fields
// resolve through the request's loader.
func (r *run) docField(ctx context.Context, info *objInfo, parent any, name string) (any, error) {
	d, _ := parent.(bson.D)
	if info.kind == objDoc && info.coll.flexible && name == "data" {
		return d, nil
	}
	v, _ := lookup(d, name)
	if f, ok := info.fields[name]; ok {
		if target, isRef := refTarget(f); isRef {
			if _, typed := r.x.model.refType(target); typed {
				return r.loader.resolve(ctx, r, target, v)
			}
		}
	}
	return v, nil
}

// lookup returns the value of key in d.
func lookup(d bson.D, key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}
