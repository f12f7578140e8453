package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
)

func TestGraphQLLanguage(t *testing.T) {
	g := gqNew(t)
	gqPosts(t, g)
	g.sk(t, `mutation { insertManyBlogPosts(docs: [{title: "a", views: 1, meta: {rating: 2}}, {title: "b", views: 2}]) { _id } }`, nil)

	q := `
	query One($min: Float = 0, $withMeta: Boolean!, $skipViews: Boolean = false) {
		__typename
		top: blogPosts(filter: {views: {gte: $min}}, sort: [{field: title}]) { ...Post __typename }
		n: blogPostsCount
	}
	query Other { blogPostsCount }
	fragment Post on BlogPosts {
		name: title
		views @skip(if: $skipViews)
		... on BlogPosts { meta @include(if: $withMeta) { rating } }
		... @include(if: $withMeta) { title }
	}`
	// Two operations need an operation name.
	r := g.gqDo(gqReq{Key: g.p.SecretKey}, q, map[string]any{"withMeta": true})
	if len(r.Errors) == 0 {
		t.Errorf("without operationName: %s", r.Raw)
	}
	body := func(op string, vars map[string]any) gqlResult {
		return g.gqDo(gqReq{Key: g.p.SecretKey}, q, vars, op)
	}
	d := body("One", map[string]any{"withMeta": true}).ok(t)
	gqWant(t, "with meta", d, `{"__typename":"Query","top":[
		{"name":"a","views":1,"meta":{"rating":2},"title":"a","__typename":"BlogPosts"},
		{"name":"b","views":2,"meta":null,"title":"b","__typename":"BlogPosts"}],"n":2}`)
	d = body("One", map[string]any{"withMeta": false, "skipViews": true, "min": 2}).ok(t)
	gqWant(t, "skipped", d, `{"__typename":"Query","top":[{"name":"b","__typename":"BlogPosts"}],"n":2}`)
	d = body("Other", nil).ok(t)
	gqWant(t, "other operation", d, `{"blogPostsCount":2}`)

	// A missing required variable is a request error.
	r = body("One", nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("missing variable: %s", r.Raw)
	}

	// GET works for queries.
	req, _ := http.NewRequest(http.MethodGet, g.ts.URL+"/graphql?query="+strings.ReplaceAll("{blogPostsCount}", "{", "%7B"), nil)
	req.Header.Set("x-api-key", g.p.SecretKey)
	res, raw := g.do(req)
	if res.StatusCode != http.StatusOK || !strings.Contains(raw, `"blogPostsCount":2`) {
		t.Errorf("GET: %d %s", res.StatusCode, raw)
	}
}

func TestGraphQLPartialErrors(t *testing.T) {
	g := gqNew(t)
	g.define(t, "nums", nil, gqField("v", "String"), gqField("w", "String"))
	g.define(t, "secrets", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, gqField("s", "String"))
	g.sk(t, `mutation { a: insertNums(doc: {v: "abc", w: "1"}) { _id } b: insertNums(doc: {v: "2", w: "2"}) { _id } }`, nil)
	// v becomes a Number: the stored "abc" cannot be a Float.
	g.define(t, "nums", nil, gqField("v", "Number"), gqField("w", "String"))

	// A field error nulls that (nullable) field only.
	r := g.gqDo(gqReq{Key: g.p.SecretKey}, `{ nums(sort: [{field: w}]) { v w } count: numsCount }`, nil)
	gqWant(t, "partial data", r.Data, `{"nums":[{"v":null,"w":"1"},{"v":null,"w":"2"}],"count":2}`)
	if len(r.Errors) != 2 || gqJSON(t, r.Errors[0].Path) != `["nums",0,"v"]` || !strings.Contains(r.Errors[0].Message, `Float cannot represent value: "abc"`) {
		t.Errorf("errors %s", r.Raw)
	}

	// An error in a nullable root field leaves the others.
	r = g.gqDo(gqReq{Key: g.p.PublishableKey}, `{ c: numsCount s: secretsById(id: "0123456789abcdef01234567") { s } }`, nil)
	gqWant(t, "root partial", r.Data, `{"c":2,"s":null}`)
	if len(r.Errors) != 1 || gqJSON(t, r.Errors[0].Path) != `["s"]` || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" ||
		r.Errors[0].Message != "Provide a valid user Bearer token for private reads." || r.Errors[0].Extensions["status"] != float64(401) {
		t.Errorf("errors %s", r.Raw)
	}

	// A null in a non-null position propagates to the nearest nullable
	// one: here an _id that is no ID nulls the document, so the list,
	// so the whole data.
	coll := testdb.Client(t).Database(projectDB(t, g.p.ID)).Collection("nums")
	if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "_id", Value: bson.D{{Key: "odd", Value: true}}}, {Key: "w", Value: "3"}}); err != nil {
		t.Fatal(err)
	}
	r = g.gqDo(gqReq{Key: g.p.SecretKey}, `{ c: numsCount nums(filter: {w: {eq: "3"}}) { _id w } }`, nil)
	if r.Data != nil || len(r.Errors) != 1 || gqJSON(t, r.Errors[0].Path) != `["nums",0,"_id"]` {
		t.Errorf("non-null propagation: %s", r.Raw)
	}
}

func TestGraphQLLimits(t *testing.T) {
	g := gqNew(t)
	g.define(t, "nodes", nil, gqField("name", "String"), gqField("parent", "Ref", "ref", "nodes"))

	deep := "name"
	for range 12 {
		deep = "parent { " + deep + " }"
	}
	r := g.gqDo(gqReq{Key: g.p.SecretKey}, `{ nodes { `+deep+` } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "DEPTH_LIMIT_EXCEEDED" || r.Errors[0].Message != "operation has depth 14, which exceeds the limit of 12" {
		t.Errorf("deep query: %s", r.Raw)
	}
	ok := "name"
	for range 10 {
		ok = "parent { " + ok + " }"
	}
	g.sk(t, `{ nodes { `+ok+` } }`, nil)

	var b strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&b, "a%d: nodesCount ", i)
	}
	r = g.gqDo(gqReq{Key: g.p.SecretKey}, `{ `+b.String()+` }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" || r.Errors[0].Message != "operation has complexity 1001, which exceeds the limit of 1000" {
		t.Errorf("complex query: %.300s", r.Raw)
	}
}

func TestGraphQLIntrospection(t *testing.T) {
	g := gqNew(t)
	gqPosts(t, g)
	d := g.sk(t, `{ __type(name: "BlogPosts") { name kind fields { name type { kind name ofType { kind name } } } }
		missing: __type(name: "Nope") { name }
		filter: __type(name: "StringFilter") { kind inputFields { name type { kind name ofType { name } } } fields { name } }
		enum: __type(name: "BlogPostsSortField") { enumValues { name } } }`, nil)
	gqWant(t, "BlogPosts fields[0]", get(d, "__type", "fields").([]any)[0], `{"name":"_id","type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"SCALAR","name":"ID"}}}`)
	if d["missing"] != nil || get(d, "filter", "fields") != nil || str(d, "filter", "kind") != "INPUT_OBJECT" {
		t.Errorf("introspection: %v", d)
	}
	gqWant(t, "sort fields", get(d, "enum", "enumValues"), `[{"name":"_id"},{"name":"title"},{"name":"views"},{"name":"published"},{"name":"at"},{"name":"createdAt"},{"name":"updatedAt"}]`)

	// The standard introspection query (GraphiQL, codegen) works.
	full := g.sk(t, introspection.NewQuery(introspection.QueryOptions{}), nil)
	types := get(full, "__schema", "types").([]any)
	names := map[string]bool{}
	for _, ty := range types {
		names[str(ty, "name")] = true
	}
	for _, n := range []string{"BlogPosts", "BlogPostsInput", "BlogPostsPatch", "BlogPostsFilter", "BlogPostsSort", "BlogPostsPage", "BlogPostsChange", "BlogPostsMeta", "User", "AuthPayload", "Time", "JSON", "ChangeOp", "__Schema"} {
		if !names[n] {
			t.Errorf("introspection has no type %s", n)
		}
	}
	if str(full, "__schema", "subscriptionType", "name") != "Subscription" {
		t.Errorf("subscriptionType: %v", get(full, "__schema", "subscriptionType"))
	}
}

func TestGraphQLEndpoint(t *testing.T) {
	g := gqNew(t)
	// No key, a bad key: refused before execution, with REST's message
	// and status.
	r := g.gqDo(gqReq{}, `{ me { _id } }`, nil)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("no key: status %d", r.Status)
	}
	r.gqFails(t, "UNAUTHENTICATED", 401, "API key not found")
	restNoKey := g.rest(http.MethodGet, "/api/data/x", restReq{})
	restNoKey.wantError(t, 401, "API key not found")

	// The schema follows the collection definitions.
	r = g.gqDo(gqReq{Key: g.p.SecretKey}, `{ newThings { _id } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("before define: %s", r.Raw)
	}
	g.define(t, "new-things", nil)
	d := g.sk(t, `mutation { insertNewThings(doc: {data: {a: 1, b: "x", nested: {c: [1, 2]}}}) { _id data } }`, nil)
	id := str(d, "insertNewThings", "_id")
	data := get(d, "insertNewThings", "data").(map[string]any)
	if data["_id"] != id || data["a"] != float64(1) || data["b"] != "x" || gqJSON(t, data["nested"]) != `{"c":[1,2]}` {
		t.Errorf("flexible document: %v", data)
	}
	d = g.sk(t, `mutation($id: ID!, $set: JSON!) { updateNewThings(id: $id, set: {data: $set}) { data } }`, map[string]any{"id": id, "set": map[string]any{"b": "y", "nested.c": []any{3}}})
	if got := get(d, "updateNewThings", "data").(map[string]any); got["b"] != "y" || gqJSON(t, got["nested"]) != `{"c":[3]}` || got["a"] != float64(1) {
		t.Errorf("flexible patch: %v", got)
	}

	// Browsers get the built-in page, with nothing loaded from elsewhere.
	req, _ := http.NewRequest(http.MethodGet, g.ts.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), "<title>urBackend GraphQL</title>") || strings.Contains(string(page), "src=\"http") {
		t.Errorf("playground: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}

	// CORS preflight.
	req, _ = http.NewRequest(http.MethodOptions, g.ts.URL+"/graphql", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-api-key,authorization")
	res, _ = g.do(req)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "x-api-key") {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}
