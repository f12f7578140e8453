package dynschema

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/events"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// Subscriber is where subscriptions get a collection's committed writes.
// An *events.Bus serves through BusSubscriber.
type Subscriber interface {
	Subscribe(projectID bson.ObjectID, collection string, buffer int) Subscription
}

// Subscription is one subscriber's stream of events (*events.Subscription).
type Subscription interface {
	C() <-chan *events.Event
	Close()
	Err() error
}

// BusSubscriber adapts an *events.Bus to Subscriber.
type BusSubscriber struct{ Bus *events.Bus }

// Subscribe implements Subscriber.
func (b BusSubscriber) Subscribe(projectID bson.ObjectID, collection string, buffer int) Subscription {
	return b.Bus.Subscribe(projectID, collection, buffer)
}

// change is a value of a <T>Change type.
type change struct {
	op  string
	id  bson.ObjectID
	doc bson.D
}

func (c *change) field(name string) any {
	switch name {
	case "op":
		return c.op
	case "id":
		return c.id
	case "doc":
		return c.doc
	}
	return nil
}

type streamingKey struct{}

// withoutStreaming marks a context whose transport answers once (HTTP
// POST and GET): subscriptions need a websocket.
func withoutStreaming(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamingKey{}, false)
}

// live is a started subscription.
type live struct {
	caller *principal.Caller
	coll   *collInfo
	filter *query.Filter
	sub    Subscription
}

// subscribe starts the operation's one subscription field and answers
// once per event it may deliver, until the client stops (nil).
func (x *Executor) subscribe(ctx context.Context, opCtx *graphql.OperationContext) graphql.ResponseHandler {
	root := x.schema.Subscription
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{root.Name})
	if len(fields) != 1 || fields[0].Name == "__typename" {
		graphql.AddError(ctx, gqlerror.Errorf("a subscription selects exactly one field"))
		return graphql.OneShot(&graphql.Response{})
	}
	cf := fields[0]
	r := x.newRun(ctx, opCtx)
	fc := &graphql.FieldContext{Object: root.Name, Field: cf, Args: cf.ArgumentMap(opCtx.Variables), IsMethod: true, IsResolver: true}
	fctx := graphql.WithFieldContext(ctx, fc)
	res, err := opCtx.ResolverMiddleware(fctx, func(ctx context.Context) (any, error) {
		return r.start(ctx, cf.Name, graphql.GetFieldContext(ctx).Args)
	})
	if err != nil {
		graphql.AddError(fctx, err)
		return graphql.OneShot(&graphql.Response{})
	}
	l := res.(*live)
	// Not a goroutine per subscriber: they are many and mostly idle.
	context.AfterFunc(ctx, l.sub.Close)
	ended := false
	return func(ctx context.Context) *graphql.Response {
		for !ended {
			select {
			case <-ctx.Done():
				return nil
			case ev, ok := <-l.sub.C():
				if !ok {
					ended = true
					if err := l.sub.Err(); err != nil {
						return &graphql.Response{Errors: gqlerror.List{gqlerror.Errorf("%s", err.Error())}}
					}
					return nil
				}
				ch, deliver := x.deliverable(ctx, l, ev)
				if !deliver {
					continue
				}
				return x.eventResponse(ctx, opCtx, l.caller, cf, fc.Args, ch)
			}
		}
		return nil
	}
}

// start checks the subscription like a list of the collection (policy
// first, then the filter) and subscribes.
// Errors: Unauthenticated, Forbidden, NotFound, Invalid, Unavailable.
func (r *run) start(ctx context.Context, field string, args map[string]any) (any, error) {
	rf, ok := r.x.model.roots[ast.Subscription][field]
	if !ok {
		return nil, errs.New(errs.Invalid, "unknown subscription %s", field)
	}
	if s, ok := ctx.Value(streamingKey{}).(bool); ok && !s {
		return nil, errs.New(errs.Invalid, "Subscriptions need a websocket (graphql-transport-ws or graphql-ws).")
	}
	c, err := r.callerFor()
	if err != nil {
		return nil, err
	}
	if _, err := r.x.deps.Data.Readable(c, rf.coll.name); err != nil {
		return nil, err
	}
	f, err := compileFilter(rf.coll, args["filter"])
	if err != nil {
		return nil, err
	}
	if _, err := f.Mongo(); err != nil { // the same checks as a query
		return nil, err
	}
	if r.x.deps.Subscriber == nil {
		return nil, errs.New(errs.Unavailable, "Subscriptions are not available on this server.")
	}
	sub := r.x.deps.Subscriber.Subscribe(c.Snapshot.Project.ID, rf.coll.name, r.x.deps.SubscriptionBuffer)
	return &live{caller: c, coll: rf.coll, filter: f, sub: sub}, nil
}

// deliverable decides whether the subscriber may see ev: policy must let
// it read the document (for private RLS: it owns it), under the
// collection's current definition when a SnapshotSource is set, and the
// document must match the subscription's filter (for deletes: as it was).
func (x *Executor) deliverable(ctx context.Context, l *live, ev *events.Event) (*change, bool) {
	col := l.caller.Snapshot.Collections[l.coll.name]
	if x.deps.Snapshots != nil {
		if snap, err := x.deps.Snapshots.ByID(ctx, l.caller.Snapshot.Project.ID); err == nil {
			col = snap.Collections[l.coll.name]
		}
	}
	if col == nil {
		return nil, false
	}
	of, err := policy.Read(l.caller.Policy(), col)
	if err != nil || !of.Matches(ev.Doc) || !match(l.filter, ev.Doc) {
		return nil, false
	}
	ch := &change{op: strings.ToUpper(ev.Op), id: ev.ID, doc: ev.Doc}
	if ev.Op == "delete" {
		ch.doc = nil
	}
	return ch, true
}

// eventResponse executes the subscription field's selection on one change,
// with a loader of its own.
func (x *Executor) eventResponse(ctx context.Context, opCtx *graphql.OperationContext, c *principal.Caller, cf graphql.CollectedField, args map[string]any, ch *change) *graphql.Response {
	r := &run{x: x, op: opCtx, caller: c, loader: newLoader()}
	root := x.schema.Subscription
	fc := &graphql.FieldContext{Object: root.Name, Field: cf, Args: args, IsMethod: true, IsResolver: true, Result: ch}
	fctx := graphql.WithFieldContext(ctx, fc)
	val, ok := r.complete(fctx, x.fieldDef(root.Name, cf.Name).Type, ch, cf, false)
	if !ok {
		return &graphql.Response{Data: []byte("null")}
	}
	out := &object{}
	out.add(cf.Alias, val)
	return &graphql.Response{Data: marshal(out)}
}
