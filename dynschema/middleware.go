package dynschema

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
)

// ReadCheck is a field middleware (handler.AroundFields) that re-checks,
// before every root field that reads a collection (list, by id, count,
// page, changes), that the caller may read that collection, with the same
// operation REST's list runs first (data.Readable: the users block, the
// collection's existence, the RLS read rule). The resolvers' own calls to
// the operations layer check again; this keeps the refusal in front of
// argument errors, as REST's order has it.
func (x *Executor) ReadCheck(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent != nil || fc.Field.Field == nil {
		return next(ctx)
	}
	coll, ok := x.RootCollection(fc.Object, fc.Field.Name)
	if !ok {
		return next(ctx)
	}
	c, ok := principal.CallerFrom(ctx)
	if !ok {
		return nil, errs.New(errs.Unauthenticated, "API key not found")
	}
	if _, err := x.deps.Data.Readable(c, coll); err != nil {
		return nil, err
	}
	return next(ctx)
}

// DepthLimit refuses operations whose selections nest deeper than Max
// fields (introspection fields are not counted: the standard
// introspection query is deep by design).
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (d DepthLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	if n := depth(opCtx.Doc, opCtx.Operation.SelectionSet, map[string]bool{}); n > d.Max {
		err := gqlerror.Errorf("operation has depth %d, which exceeds the limit of %d", n, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// depth is the deepest field nesting of sel, following fragments.
func depth(doc *ast.QueryDocument, sel ast.SelectionSet, visiting map[string]bool) int {
	deepest := 0
	for _, s := range sel {
		n := 0
		switch s := s.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			n = 1 + depth(doc, s.SelectionSet, visiting)
		case *ast.InlineFragment:
			n = depth(doc, s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			if f := doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				n = depth(doc, f.SelectionSet, visiting)
				delete(visiting, s.Name)
			}
		}
		deepest = max(deepest, n)
	}
	return deepest
}
