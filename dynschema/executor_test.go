package dynschema

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/events"
	"github.com/urbackend/urbackend/gqlhttp"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/query"
)

// fakeData serves documents from memory; policy checks are the real data
// layer's (they need no database).
type fakeData struct {
	real *data.Service
	docs map[string][]bson.D
}

func (f *fakeData) Readable(c *principal.Caller, name string) (*collections.Collection, error) {
	return f.real.Readable(c, name)
}

func (f *fakeData) List(_ context.Context, c *principal.Caller, name string, l *query.List) (*data.ListResult, error) {
	if _, err := f.real.Readable(c, name); err != nil {
		return nil, err
	}
	res := &data.ListResult{}
	for _, d := range f.docs[name] {
		if match(l.Filter, d) {
			res.Items = append(res.Items, data.Doc(d))
		}
	}
	res.Total = int64(len(res.Items))
	return res, nil
}

func (f *fakeData) Count(ctx context.Context, c *principal.Caller, name string, l *query.List) (int64, error) {
	res, err := f.List(ctx, c, name, l)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

func (f *fakeData) Get(context.Context, *principal.Caller, string, string, *query.Shape) (data.Doc, error) {
	return nil, errs.New(errs.NotFound, "Document not found.")
}

func (f *fakeData) GetMany(_ context.Context, _ *principal.Caller, name string, ids []bson.ObjectID) (map[bson.ObjectID]data.Doc, error) {
	out := map[bson.ObjectID]data.Doc{}
	for _, d := range f.docs[name] {
		id, _ := lookup(d, "_id")
		if oid, ok := id.(bson.ObjectID); ok && slices.Contains(ids, oid) {
			out[oid] = data.Doc(d)
		}
	}
	return out, nil
}

var errNotHere = errs.New(errs.Internal, "not in this test")

func (f *fakeData) Insert(context.Context, *principal.Caller, string, any) (data.Doc, error) {
	return nil, errNotHere
}
func (f *fakeData) InsertMany(context.Context, *principal.Caller, string, any) (int, error) {
	return 0, errNotHere
}
func (f *fakeData) Update(context.Context, *principal.Caller, string, string, any) (data.Doc, error) {
	return nil, errNotHere
}
func (f *fakeData) Replace(context.Context, *principal.Caller, string, string, any) (data.Doc, error) {
	return nil, errNotHere
}
func (f *fakeData) Delete(context.Context, *principal.Caller, string, string) (data.Doc, error) {
	return nil, errNotHere
}

// fakeAuth refuses everything (these tests do not sign in).
type fakeAuth struct{}

func (fakeAuth) SignUp(context.Context, *principal.Caller, any, auth.Client) (*auth.SignUpResult, error) {
	return nil, errNotHere
}
func (fakeAuth) Login(context.Context, *principal.Caller, any, auth.Client) (*auth.Tokens, error) {
	return nil, errNotHere
}
func (fakeAuth) Refresh(context.Context, *principal.Caller, string, auth.Client) (*auth.Tokens, error) {
	return nil, errNotHere
}
func (fakeAuth) Logout(context.Context, *principal.Caller, string) error { return errNotHere }
func (fakeAuth) Me(context.Context, *principal.Caller, string) (bson.D, error) {
	return nil, errs.New(errs.Unauthenticated, "Access Denied: No Token Provided")
}

// fakeSubscriber hands out subscriptions the test feeds.
type fakeSubscriber struct {
	mu   sync.Mutex
	subs []*fakeSubscription
	made chan *fakeSubscription
}

type fakeSubscription struct {
	project    bson.ObjectID
	collection string
	ch         chan *events.Event
	closed     chan struct{}
	once       sync.Once
	err        error
}

func (s *fakeSubscriber) Subscribe(projectID bson.ObjectID, collection string, buffer int) Subscription {
	sub := &fakeSubscription{project: projectID, collection: collection, ch: make(chan *events.Event, buffer), closed: make(chan struct{})}
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	s.made <- sub
	return sub
}

func (s *fakeSubscription) C() <-chan *events.Event { return s.ch }
func (s *fakeSubscription) Close()                  { s.once.Do(func() { close(s.closed) }) }
func (s *fakeSubscription) Err() error              { return s.err }

// fixture is an executor over a private and an open collection.
type fixture struct {
	snap  *catalog.Snapshot
	exec  *Executor
	data  *fakeData
	subs  *fakeSubscriber
	alice string
	bob   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	priv := coll("notes", F{Key: "title", Type: collections.String}, F{Key: "userId", Type: collections.String}, F{Key: "views", Type: collections.Number})
	priv.RLS = collections.RLS{Enabled: true, Mode: collections.Private, OwnerField: "userId"}
	snap := snapshot(priv, coll("open", F{Key: "title", Type: collections.String}))
	snap.Project = &projects.Project{ID: bson.NewObjectID()}
	f := &fixture{snap: snap, alice: bson.NewObjectID().Hex(), bob: bson.NewObjectID().Hex()}
	f.data = &fakeData{real: data.New(nil, nil), docs: map[string][]bson.D{
		"open": {{{Key: "_id", Value: bson.NewObjectID()}, {Key: "title", Value: "hello"}}},
	}}
	f.subs = &fakeSubscriber{made: make(chan *fakeSubscription, 10)}
	exec, err := NewExecutor(snap, Deps{Data: f.data, Auth: fakeAuth{}, Subscriber: f.subs})
	if err != nil {
		t.Fatal(err)
	}
	f.exec = exec
	return f
}

// server serves the executor as gqlhttp does, with the caller (when not
// nil) on every request and websocket.
func (f *fixture) server(c *principal.Caller, introspection bool) http.Handler {
	srv := handler.New(f.exec)
	srv.AddTransport(transport.Websocket{
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if c != nil {
				ctx = principal.WithCaller(ctx, c)
			}
			return ctx, nil, nil
		},
		KeepAlivePingInterval: time.Hour,
	})
	srv.AddTransport(transport.POST{})
	if introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(gqlhttp.ErrorPresenter(slog.Default()))
	srv.AroundFields(f.exec.ReadCheck)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c != nil {
			r = r.WithContext(principal.WithCaller(r.Context(), c))
		}
		srv.ServeHTTP(w, r)
	})
}

func (f *fixture) caller(user string) *principal.Caller {
	return &principal.Caller{Snapshot: f.snap, Key: projects.Publishable, UserID: user}
}

type gqlErr struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func post(t *testing.T, h http.Handler, q string) (map[string]any, []gqlErr) {
	t.Helper()
	res, err := client.New(h).RawPost(q)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal(mustJSON(t, res.Data), &d)
	var errsOut []gqlErr
	if res.Errors != nil {
		if err := json.Unmarshal(res.Errors, &errsOut); err != nil {
			t.Fatal(err)
		}
	}
	return d, errsOut
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIntrospectionSwitch(t *testing.T) {
	f := newFixture(t)
	c := f.caller("")
	d, errsOut := post(t, f.server(c, false), `{ __schema { queryType { name } } open { title } }`)
	if len(errsOut) != 1 || errsOut[0].Message != "introspection disabled" || d != nil {
		t.Errorf("disabled: %v %v", d, errsOut)
	}
	d, errsOut = post(t, f.server(c, false), `{ t: __type(name: "Open") { name } open { title } }`)
	if len(errsOut) != 1 || d["t"] != nil || string(mustJSON(t, d["open"])) != `[{"title":"hello"}]` {
		t.Errorf("disabled __type: %v %v", d, errsOut)
	}
	d, errsOut = post(t, f.server(c, true), `{ __schema { queryType { name } } t: __type(name: "Open") { name kind } }`)
	if len(errsOut) != 0 || string(mustJSON(t, d)) != `{"__schema":{"queryType":{"name":"Query"}},"t":{"kind":"OBJECT","name":"Open"}}` {
		t.Errorf("enabled: %v %v", d, errsOut)
	}
}

func TestNoCaller(t *testing.T) {
	f := newFixture(t)
	d, errsOut := post(t, f.server(nil, false), `{ openCount }`)
	if d != nil || len(errsOut) != 1 || errsOut[0].Message != "API key not found" || errsOut[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Errorf("got %v %v", d, errsOut)
	}
}

func TestReadCheckMiddleware(t *testing.T) {
	f := newFixture(t)
	// The private collection refuses anonymous reads before the
	// resolver runs: an invalid filter value is not even looked at.
	d, errsOut := post(t, f.server(f.caller(""), false), `{ notes(filter: {_id: {eq: "bad"}}) { title } }`)
	if d != nil || len(errsOut) != 1 || errsOut[0].Extensions["code"] != "UNAUTHENTICATED" || errsOut[0].Extensions["status"] != float64(401) {
		t.Errorf("got %v %v", d, errsOut)
	}
	_, errsOut = post(t, f.server(f.caller(f.alice), false), `{ notes(filter: {_id: {eq: "bad"}}) { title } }`)
	if len(errsOut) != 1 || errsOut[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("signed in: %v", errsOut)
	}
}

func TestSubscriptionDelivery(t *testing.T) {
	f := newFixture(t)
	h := f.server(f.caller(f.alice), false)
	before := runtime.NumGoroutine()
	sub := client.New(h).Websocket(`subscription { notesChanged(filter: {views: {gte: 10}}) { op id doc { title } } }`)
	defer sub.Close()
	var s *fakeSubscription
	select {
	case s = <-f.subs.made:
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription was made")
	}
	if s.project != f.snap.Project.ID || s.collection != "notes" {
		t.Errorf("subscribed to %s/%s", s.project.Hex(), s.collection)
	}
	doc := func(title, owner string, views int32) (bson.ObjectID, bson.D) {
		id := bson.NewObjectID()
		return id, bson.D{{Key: "_id", Value: id}, {Key: "title", Value: title}, {Key: "userId", Value: owner}, {Key: "views", Value: views}}
	}
	_, bobs := doc("bob's", f.bob, 50)
	_, small := doc("few views", f.alice, 5)
	mine, hers := doc("mine", f.alice, 10)
	s.ch <- &events.Event{Op: "insert", ID: bobs[0].Value.(bson.ObjectID), Doc: bobs}   // not hers
	s.ch <- &events.Event{Op: "insert", ID: small[0].Value.(bson.ObjectID), Doc: small} // filtered out
	s.ch <- &events.Event{Op: "insert", ID: mine, Doc: hers}
	s.ch <- &events.Event{Op: "delete", ID: mine, Doc: hers}

	var resp struct {
		NotesChanged struct {
			Op  string
			ID  string
			Doc *struct{ Title string }
		}
	}
	if err := sub.Next(&resp); err != nil {
		t.Fatal(err)
	}
	if resp.NotesChanged.Op != "INSERT" || resp.NotesChanged.ID != mine.Hex() || resp.NotesChanged.Doc == nil || resp.NotesChanged.Doc.Title != "mine" {
		t.Errorf("first event: %+v", resp.NotesChanged)
	}
	resp.NotesChanged.Doc = nil
	if err := sub.Next(&resp); err != nil {
		t.Fatal(err)
	}
	if resp.NotesChanged.Op != "DELETE" || resp.NotesChanged.Doc != nil {
		t.Errorf("second event: %+v", resp.NotesChanged)
	}

	// The bus drops a subscriber that fell behind: it hears why.
	s.err = events.ErrSlowConsumer
	close(s.ch)
	err := sub.Next(&resp)
	if err == nil || !strings.Contains(err.Error(), "fell too far behind") {
		t.Errorf("after the bus closed the subscription: %v", err)
	}
	sub.Close()
	select {
	case <-s.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription was not closed when the client went away")
	}
	// Nothing of the connection or the subscription lingers.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for runtime.NumGoroutine() > before {
		select {
		case <-tick.C:
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

func TestSubscriptionRefused(t *testing.T) {
	f := newFixture(t)
	sub := client.New(f.server(f.caller(""), false)).Websocket(`subscription { notesChanged { op } }`)
	defer sub.Close()
	var resp map[string]any
	err := sub.Next(&resp)
	if err == nil || !strings.Contains(err.Error(), "Provide a valid user Bearer token for private reads.") || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Errorf("anonymous private subscription: %v", err)
	}
	if len(f.subs.made) != 0 {
		t.Error("a refused subscription subscribed")
	}
}

func TestDepth(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `
		query { a { b { ...F } } __schema { types { fields { type { ofType { name } } } } } }
		fragment F on T { c { ... on T { d } } }`})
	if err != nil {
		t.Fatal(err)
	}
	if got := depth(doc, doc.Operations[0].SelectionSet, map[string]bool{}); got != 4 {
		t.Errorf("depth = %d, want 4", got)
	}
}
