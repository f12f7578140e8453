package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// gqCodes is extensions.code per REST status (contract/GRAPHQL.md).
var gqCodes = map[int]string{400: "BAD_USER_INPUT", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT"}

// TestGraphQLRLSParity runs each case through REST and through GraphQL:
// a refusal must be the same (message, status, and the code of that
// status), a success must succeed in both.
func TestGraphQLRLSParity(t *testing.T) {
	f := newRLSFixture(t)
	e := f.e
	pk, sk := f.p.PublishableKey, f.p.SecretKey
	fields := []any{field("title", "String"), field("userId", "String")}
	f.define(t, "open", nil, fields...)
	f.define(t, "pub", map[string]any{"enabled": true, "mode": "PUBLIC_READ", "ownerField": "userId"}, fields...)
	f.define(t, "owo", map[string]any{"enabled": true, "mode": "OWNER_WRITE_ONLY", "ownerField": "userId"}, fields...)
	f.define(t, "priv", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, fields...)
	f.define(t, "weird", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, fields...)
	f.setRLS(t, "weird", bson.D{{Key: "rls.mode", Value: "team-only"}})
	seed := func(coll, title, owner string) string {
		return f.seed(t, coll, map[string]any{"title": title, "userId": owner})
	}
	privA, privB := seed("priv", "a", f.alice), seed("priv", "b", f.bob)
	owoA := seed("owo", "a", f.alice)
	seed("open", "o", f.bob)

	type call struct {
		key, tok        string
		method, path    string
		body            any
		query           string
		vars            map[string]any
		field           string // the GraphQL root field
		nullForNotFound bool   // …ById: REST's 404 is a null here
	}
	cases := []struct {
		name string
		c    call
	}{
		{"list private anonymous", call{key: pk, method: "GET", path: "/api/data/priv", query: `{ priv { _id } }`, field: "priv"}},
		{"count private anonymous", call{key: pk, method: "GET", path: "/api/data/priv?count=true", query: `{ privCount }`, field: "privCount"}},
		{"list private owner", call{key: pk, tok: f.aliceTok, method: "GET", path: "/api/data/priv", query: `{ priv { _id } }`, field: "priv"}},
		{"by id private anonymous", call{key: pk, method: "GET", path: "/api/data/priv/" + privA, query: `{ privById(id: "` + privA + `") { _id } }`, field: "privById"}},
		{"by id private other owner", call{key: pk, tok: f.aliceTok, method: "GET", path: "/api/data/priv/" + privB, query: `{ privById(id: "` + privB + `") { _id } }`, field: "privById", nullForNotFound: true}},
		{"by id malformed", call{key: pk, tok: f.aliceTok, method: "GET", path: "/api/data/priv/zz", query: `{ privById(id: "zz") { _id } }`, field: "privById"}},
		{"by id unsupported mode", call{key: pk, tok: f.aliceTok, method: "GET", path: "/api/data/weird/" + privA, query: `{ weirdById(id: "` + privA + `") { _id } }`, field: "weirdById"}},
		{"list unsupported mode", call{key: pk, tok: f.aliceTok, method: "GET", path: "/api/data/weird", query: `{ weird { _id } }`, field: "weird"}},
		{"secret key reads all", call{key: sk, method: "GET", path: "/api/data/priv", query: `{ priv { _id } }`, field: "priv"}},
		{"insert rls disabled", call{key: pk, tok: f.aliceTok, method: "POST", path: "/api/data/open", body: map[string]any{"title": "x"}, query: `mutation { insertOpen(doc: {title: "x"}) { _id } }`, field: "insertOpen"}},
		{"insert anonymous", call{key: pk, method: "POST", path: "/api/data/owo", body: map[string]any{"title": "x"}, query: `mutation { insertOwo(doc: {title: "x"}) { _id } }`, field: "insertOwo"}},
		{"insert foreign owner", call{key: pk, tok: f.aliceTok, method: "POST", path: "/api/data/owo", body: map[string]any{"title": "x", "userId": f.bob}, query: `mutation { insertOwo(doc: {title: "x", userId: "` + f.bob + `"}) { _id } }`, field: "insertOwo"}},
		{"insert own", call{key: pk, tok: f.aliceTok, method: "POST", path: "/api/data/owo", body: map[string]any{"title": "x"}, query: `mutation { insertOwo(doc: {title: "x"}) { userId } }`, field: "insertOwo"}},
		{"bulk foreign owner", call{key: pk, tok: f.aliceTok, method: "POST", path: "/api/data/owo/bulk", body: []any{map[string]any{"title": "x"}, map[string]any{"title": "y", "userId": f.bob}}, query: `mutation { insertManyOwo(docs: [{title: "x"}, {title: "y", userId: "` + f.bob + `"}]) { _id } }`, field: "insertManyOwo"}},
		{"bulk own", call{key: pk, tok: f.aliceTok, method: "POST", path: "/api/data/owo/bulk", body: []any{map[string]any{"title": "x"}}, query: `mutation { insertManyOwo(docs: [{title: "x"}]) { userId } }`, field: "insertManyOwo"}},
		{"update other's", call{key: pk, tok: f.bobTok, method: "PATCH", path: "/api/data/owo/" + owoA, body: map[string]any{"title": "z"}, query: `mutation { updateOwo(id: "` + owoA + `", set: {title: "z"}) { _id } }`, field: "updateOwo"}},
		{"update owner change", call{key: pk, tok: f.aliceTok, method: "PATCH", path: "/api/data/owo/" + owoA, body: map[string]any{"userId": f.bob}, query: `mutation { updateOwo(id: "` + owoA + `", set: {userId: "` + f.bob + `"}) { _id } }`, field: "updateOwo"}},
		{"update malformed id", call{key: pk, tok: f.aliceTok, method: "PATCH", path: "/api/data/owo/zz", body: map[string]any{"title": "z"}, query: `mutation { updateOwo(id: "zz", set: {title: "z"}) { _id } }`, field: "updateOwo"}},
		{"update anonymous", call{key: pk, method: "PATCH", path: "/api/data/owo/" + owoA, body: map[string]any{"title": "z"}, query: `mutation { updateOwo(id: "` + owoA + `", set: {title: "z"}) { _id } }`, field: "updateOwo"}},
		{"update own", call{key: pk, tok: f.aliceTok, method: "PATCH", path: "/api/data/owo/" + owoA, body: map[string]any{"title": "z"}, query: `mutation { updateOwo(id: "` + owoA + `", set: {title: "z"}) { title } }`, field: "updateOwo"}},
		{"delete other's", call{key: pk, tok: f.bobTok, method: "DELETE", path: "/api/data/owo/" + owoA, query: `mutation { deleteOwo(id: "` + owoA + `") { _id } }`, field: "deleteOwo"}},
		{"delete missing", call{key: pk, tok: f.bobTok, method: "DELETE", path: "/api/data/owo/" + bson.NewObjectID().Hex(), query: `mutation { deleteOwo(id: "` + bson.NewObjectID().Hex() + `") { _id } }`, field: "deleteOwo"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			rr := restReq{Key: c.key, Body: c.body}
			if c.tok != "" {
				rr.Token = c.tok
			}
			rest := e.rest(c.method, c.path, rr)
			gq := e.gqDo(gqReq{Key: c.key, Token: c.tok}, c.query, c.vars)
			if rest.Status < 300 {
				if len(gq.Errors) > 0 {
					t.Fatalf("REST %d, GraphQL failed: %s", rest.Status, gq.Raw)
				}
				return
			}
			var body struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal([]byte(rest.Body), &body)
			if c.nullForNotFound && rest.Status == http.StatusNotFound {
				if len(gq.Errors) != 0 || gq.Data[c.field] != nil {
					t.Fatalf("REST 404 %s; GraphQL %s, want null", body.Message, gq.Raw)
				}
				return
			}
			gq.gqFails(t, gqCodes[rest.Status], rest.Status, body.Message)
			if got := gqJSON(t, gq.Errors[0].Path); got != `["`+c.field+`"]` {
				t.Errorf("error path %s", got)
			}
		})
	}

	// Read results are the same documents.
	ids := func(items any) string {
		var out []string
		for _, it := range items.([]any) {
			out = append(out, str(it, "_id"))
		}
		return strings.Join(out, ",")
	}
	rest := e.rest(http.MethodGet, "/api/data/priv?sort=_id", restReq{Key: pk, Token: f.aliceTok}).json(t)
	gq := e.gqDo(gqReq{Key: pk, Token: f.aliceTok}, `{ priv(sort: [{field: _id}]) { _id } }`, nil).ok(t)
	if a, b := ids(get(rest, "data", "items")), ids(gq["priv"]); a != b || a != privA {
		t.Errorf("alice reads REST %s, GraphQL %s, want %s", a, b, privA)
	}

	// replace keeps the owner when the document leaves it out, and the
	// owner may not replace it with another.
	d := e.gqDo(gqReq{Key: pk, Token: f.aliceTok}, `mutation($id: ID!) { replaceOwo(id: $id, doc: {title: "new"}) { title userId } }`, map[string]any{"id": owoA}).ok(t)
	gqWant(t, "replaced", d["replaceOwo"], `{"title":"new","userId":"`+f.alice+`"}`)
	e.gqDo(gqReq{Key: pk, Token: f.bobTok}, `mutation($id: ID!) { replaceOwo(id: $id, doc: {title: "mine"}) { title } }`, map[string]any{"id": owoA}).
		gqFails(t, "FORBIDDEN", 403, "You can only modify your own document.")
	e.gqDo(gqReq{Key: pk, Token: f.aliceTok}, `mutation($id: ID!, $u: String) { replaceOwo(id: $id, doc: {title: "x", userId: $u}) { title } }`, map[string]any{"id": owoA, "u": f.bob}).
		gqFails(t, "FORBIDDEN", 403, "userId cannot be changed under RLS.")

	// A Ref to a document the caller may not read is null, as REST's
	// populate leaves it.
	f.define(t, "notes", nil, field("title", "String"), field("secret", "Ref", "ref", "priv"))
	note := f.seed(t, "notes", map[string]any{"title": "n", "secret": privB})
	d = e.gqDo(gqReq{Key: pk, Token: f.aliceTok}, `query($id: ID!) { notesById(id: $id) { title secret { title } } }`, map[string]any{"id": note}).ok(t)
	gqWant(t, "hidden ref", d["notesById"], `{"title":"n","secret":null}`)
	d = e.gqDo(gqReq{Key: pk, Token: f.bobTok}, `query($id: ID!) { notesById(id: $id) { secret { title } } }`, map[string]any{"id": note}).ok(t)
	gqWant(t, "own ref", d["notesById"], `{"secret":{"title":"b"}}`)

	// A foreign origin is refused for publishable keys, as in REST.
	restricted := e.createProject(f.admin, map[string]any{"name": "strict", "allowedOrigins": []string{"https://app.example.com"}})
	for _, o := range []string{"", "https://evil.example.com"} {
		rest := e.rest(http.MethodGet, "/api/data/x", restReq{Key: restricted.PublishableKey, Headers: map[string]string{"Origin": o}})
		var body struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal([]byte(rest.Body), &body)
		gq := e.gqDo(gqReq{Key: restricted.PublishableKey, Headers: map[string]string{"Origin": o}}, `{ me { _id } }`, nil)
		if gq.Status != rest.Status {
			t.Errorf("origin %q: GraphQL status %d, REST %d", o, gq.Status, rest.Status)
		}
		gq.gqFails(t, gqCodes[rest.Status], rest.Status, body.Message)
	}
	e.gqDo(gqReq{Key: restricted.PublishableKey, Headers: map[string]string{"Origin": "https://app.example.com"}}, `{ __typename }`, nil).ok(t)
}
