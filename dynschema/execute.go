package dynschema

import (
	"context"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Execution follows the GraphQL specification's algorithm: fields are
// collected with gqlgen's CollectFields (fragments, aliases, @include and
// @skip), resolved through the operation's field middleware (so
// handler.AroundFields applies, as with generated code), and completed by
// their declared type. An error nulls the field and is reported with its
// path; a null in a non-null position propagates to the nearest nullable
// ancestor. Fields run one after another, mutations in order as the
// specification requires.

// operation executes a query or mutation and returns its data as JSON.
func (r *run) operation(ctx context.Context, op ast.Operation) []byte {
	root := r.x.schema.Query
	if op == ast.Mutation {
		root = r.x.schema.Mutation
	}
	out, ok := r.rootObject(ctx, root, r.op.Operation.SelectionSet)
	if !ok {
		return []byte("null")
	}
	return marshal(out)
}

// rootObject executes the root fields of sel on root.
func (r *run) rootObject(ctx context.Context, root *ast.Definition, sel ast.SelectionSet) (*object, bool) {
	out := &object{}
	for _, cf := range graphql.CollectFields(r.op, sel, []string{root.Name}) {
		if cf.Name == "__typename" {
			out.add(cf.Alias, root.Name)
			continue
		}
		rctx := graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: root.Name, Field: cf})
		m := r.op.RootResolverMiddleware(rctx, func(ctx context.Context) graphql.Marshaler {
			v, ok := r.field(ctx, root.Name, nil, cf)
			return &completed{value: v, ok: ok}
		})
		c, isOurs := m.(*completed)
		if !isOurs {
			c = &completed{value: rawMarshaler{m}, ok: true}
		}
		if !c.ok {
			return nil, false
		}
		out.add(cf.Alias, c.value)
	}
	return out, true
}

// completed is a completed root field as it travels through the root
// field middleware.
type completed struct {
	value any
	ok    bool
}

func (c *completed) MarshalGQL(w io.Writer) { _, _ = w.Write(marshal(c.value)) }

// rawMarshaler is a value a root field middleware produced itself.
type rawMarshaler struct{ m graphql.Marshaler }

// field resolves and completes one field of an object of type objType
// whose value is parent. ok is false when a non-null field ended up null,
// so the null propagates.
func (r *run) field(ctx context.Context, objType string, parent any, cf graphql.CollectedField) (out any, ok bool) {
	fdef := r.x.fieldDef(objType, cf.Name)
	if fdef == nil {
		graphql.AddError(ctx, gqlerror.Errorf("unknown field %s.%s", objType, cf.Name))
		return nil, true
	}
	fc := &graphql.FieldContext{Object: objType, Field: cf, IsMethod: true, IsResolver: parent == nil}
	ctx = graphql.WithFieldContext(ctx, fc)
	defer func() {
		if rec := recover(); rec != nil {
			graphql.AddError(ctx, r.op.Recover(ctx, rec))
			out, ok = nil, !fdef.Type.NonNull
		}
	}()
	fc.Args = cf.ArgumentMap(r.op.Variables)
	res, err := r.op.ResolverMiddleware(ctx, func(rctx context.Context) (any, error) {
		ctx = rctx
		return r.resolve(rctx, objType, parent, cf, graphql.GetFieldContext(rctx).Args)
	})
	if err != nil {
		graphql.AddError(ctx, err)
		return nil, !fdef.Type.NonNull
	}
	fc.Result = res
	return r.complete(ctx, fdef.Type, res, cf, false)
}

func (x *Executor) fieldDef(objType, name string) *ast.FieldDefinition {
	def := x.schema.Types[objType]
	if def == nil {
		return nil
	}
	if f := def.Fields.ForName(name); f != nil {
		return f
	}
	if def == x.schema.Query {
		switch name {
		case "__schema":
			return &ast.FieldDefinition{Name: name, Type: ast.NonNullNamedType("__Schema", nil)}
		case "__type":
			return &ast.FieldDefinition{Name: name, Type: ast.NamedType("__Type", nil),
				Arguments: ast.ArgumentDefinitionList{{Name: "name", Type: ast.NonNullNamedType("String", nil)}}}
		}
	}
	return nil
}

// complete turns a resolved value into the response value of type typ.
// ok is false when the value is null in a non-null position, so the null
// propagates to the nearest nullable ancestor. fetched tells that the
// references below v are already being loaded (v is an element of a list
// that was prefetched as a whole).
func (r *run) complete(ctx context.Context, typ *ast.Type, v any, cf graphql.CollectedField, fetched bool) (any, bool) {
	inner := *typ
	inner.NonNull = false
	out, failed := r.completeNullable(ctx, &inner, v, cf, fetched)
	if !typ.NonNull {
		return out, true
	}
	if failed {
		return nil, false // reported where it failed
	}
	if out == nil {
		graphql.AddInvalidNullError(ctx, typ.String())
		return nil, false
	}
	return out, true
}

// completeNullable completes v as the nullable type typ. failed is true
// when an error (already reported) made the value null.
func (r *run) completeNullable(ctx context.Context, typ *ast.Type, v any, cf graphql.CollectedField, fetched bool) (out any, failed bool) {
	if isNull(v) {
		return nil, false
	}
	if typ.Elem != nil {
		items, ok := asList(v)
		if !ok {
			graphql.AddError(ctx, gqlerror.Errorf("%s cannot represent a non-list value", typ.String()))
			return nil, true
		}
		r.prefetch(ctx, typ.Elem.Name(), items, cf.Selections)
		list := make([]any, len(items))
		for i := range items {
			idx := i
			ictx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &idx, Result: items[i]})
			val, ok := r.complete(ictx, typ.Elem, items[i], cf, true)
			if !ok {
				return nil, true
			}
			list[i] = val
		}
		return list, false
	}
	def := r.x.schema.Types[typ.NamedType]
	if def == nil {
		graphql.AddError(ctx, gqlerror.Errorf("unknown type %s", typ.NamedType))
		return nil, true
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		leaf, err := coerceLeaf(def, v)
		if err != nil {
			graphql.AddError(ctx, err)
			return nil, true
		}
		return leaf, false
	case ast.Object:
		if !fetched {
			r.prefetch(ctx, def.Name, []any{v}, cf.Selections)
		}
		obj, ok := r.object(ctx, def, v, cf.Selections)
		if !ok {
			return nil, true
		}
		return obj, false
	}
	graphql.AddError(ctx, gqlerror.Errorf("cannot complete a value of %s type %s", def.Kind, def.Name))
	return nil, true
}

// object executes the selection of sel on v, an object of type def.
func (r *run) object(ctx context.Context, def *ast.Definition, v any, sel ast.SelectionSet) (*object, bool) {
	out := &object{}
	for _, cf := range graphql.CollectFields(r.op, sel, []string{def.Name}) {
		if cf.Name == "__typename" {
			out.add(cf.Alias, def.Name)
			continue
		}
		val, ok := r.field(ctx, def.Name, v, cf)
		if !ok {
			return nil, false
		}
		out.add(cf.Alias, val)
	}
	return out, true
}

// resolve computes the raw value of one field.
func (r *run) resolve(ctx context.Context, objType string, parent any, cf graphql.CollectedField, args map[string]any) (any, error) {
	s := r.x.schema
	switch {
	case objType == s.Query.Name:
		return r.query(ctx, cf.Name, args)
	case s.Mutation != nil && objType == s.Mutation.Name:
		return r.mutation(ctx, cf.Name, args)
	case len(objType) > 2 && objType[:2] == "__":
		return introspect(s, objType, parent, cf.Name, args)
	}
	info := r.x.model.objects[objType]
	if info == nil {
		return nil, fmt.Errorf("no resolver for type %s", objType)
	}
	switch info.kind {
	case objPage:
		return parent.(*page).field(cf.Name), nil
	case objChange:
		return parent.(*change).field(cf.Name), nil
	case objAuth:
		return parent.(*authPayload).field(cf.Name), nil
	case objFile:
		return parent.(*fileValue).field(cf.Name), nil
	}
	return r.docField(ctx, info, parent, cf.Name)
}
