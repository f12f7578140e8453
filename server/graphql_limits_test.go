package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/urbackend/urbackend/server"
)

// gqMinuteStart is a clock that starts a second into a minute, so that a
// test counting requests in the limiters' fixed one-minute windows does
// not straddle two of them.
func gqMinuteStart() func() time.Time {
	now := time.Now()
	offset := now.Truncate(time.Minute).Add(time.Minute).Sub(now) + time.Second
	return func() time.Time { return time.Now().Add(offset) }
}

// gqPost posts an operation to /graphql from a client address (the server
// trusts X-Forwarded-For) and returns the result and its headers.
func (e *env) gqPost(t *testing.T, key, ip, query string) (gqlResult, http.Header) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", key)
	req.Header.Set("X-Forwarded-For", ip)
	res, raw := e.do(req)
	out := gqlResult{Status: res.StatusCode, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("decode GraphQL response %q: %v", raw, err)
	}
	return out, res.Header
}

func wantRetryAfter(t *testing.T, what string, h http.Header) {
	t.Helper()
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("%s: Retry-After %q, want 1..60 seconds", what, h.Get("Retry-After"))
	}
}

func TestGraphQLRateLimits(t *testing.T) {
	g := gqNew(t, func(c *server.Config) {
		c.RateLimitPerMinute = 3 // per address; a project may use 30
		c.TrustProxy = true
		c.Now = gqMinuteStart()
	})
	g.define(t, "notes", nil, gqField("title", "String"))
	const tooMany = "Too many requests, please try again later."

	// One budget per client address across REST and GraphQL.
	xff := map[string]string{"X-Forwarded-For": "10.0.0.1"}
	if r := g.rest(http.MethodGet, "/api/health", restReq{Headers: xff}); r.Status != 200 || r.Header.Get("RateLimit-Remaining") != "2" {
		t.Fatalf("REST: %d, remaining %q", r.Status, r.Header.Get("RateLimit-Remaining"))
	}
	for want := 1; want >= 0; want-- {
		r, h := g.gqPost(t, g.p.SecretKey, "10.0.0.1", `{ __typename }`)
		r.ok(t)
		if h.Get("RateLimit-Limit") != "3" || h.Get("RateLimit-Remaining") != strconv.Itoa(want) {
			t.Fatalf("GraphQL: limit %q remaining %q, want 3 and %d", h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), want)
		}
	}
	r, h := g.gqPost(t, g.p.SecretKey, "10.0.0.1", `{ __typename }`)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("over the limit: status %d, want 429", r.Status)
	}
	r.gqFails(t, "RATE_LIMITED", 429, tooMany)
	wantRetryAfter(t, "GraphQL", h)
	g.rest(http.MethodGet, "/api/health", restReq{Headers: xff}).wantError(t, 429, tooMany)

	// A websocket: the upgrade counts, then each operation.
	ws, err := gqConnect(t, g.ts.URL, gqTransportWS, map[string]any{"x-api-key": g.p.SecretKey}, http.Header{"X-Forwarded-For": {"10.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		ws.start(strconv.Itoa(i), `{ __typename }`, nil)
		if d := ws.data(); d["__typename"] != "Query" {
			t.Fatalf("operation %d: %v", i, d)
		}
		if m := ws.next(); m.Type != "complete" {
			t.Fatalf("operation %d: got %s, want complete", i, m.Type)
		}
	}
	ws.start("3", `subscription { notesChanged { op } }`, nil)
	if m, p := ws.result(); m.Type != "next" {
		t.Fatalf("over the limit on a websocket: %s %s", m.Type, m.Payload)
	} else {
		p.gqFails(t, "RATE_LIMITED", 429, tooMany)
	}
	_, res, err := gqUpgrade(g.ts.URL, gqTransportWS, http.Header{"X-Forwarded-For": {"10.0.0.2"}})
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("upgrade over the limit: %v %v, want 429", err, res)
	}
	wantRetryAfter(t, "upgrade", res.Header)

	// One budget per project across REST and GraphQL: 30 requests, each
	// from its own address.
	q := g.createProject(g.tok, map[string]any{"name": "busy"})
	define(g.env, g.tok, q.ID, map[string]any{"name": "notes", "fields": []any{}}).ok(t)
	for i := range 30 {
		ip := fmt.Sprintf("10.1.0.%d", i)
		if i%2 == 0 {
			r := g.rest(http.MethodGet, "/api/schemas/notes", restReq{Key: q.SecretKey, Headers: map[string]string{"X-Forwarded-For": ip}})
			if r.Status != 200 {
				t.Fatalf("REST request %d: %d %s", i+1, r.Status, r.Body)
			}
			continue
		}
		r, h := g.gqPost(t, q.SecretKey, ip, `{ notesCount }`)
		r.ok(t)
		if h.Get("X-RateLimit-Limit") != "30" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(29-i) {
			t.Fatalf("GraphQL request %d: X-RateLimit-Limit %q remaining %q", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"))
		}
	}
	const projectTooMany = "Project Rate limit exceeded. Please try again later."
	r, h = g.gqPost(t, q.SecretKey, "10.2.0.1", `{ notesCount }`)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("project over the limit: status %d, want 429", r.Status)
	}
	r.gqFails(t, "RATE_LIMITED", 429, projectTooMany)
	wantRetryAfter(t, "GraphQL, project", h)
	g.rest(http.MethodGet, "/api/schemas/notes", restReq{Key: q.SecretKey, Headers: map[string]string{"X-Forwarded-For": "10.2.0.2"}}).wantError(t, 429, projectTooMany)
	_, err = gqConnect(t, g.ts.URL, gqTransportWS, map[string]any{"x-api-key": q.SecretKey}, http.Header{"X-Forwarded-For": {"10.2.0.3"}})
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4429 || ce.Text != projectTooMany {
		t.Errorf("websocket of a project over its limit: %v, want close 4429 %q", err, projectTooMany)
	}
	// Other projects keep their own budget.
	g.gqPost(t, g.p.SecretKey, "10.2.0.4", `{ notesCount }`)
	if r, _ := g.gqPost(t, g.p.SecretKey, "10.2.0.5", `{ notesCount }`); r.Status != 200 {
		t.Errorf("another project: %d %s", r.Status, r.Raw)
	}
}

func TestGraphQLWebsocketLimits(t *testing.T) {
	g := gqNew(t, func(c *server.Config) {
		c.WSMaxSubscriptionsPerConnection = 2
		c.WSMaxConnectionsPerProject = 2
	})
	g.define(t, "posts", nil, gqField("title", "String"))
	init := map[string]any{"x-api-key": g.p.SecretKey}

	// Subscriptions per connection.
	ws, err := gqConnect(t, g.ts.URL, gqTransportWS, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	const sub = `subscription { postsChanged { op doc { title } } }`
	ws.start("a", sub, nil)
	ws.start("b", sub, nil)
	waitSubscribers(t, g.env, 2)
	ws.start("c", sub, nil)
	m, p := ws.result()
	if m.Type != "next" || m.ID != "c" {
		t.Fatalf("third subscription: %s %s %s", m.ID, m.Type, m.Payload)
	}
	p.gqFails(t, "RATE_LIMITED", 429, "Too many subscriptions on this connection (limit 2). Complete one before starting another.")
	if m := ws.next(); m.Type != "complete" || m.ID != "c" {
		t.Fatalf("after the refusal: %s %s", m.ID, m.Type)
	}
	// Completing one frees its place.
	ws.stop("a")
	if m := ws.next(); m.Type != "complete" || m.ID != "a" {
		t.Fatalf("after stopping a: %s %s", m.ID, m.Type)
	}
	ws.start("c", sub, nil)
	waitSubscribers(t, g.env, 2)
	g.sk(t, `mutation { insertPosts(doc: {title: "hello"}) { _id } }`, nil)
	got := map[string]bool{}
	for range 2 {
		m, p := ws.result()
		if m.Type != "next" || len(p.Errors) > 0 {
			t.Fatalf("event: %s %s", m.Type, m.Payload)
		}
		gqWant(t, "event", p.Data, `{"postsChanged":{"op":"INSERT","doc":{"title":"hello"}}}`)
		got[m.ID] = true
	}
	if !got["b"] || !got["c"] {
		t.Errorf("events reached %v, want b and c", got)
	}

	// Connections per project on this instance, either protocol.
	second, err := gqConnect(t, g.ts.URL, gqLegacyWS, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	const full = "Too many websocket connections for this project (limit 2)."
	for _, proto := range []string{gqTransportWS, gqLegacyWS} {
		_, err = gqConnect(t, g.ts.URL, proto, init, nil)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4429 || ce.Text != full {
			t.Errorf("%s: third connection: %v, want close 4429 %q", proto, err, full)
		}
	}
	waitMetric(t, g.ts.URL, "urbackend_graphql_websockets", 2)
	// Another project is not affected.
	other := g.createProject(g.tok, map[string]any{"name": "other"})
	if _, err := gqConnect(t, g.ts.URL, gqTransportWS, map[string]any{"x-api-key": other.SecretKey}, nil); err != nil {
		t.Errorf("another project's connection: %v", err)
	}
	// A closed connection gives its place back.
	second.c.Close()
	var again *gqClient
	if !eventually(t, 10*time.Second, func() bool {
		again, err = gqConnect(t, g.ts.URL, gqTransportWS, init, nil)
		return err == nil
	}) {
		t.Fatalf("no place after a connection closed: %v", err)
	}
	again.start("1", `{ __typename }`, nil)
	if d := again.data(); d["__typename"] != "Query" {
		t.Errorf("query: %v", d)
	}
}

func TestGraphQLProjectCacheEviction(t *testing.T) {
	g := gqNew(t)
	g.define(t, "posts", nil, gqField("title", "String"))
	const gauge = "urbackend_graphql_projects"
	if n := gqMetric(t, g.ts.URL, gauge); n != 0 {
		t.Fatalf("%s before any request: %d", gauge, n)
	}
	g.sk(t, `{ postsCount }`, nil)
	q := g.createProject(g.tok, map[string]any{"name": "doomed"})
	define(g.env, g.tok, q.ID, map[string]any{"name": "items", "fields": []any{}}).ok(t)
	g.gqDo(gqReq{Key: q.SecretKey}, `{ itemsCount }`, nil).ok(t)
	if n := gqMetric(t, g.ts.URL, gauge); n != 2 {
		t.Fatalf("%s after two projects' requests: %d, want 2", gauge, n)
	}

	// A changed definition drops the project's schema at once; the next
	// request builds the new one.
	g.define(t, "posts", nil, gqField("title", "String"), gqField("views", "Number"))
	if n := gqMetric(t, g.ts.URL, gauge); n != 1 {
		t.Fatalf("%s after a definition changed: %d, want 1", gauge, n)
	}
	g.sk(t, `mutation { insertPosts(doc: {title: "a", views: 2}) { views } }`, nil)
	if n := gqMetric(t, g.ts.URL, gauge); n != 2 {
		t.Fatalf("%s after the rebuild: %d, want 2", gauge, n)
	}

	// A deleted project's schema goes with it.
	g.gql(g.tok, `mutation{deleteProject(id:"`+q.ID+`")}`, nil).ok(t)
	if n := gqMetric(t, g.ts.URL, gauge); n != 1 {
		t.Fatalf("%s after a project was deleted: %d, want 1", gauge, n)
	}
	g.gqDo(gqReq{Key: q.SecretKey}, `{ itemsCount }`, nil).gqFails(t, "UNAUTHENTICATED", 401, "API key is expired or invalid.")

	// Many projects' requests leave one schema per live project.
	for i := range 3 {
		p := g.createProject(g.tok, map[string]any{"name": fmt.Sprintf("p%d", i)})
		g.gqDo(gqReq{Key: p.SecretKey}, `{ __typename }`, nil).ok(t)
		g.gql(g.tok, `mutation{deleteProject(id:"`+p.ID+`")}`, nil).ok(t)
	}
	if n := gqMetric(t, g.ts.URL, gauge); n != 1 {
		t.Fatalf("%s after short-lived projects: %d, want 1", gauge, n)
	}
}
