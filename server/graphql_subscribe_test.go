package server_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gqWS is a graphql-transport-ws client on gorilla/websocket.
type gqWS struct {
	t *testing.T
	c *websocket.Conn
}

type gqMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// gqDial opens /graphql as a websocket and sends connection_init with
// payload. It returns the connection once acknowledged, or the close
// error the server answered with.
func (e *env) gqDial(t *testing.T, payload map[string]any, header http.Header) (*gqWS, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial(strings.Replace(e.ts.URL, "http://", "ws://", 1)+"/graphql", header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	res.Body.Close()
	w := &gqWS{t: t, c: c}
	t.Cleanup(func() { c.Close() })
	raw, _ := json.Marshal(payload)
	w.send(gqMsg{Type: "connection_init", Payload: raw})
	for {
		m, err := w.read()
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return w, nil
		case "ping", "pong", "ka":
			continue
		}
		// connection_error and the like: the close follows.
	}
}

func (w *gqWS) send(m gqMsg) {
	w.t.Helper()
	if err := w.c.WriteJSON(m); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *gqWS) read() (gqMsg, error) {
	if err := w.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return gqMsg{}, err
	}
	var m gqMsg
	err := w.c.ReadJSON(&m)
	return m, err
}

// subscribe starts an operation.
func (w *gqWS) subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	raw, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.send(gqMsg{ID: id, Type: "subscribe", Payload: raw})
}

// next returns the next operation message (next, error, complete),
// answering pings.
func (w *gqWS) next() gqMsg {
	w.t.Helper()
	for {
		m, err := w.read()
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		switch m.Type {
		case "ping":
			w.send(gqMsg{Type: "pong"})
			continue
		case "pong", "ka":
			continue
		}
		return m
	}
}

// data returns the data of the next "next" message, failing on errors.
func (w *gqWS) data() map[string]any {
	w.t.Helper()
	m := w.next()
	var p gqlResult
	_ = json.Unmarshal(m.Payload, &p)
	if m.Type != "next" || len(p.Errors) > 0 {
		w.t.Fatalf("got %s %s, want data", m.Type, m.Payload)
	}
	return p.Data
}

func TestGraphQLSubscriptions(t *testing.T) {
	g := gqNew(t)
	g.define(t, "authors", nil, gqField("name", "String"))
	g.define(t, "posts", nil, gqField("title", "String"), gqField("views", "Number"), gqField("author", "Ref", "ref", "authors"))
	author := str(g.sk(t, `mutation { insertAuthors(doc: {name: "Ann"}) { _id } }`, nil), "insertAuthors", "_id")

	// The key arrives in connection_init only, as browsers send it.
	ws, err := g.gqDial(t, map[string]any{"x-api-key": g.p.SecretKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("all", `subscription { postsChanged { op id doc { title author { name } } } }`, nil)
	ws.subscribe("hot", `subscription($min: Float) { hot: postsChanged(filter: {views: {gt: $min}}) { op doc { title } } }`, map[string]any{"min": 10})
	waitSubscribers(t, g.env, 2)

	// A REST insert, a GraphQL update, a delete: all reach "all"; only
	// the document with views > 10 reaches "hot".
	r := g.rest(http.MethodPost, "/api/data/posts", restReq{Key: g.p.SecretKey, Body: map[string]any{"title": "cold", "views": 5, "author": author}})
	cold := str(r.json(t), "_id")
	d := ws.data()
	gqWant(t, "insert event", d, `{"postsChanged":{"op":"INSERT","id":"`+cold+`","doc":{"title":"cold","author":{"name":"Ann"}}}}`)
	hot := str(g.sk(t, `mutation { insertPosts(doc: {title: "hot", views: 50}) { _id } }`, nil), "insertPosts", "_id")
	got := map[string]map[string]any{}
	for range 2 {
		m := ws.next()
		var p gqlResult
		_ = json.Unmarshal(m.Payload, &p)
		if m.Type != "next" || len(p.Errors) > 0 {
			t.Fatalf("got %s %s", m.Type, m.Payload)
		}
		got[m.ID] = p.Data
	}
	gqWant(t, "all: hot inserted", got["all"], `{"postsChanged":{"op":"INSERT","id":"`+hot+`","doc":{"title":"hot","author":null}}}`)
	gqWant(t, "hot: hot inserted", got["hot"], `{"hot":{"op":"INSERT","doc":{"title":"hot"}}}`)
	g.sk(t, `mutation($id: ID!) { updatePosts(id: $id, set: {title: "cold2"}) { _id } }`, map[string]any{"id": cold})
	gqWant(t, "update event", ws.data(), `{"postsChanged":{"op":"UPDATE","id":"`+cold+`","doc":{"title":"cold2","author":{"name":"Ann"}}}}`)
	g.rest(http.MethodDelete, "/api/data/posts/"+cold, restReq{Key: g.p.SecretKey})
	gqWant(t, "delete event", ws.data(), `{"postsChanged":{"op":"DELETE","id":"`+cold+`","doc":null}}`)

	// Stopping a subscription unregisters it.
	ws.send(gqMsg{ID: "hot", Type: "complete"})
	waitSubscribers(t, g.env, 1)
	ws.c.Close()
	waitSubscribers(t, g.env, 0)

	// Subscriptions need a websocket.
	g.gqDo(gqReq{Key: g.p.SecretKey}, `subscription { postsChanged { op } }`, nil).
		gqFails(t, "BAD_USER_INPUT", 400, "Subscriptions need a websocket (graphql-transport-ws or graphql-ws).")
}

func TestGraphQLSubscriptionRLS(t *testing.T) {
	f := newRLSFixture(t)
	e := f.e
	f.define(t, "priv", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, field("title", "String"), field("userId", "String"))

	// Anonymous subscribers of a private collection are refused.
	anon, err := e.gqDial(t, map[string]any{"x-api-key": f.p.PublishableKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	anon.subscribe("1", `subscription { privChanged { op } }`, nil)
	m := anon.next()
	var p gqlResult
	_ = json.Unmarshal(m.Payload, &p)
	if len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || p.Errors[0].Message != "Provide a valid user Bearer token for private reads." {
		t.Fatalf("anonymous private subscription: %s %s", m.Type, m.Payload)
	}
	if m := anon.next(); m.Type != "complete" {
		t.Errorf("after the refusal: %s, want complete", m.Type)
	}

	// Alice sees her documents, whoever writes them; never bob's.
	alice, err := e.gqDial(t, map[string]any{"x-api-key": f.p.PublishableKey, "Authorization": "Bearer " + f.aliceTok}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alice.subscribe("1", `subscription { privChanged { op doc { title userId } } }`, nil)
	waitSubscribers(t, e, 1)
	f.seed(t, "priv", map[string]any{"title": "bob's", "userId": f.bob})
	e.gqDo(gqReq{Key: f.p.PublishableKey, Token: f.bobTok}, `mutation { insertPriv(doc: {title: "bob's too"}) { _id } }`, nil).ok(t)
	f.seed(t, "priv", map[string]any{"title": "for alice", "userId": f.alice})
	gqWant(t, "alice's event", alice.data(), `{"privChanged":{"op":"INSERT","doc":{"title":"for alice","userId":"`+f.alice+`"}}}`)

	// Bad keys and foreign origins end the connection with 4401 / 4403.
	_, err = e.gqDial(t, map[string]any{"x-api-key": "pk_live_nope"}, nil)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4401 {
		t.Errorf("bad key: %v, want close 4401", err)
	}
	strict := e.createProject(f.admin, map[string]any{"name": "strict", "allowedOrigins": []string{"https://app.example.com"}})
	_, err = e.gqDial(t, map[string]any{"x-api-key": strict.PublishableKey}, http.Header{"Origin": {"https://evil.example.com"}})
	if !errors.As(err, &ce) || ce.Code != 4403 || !strings.Contains(ce.Text, "not allowed") {
		t.Errorf("foreign origin: %v, want close 4403", err)
	}
	ok, err := e.gqDial(t, map[string]any{}, http.Header{"Origin": {"https://app.example.com"}, "X-Api-Key": {strict.PublishableKey}})
	if err != nil {
		t.Fatalf("allowed origin, key in the upgrade header: %v", err)
	}
	ok.subscribe("1", `{ __typename }`, nil)
	if d := ok.data(); d["__typename"] != "Query" {
		t.Errorf("query over the websocket: %v", d)
	}
}

// waitSubscribers waits until the event bus has n subscribers.
func waitSubscribers(t *testing.T, e *env, n int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for e.app.Events.Subscribers() != n {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the bus has %d subscribers, want %d", e.app.Events.Subscribers(), n)
		}
	}
}
