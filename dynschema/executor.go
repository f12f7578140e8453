// Package dynschema is the per-project GraphQL API (contract/GRAPHQL.md):
// it builds a project's schema from its collection definitions at run
// time (Build), executes operations against it with a hand-written
// graphql.ExecutableSchema whose resolvers call the operations layer
// (Executor), and serves it over HTTP and websockets with a per-project
// cache of gqlgen servers (Handler). It is a transport: it decodes,
// calls data and auth operations with the caller from the context, and
// encodes; policy decisions stay in the policy package.
package dynschema

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// DataService is the data operations the executor calls (*data.Service).
type DataService interface {
	Readable(c *principal.Caller, name string) (*collections.Collection, error)
	List(ctx context.Context, c *principal.Caller, name string, l *query.List) (*data.ListResult, error)
	Count(ctx context.Context, c *principal.Caller, name string, l *query.List) (int64, error)
	Get(ctx context.Context, c *principal.Caller, name, id string, sh *query.Shape) (data.Doc, error)
	GetMany(ctx context.Context, c *principal.Caller, name string, ids []bson.ObjectID) (map[bson.ObjectID]data.Doc, error)
	Insert(ctx context.Context, c *principal.Caller, name string, body any) (data.Doc, error)
	InsertMany(ctx context.Context, c *principal.Caller, name string, body any) (int, error)
	Update(ctx context.Context, c *principal.Caller, name, id string, body any) (data.Doc, error)
	Replace(ctx context.Context, c *principal.Caller, name, id string, body any) (data.Doc, error)
	Delete(ctx context.Context, c *principal.Caller, name, id string) (data.Doc, error)
}

// AuthService is the end-user auth operations the executor calls
// (*auth.Service).
type AuthService interface {
	SignUp(ctx context.Context, c *principal.Caller, body any, cl auth.Client) (*auth.SignUpResult, error)
	Login(ctx context.Context, c *principal.Caller, body any, cl auth.Client) (*auth.Tokens, error)
	Refresh(ctx context.Context, c *principal.Caller, raw string, cl auth.Client) (*auth.Tokens, error)
	Logout(ctx context.Context, c *principal.Caller, raw string) error
	Me(ctx context.Context, c *principal.Caller, authorization string) (bson.D, error)
}

// SnapshotSource gives a project's current snapshot (*catalog.Catalog), so
// that a long-lived subscription applies the collection's current RLS.
type SnapshotSource interface {
	ByID(ctx context.Context, id bson.ObjectID) (*catalog.Snapshot, error)
}

// Deps are the executor's dependencies. Data and Auth are required;
// without Subscriber subscriptions are refused; without Snapshots a
// subscription keeps the definitions it started with; without Files the
// file operations answer SERVICE_UNAVAILABLE (and multipart requests are
// refused).
type Deps struct {
	Data       DataService
	Auth       AuthService
	Subscriber Subscriber
	Snapshots  SnapshotSource
	Files      FileService
	// PublicURL is the server's external base URL, for files' public links.
	PublicURL string
	Logger    *slog.Logger
	// SubscriptionBuffer is how many events a subscriber may lag behind
	// before it is dropped (0: 64).
	SubscriptionBuffer int
}

// Executor executes operations against one project's schema. It is safe
// for concurrent use; every operation reads its caller from the context
// (principal.CallerFrom).
type Executor struct {
	schema *ast.Schema
	model  *model
	deps   Deps
}

var _ graphql.ExecutableSchema = (*Executor)(nil)

// NewExecutor builds the schema of snap (see Build) and returns its
// executor. Errors: as Build.
func NewExecutor(snap *catalog.Snapshot, deps Deps) (*Executor, error) {
	s, m, err := build(snap)
	if err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.SubscriptionBuffer <= 0 {
		deps.SubscriptionBuffer = 64
	}
	return &Executor{schema: s, model: m, deps: deps}, nil
}

// Schema returns the built schema.
func (x *Executor) Schema() *ast.Schema { return x.schema }

// Complexity keeps gqlgen's default cost: one per field plus its children.
func (x *Executor) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

// Exec runs the operation on ctx. Queries and mutations run to completion
// here and answer once (graphql.OneShot), with partial data and the
// errors of the fields that failed; subscriptions answer once per event
// until the subscription ends (nil).
func (x *Executor) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	switch op := opCtx.Operation.Operation; op {
	case ast.Query, ast.Mutation:
		rctx := graphql.WithFreshResponseContext(ctx)
		r := x.newRun(rctx, opCtx)
		out := r.operation(rctx, op)
		return graphql.OneShot(&graphql.Response{Data: out, Errors: graphql.GetErrors(rctx)})
	case ast.Subscription:
		return x.subscribe(ctx, opCtx)
	}
	return graphql.OneShot(graphql.ErrorResponse(ctx, "unsupported operation %q", opCtx.Operation.Operation))
}

// RootCollection returns the collection a root field reads, when it is a
// read (list, by id, count, page, changes). The RLS field middleware uses
// it.
func (x *Executor) RootCollection(object, field string) (string, bool) {
	var op ast.Operation
	switch object {
	case x.schema.Query.Name:
		op = ast.Query
	case subscriptionName(x.schema):
		op = ast.Subscription
	default:
		return "", false
	}
	rf, ok := x.model.roots[op][field]
	if !ok || !rf.kind.reads() {
		return "", false
	}
	return rf.coll.name, true
}

func subscriptionName(s *ast.Schema) string {
	if s.Subscription == nil {
		return ""
	}
	return s.Subscription.Name
}

// run is the state of one operation (or one subscription event).
type run struct {
	x      *Executor
	op     *graphql.OperationContext
	caller *principal.Caller
	loader *loader
}

func (x *Executor) newRun(ctx context.Context, opCtx *graphql.OperationContext) *run {
	c, _ := principal.CallerFrom(ctx)
	return &run{x: x, op: opCtx, caller: c, loader: newLoader()}
}
