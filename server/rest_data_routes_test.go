package server_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/urbackend/urbackend/server"
)

// TestDataRoutes walks every data and schema route once, in order, and
// checks the exact status and body shape of contract/REST.md §3.1 and §4.
func TestDataRoutes(t *testing.T) {
	clock := &dqClock{}
	t0 := time.Now().UTC().Truncate(time.Second).Add(250*time.Millisecond + 999*time.Microsecond)
	clock.Set(t0)
	d := dqNew(t, func(c *server.Config) { c.Now = clock.Now })
	d.define(t, "posts",
		field("title", "String", "required", true, "unique", true),
		field("views", "Number"),
		field("publishedAt", "Date"),
		field("tags", "Array", "items", map[string]any{"type": "String"}),
	)
	t0s := dqISOFormat(t0)
	if !strings.HasSuffix(t0s, ".250Z") {
		t.Fatalf("clock format: got %s", t0s)
	}
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	var id1, id2 string

	for _, tc := range []struct {
		name   string
		before func()
		method string
		path   func() string
		body   any
		status int
		check  func(t *testing.T, r restResult)
	}{
		{
			name: "insert", method: "POST", path: func() string { return "/api/data/posts" },
			body:   `{"title":"  First  ","views":1000000,"ratio":0.5,"big":123456789012,"sci":2.5e7,"publishedAt":"2024-01-15T10:30:00+02:00","tags":["a"]}`,
			status: 201,
			check: func(t *testing.T, r restResult) {
				doc := r.json(t)
				dqWantKeys(t, "inserted document", doc, "_id", "title", "views", "ratio", "big", "sci", "publishedAt", "tags", "createdAt", "updatedAt", "__v")
				id1 = str(doc, "_id")
				if !dqHexID.MatchString(id1) {
					t.Errorf("_id: got %q, want 24 hex digits", id1)
				}
				if doc["title"] != "First" {
					t.Errorf("title: got %q, want it trimmed to %q", doc["title"], "First")
				}
				for _, want := range []string{`"views":1000000`, `"ratio":0.5`, `"big":123456789012`, `"sci":25000000`, `"__v":0`} {
					if !strings.Contains(r.Body, want) {
						t.Errorf("raw body %s does not contain %s", r.Body, want)
					}
				}
				if strings.Contains(r.Body, "e+") {
					t.Errorf("raw body %s has a number in exponent form", r.Body)
				}
				if doc["publishedAt"] != "2024-01-15T08:30:00.000Z" {
					t.Errorf("publishedAt: got %v, want 2024-01-15T08:30:00.000Z", doc["publishedAt"])
				}
				if doc["createdAt"] != t0s || doc["updatedAt"] != t0s {
					t.Errorf("createdAt/updatedAt: got %v/%v, want %s", doc["createdAt"], doc["updatedAt"], t0s)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type: got %q, want application/json", ct)
				}
			},
		},
		{
			name: "insert keeps a client createdAt", method: "POST", path: func() string { return "/api/data/posts" },
			body:   map[string]any{"title": "Second", "createdAt": "2024-01-15T10:30:00Z"},
			status: 201,
			check: func(t *testing.T, r restResult) {
				doc := r.json(t)
				id2 = str(doc, "_id")
				if doc["createdAt"] != "2024-01-15T10:30:00.000Z" || doc["updatedAt"] != "2024-01-15T10:30:00.000Z" {
					t.Errorf("createdAt/updatedAt: got %v/%v, want 2024-01-15T10:30:00.000Z for both", doc["createdAt"], doc["updatedAt"])
				}
				if got, ok := doc["tags"].([]any); !ok || len(got) != 0 {
					t.Errorf("absent Array field: got %v, want []", doc["tags"])
				}
			},
		},
		{
			name: "get one", method: "GET", path: func() string { return "/api/data/posts/" + id1 },
			status: 200,
			check: func(t *testing.T, r restResult) {
				doc := r.json(t)
				dqWantKeys(t, "document", doc, "_id", "title", "views", "ratio", "big", "sci", "publishedAt", "tags", "createdAt", "updatedAt")
				if doc["_id"] != id1 || doc["createdAt"] != t0s || !strings.Contains(r.Body, `"views":1000000`) {
					t.Errorf("got %s, want document %s with createdAt %s and views 1000000", r.Body, id1, t0s)
				}
			},
		},
		{
			name: "list", method: "GET", path: func() string { return "/api/data/posts" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				dqWantKeys(t, "list body", body, "success", "data", "message")
				if body["success"] != true || body["message"] != "Data fetched successfully" {
					t.Errorf("envelope: got %s", r.Body)
				}
				data := body["data"].(map[string]any)
				dqWantKeys(t, "list data", data, "items", "total", "page", "limit")
				if data["total"] != float64(2) || data["page"] != float64(1) || data["limit"] != float64(100) {
					t.Errorf("meta: got total %v page %v limit %v, want 2 1 100", data["total"], data["page"], data["limit"])
				}
				items := data["items"].([]any)
				if len(items) != 2 || str(items[0], "_id") != id1 || str(items[1], "_id") != id2 {
					t.Fatalf("items: got %v, want [%s %s] (newest first)", items, id1, id2)
				}
				dqWantKeys(t, "list item", items[0].(map[string]any), "_id", "title", "views", "ratio", "big", "sci", "publishedAt", "tags", "createdAt", "updatedAt", "__v")
				if !strings.Contains(r.Body, `"views":1000000`) {
					t.Errorf("raw body %s does not contain \"views\":1000000", r.Body)
				}
			},
		},
		{
			name: "count", method: "GET", path: func() string { return "/api/data/posts?count=true" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				dqWantJSON(t, "count", r.Body, map[string]any{"success": true, "data": map[string]any{"count": 2}, "message": "Count fetched successfully."})
			},
		},
		{
			name: "cursor list", method: "GET", path: func() string { return "/api/data/posts?cursor=start&limit=1" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				dqWantKeys(t, "cursor body", body, "success", "data", "message")
				if body["success"] != true || body["message"] != "Data fetched successfully" {
					t.Errorf("envelope: got %s", r.Body)
				}
				data := body["data"].(map[string]any)
				dqWantKeys(t, "cursor data", data, "items", "total", "cursor", "nextCursor", "limit")
				if data["total"] != float64(2) || data["cursor"] != "start" || data["limit"] != float64(1) {
					t.Errorf("meta: got %s", r.Body)
				}
				items := data["items"].([]any)
				if len(items) != 1 || str(items[0], "_id") != id1 {
					t.Fatalf("items: got %v, want [%s]", items, id1)
				}
				raw, err := base64.StdEncoding.DecodeString(str(data, "nextCursor"))
				var c map[string]any
				if err != nil || json.Unmarshal(raw, &c) != nil || c["_id"] != id1 || c["sortValue"] != t0s {
					t.Errorf("nextCursor: got %v (%s), want base64 of {sortValue:%s,_id:%s}", data["nextCursor"], raw, t0s, id1)
				}
			},
		},
		{
			name: "bulk", method: "POST", path: func() string { return "/api/data/posts/bulk" },
			body:   []any{map[string]any{"title": "Third"}, map[string]any{"title": "Fourth"}},
			status: 201,
			check: func(t *testing.T, r restResult) {
				dqWantJSON(t, "bulk", r.Body, map[string]any{"success": true, "data": map[string]any{"insertedCount": 2}, "message": "Bulk insert successful"})
			},
		},
		{
			name: "PUT is a partial update; createdAt is immutable", before: func() { clock.Set(t1) },
			method: "PUT", path: func() string { return "/api/data/posts/" + id1 },
			body:   map[string]any{"title": "First v2", "views": 2000000, "createdAt": "2000-01-01T00:00:00Z", "updatedAt": "2000-01-01T00:00:00Z", "__v": 7},
			status: 200,
			check: func(t *testing.T, r restResult) {
				dqUpdated(t, r, id1, map[string]any{"title": "First v2", "views": float64(2000000), "tags": []any{"a"}, "createdAt": t0s, "updatedAt": dqISOFormat(t1)})
				if !strings.Contains(r.Body, `"views":2000000`) {
					t.Errorf("raw body %s does not contain \"views\":2000000", r.Body)
				}
			},
		},
		{
			name: "PATCH", before: func() { clock.Set(t2) },
			method: "PATCH", path: func() string { return "/api/data/posts/" + id1 },
			body:   map[string]any{"views": 3, "extra": map[string]any{"k": 1}},
			status: 200,
			check: func(t *testing.T, r restResult) {
				dqUpdated(t, r, id1, map[string]any{"title": "First v2", "views": float64(3), "extra": map[string]any{"k": float64(1)}, "createdAt": t0s, "updatedAt": dqISOFormat(t2)})
			},
		},
		{
			name: "get one after updates", method: "GET", path: func() string { return "/api/data/posts/" + id1 },
			status: 200,
			check: func(t *testing.T, r restResult) {
				doc := r.json(t)
				if doc["createdAt"] != t0s || doc["updatedAt"] != dqISOFormat(t2) || doc["title"] != "First v2" || doc["views"] != float64(3) {
					t.Errorf("got %s, want title First v2, views 3, createdAt %s, updatedAt %s", r.Body, t0s, dqISOFormat(t2))
				}
			},
		},
		{
			name: "aggregate", method: "POST", path: func() string { return "/api/data/posts/aggregate" },
			body: map[string]any{"pipeline": []any{
				map[string]any{"$match": map[string]any{"views": map[string]any{"$gte": 3}}},
				map[string]any{"$project": map[string]any{"_id": 0, "title": 1, "views": 1}},
			}},
			status: 200,
			check: func(t *testing.T, r restResult) {
				dqWantJSON(t, "aggregate", r.Body, map[string]any{"success": true, "data": []any{map[string]any{"title": "First v2", "views": 3}}, "message": "Aggregation executed successfully."})
			},
		},
		{
			name: "delete", method: "DELETE", path: func() string { return "/api/data/posts/" + id2 },
			status: 200,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				if s, ok := body["success"]; ok && s != true {
					t.Errorf("success: got %v, want true or absent", s)
				}
				delete(body, "success")
				dqWantJSON(t, "delete", mustJSON(t, body), map[string]any{"message": "Document deleted", "id": id2})
			},
		},
		{
			name: "get deleted", method: "GET", path: func() string { return "/api/data/posts/" + id2 },
			status: 404,
			check:  func(t *testing.T, r restResult) { r.wantError(t, 404, "Document not found.") },
		},
		{
			name: "delete again", method: "DELETE", path: func() string { return "/api/data/posts/" + id2 },
			status: 404,
			check:  func(t *testing.T, r restResult) { r.wantError(t, 404, "Document not found.") },
		},
		{
			name: "count after delete", method: "GET", path: func() string { return "/api/data/posts?count=true" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				dqWantJSON(t, "count", r.Body, map[string]any{"success": true, "data": map[string]any{"count": 3}, "message": "Count fetched successfully."})
			},
		},
		{
			name: "get schema", method: "GET", path: func() string { return "/api/schemas/posts" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				id := str(body, "collection", "_id")
				if !dqHexID.MatchString(id) {
					t.Errorf("collection._id: got %q, want 24 hex digits", id)
				}
				f := func(key, typ string, required, unique bool, extra ...any) map[string]any {
					m := map[string]any{"key": key, "type": typ, "required": required, "unique": unique, "fields": []any{}}
					for i := 0; i+1 < len(extra); i += 2 {
						m[extra[i].(string)] = extra[i+1]
					}
					return m
				}
				dqWantJSON(t, "schema", r.Body, map[string]any{
					"message": "Schema exists",
					"collection": map[string]any{
						"_id":  id,
						"name": "posts",
						"model": []any{
							f("title", "String", true, true),
							f("views", "Number", false, false),
							f("publishedAt", "Date", false, false),
							f("tags", "Array", false, false, "items", map[string]any{"type": "String"}),
						},
						"rls": map[string]any{"enabled": false, "mode": "public-read", "ownerField": "userId", "requireAuthForWrite": true},
					},
				})
			},
		},
		{
			name: "create schema", method: "POST", path: func() string { return "/api/schemas" },
			body: map[string]any{"name": "notes", "fields": []any{
				map[string]any{"name": "body", "type": "string", "required": true},
				map[string]any{"name": "score", "type": "Number", "default": 5},
				map[string]any{"name": "meta", "type": "object", "fields": []any{map[string]any{"name": "views", "type": "number"}}},
				map[string]any{"name": "labels", "type": "array", "items": map[string]any{"type": "string"}},
				map[string]any{"name": "post", "type": "ref", "ref": "posts"},
			}},
			status: 201,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				dqWantKeys(t, "create schema body", body, "message", "project")
				if body["message"] != "Schema created successfully" || str(body, "project", "_id") != d.p.ID || str(body, "project", "name") != "p" {
					t.Errorf("got %s, want message Schema created successfully and project %s", r.Body, d.p.ID)
				}
				for _, secret := range []string{d.p.SecretKey, d.p.PublishableKey, "secretKey", "publishableKey", "jwtSecret"} {
					if strings.Contains(r.Body, secret) {
						t.Errorf("body %s leaks %q", r.Body, secret)
					}
				}
			},
		},
		{
			name: "get created schema", method: "GET", path: func() string { return "/api/schemas/notes" },
			status: 200,
			check: func(t *testing.T, r restResult) {
				body := r.json(t)
				model, _ := get(body, "collection", "model").([]any)
				var got []string
				for _, m := range model {
					got = append(got, str(m, "key")+":"+str(m, "type"))
				}
				if strings.Join(got, " ") != "body:String score:Number meta:Object labels:Array post:Ref" {
					t.Errorf("model: got %v", got)
				}
				if len(model) == 5 {
					if get(model[0], "required") != true || get(model[1], "default") != float64(5) || str(model[4], "ref") != "posts" ||
						str(model[3], "items", "type") != "String" || str(get(model[2], "fields").([]any)[0], "type") != "Number" {
						t.Errorf("model details: got %s", r.Body)
					}
				}
			},
		},
		{
			name: "insert into created collection", method: "POST", path: func() string { return "/api/data/notes" },
			body:   map[string]any{"body": "hi"},
			status: 201,
			check: func(t *testing.T, r restResult) {
				doc := r.json(t)
				if doc["score"] != float64(5) || doc["body"] != "hi" {
					t.Errorf("got %s, want the default score 5", r.Body)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			r := d.call(tc.method, tc.path(), tc.body)
			if r.Status != tc.status {
				t.Fatalf("%s %s: got %d %s, want %d", tc.method, tc.path(), r.Status, r.Body, tc.status)
			}
			tc.check(t, r)
		})
	}
}

// dqUpdated checks a PUT/PATCH answer: {"message":"Updated","data":doc}
// (success:true allowed), with doc's _id and the wanted fields.
func dqUpdated(t *testing.T, r restResult, id string, want map[string]any) {
	t.Helper()
	body := r.json(t)
	if s, ok := body["success"]; ok && s != true {
		t.Errorf("success: got %v, want true or absent", s)
	}
	delete(body, "success")
	dqWantKeys(t, "update body", body, "message", "data")
	if body["message"] != "Updated" {
		t.Errorf("message: got %v, want Updated", body["message"])
	}
	doc, _ := body["data"].(map[string]any)
	if doc["_id"] != id || doc["__v"] != float64(0) {
		t.Errorf("data: got %v, want _id %s and __v 0", doc, id)
	}
	for k, v := range want {
		if !cmpJSON(doc[k], v) {
			t.Errorf("data.%s: got %v, want %v", k, doc[k], v)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDataRouteErrors(t *testing.T) {
	d := dqNew(t)
	d.define(t, "posts", field("title", "String", "required", true))
	id := str(d.insert(t, "posts", map[string]any{"title": "x"}), "_id")
	missing := "0123456789abcdef01234567"
	for _, tc := range []struct {
		name, method, path string
		key                string // default: the secret key
		body               any
		status             int
		want               string
	}{
		{"get bad id", "GET", "/api/data/posts/nope", "", nil, 400, "Invalid ID format."},
		{"get missing document", "GET", "/api/data/posts/" + missing, "", nil, 404, "Document not found."},
		{"get unknown collection", "GET", "/api/data/nope/" + id, "", nil, 404, "Collection not found"},
		{"get bad id on unknown collection (sk: id first)", "GET", "/api/data/nope/bad", "", nil, 400, "Invalid ID format."},
		{"list unknown collection", "GET", "/api/data/nope", "", nil, 404, "Collection not found"},
		{"count unknown collection", "GET", "/api/data/nope?count=true", "", nil, 404, "Collection not found"},
		{"collection names are case-sensitive", "GET", "/api/data/Posts", "", nil, 404, "Collection not found"},
		{"insert unknown collection", "POST", "/api/data/nope", "", map[string]any{"a": 1}, 404, "Collection not found"},
		{"insert array body", "POST", "/api/data/posts", "", []any{map[string]any{"title": "x"}}, 400, "Request body must be a JSON object."},
		{"bulk unknown collection", "POST", "/api/data/nope/bulk", "", []any{map[string]any{"a": 1}}, 404, "Collection not found"},
		{"aggregate unknown collection", "POST", "/api/data/nope/aggregate", "", map[string]any{"pipeline": []any{map[string]any{"$count": "n"}}}, 404, "Collection not found"},
		{"put bad id", "PUT", "/api/data/posts/bad", "", map[string]any{"title": "y"}, 400, "Invalid ID format."},
		{"patch bad id", "PATCH", "/api/data/posts/bad", "", map[string]any{"title": "y"}, 400, "Invalid ID format."},
		{"put missing document", "PUT", "/api/data/posts/" + missing, "", map[string]any{"title": "y"}, 404, "Document not found."},
		{"put unknown collection", "PUT", "/api/data/nope/" + id, "", map[string]any{"title": "y"}, 404, "Collection not found"},
		{"put array body", "PUT", "/api/data/posts/" + id, "", []any{}, 400, "Request body must be a JSON object."},
		{"put bad id on unknown collection (sk: id first)", "PUT", "/api/data/nope/bad", "", map[string]any{"title": "y"}, 400, "Invalid ID format."},
		{"put missing document with invalid body (validation first)", "PUT", "/api/data/posts/" + missing, "", map[string]any{"title": nil}, 400, "Field 'title' is required."},
		{"put unknown collection with invalid body (collection first)", "PATCH", "/api/data/nope/" + id, "", map[string]any{"$x": 1}, 404, "Collection not found"},
		{"delete bad id", "DELETE", "/api/data/posts/bad", "", nil, 400, "Invalid ID format."},
		{"delete bad id on unknown collection (sk: id first)", "DELETE", "/api/data/nope/bad", "", nil, 400, "Invalid ID format."},
		{"delete missing document", "DELETE", "/api/data/posts/" + missing, "", nil, 404, "Document not found."},
		{"delete unknown collection", "DELETE", "/api/data/nope/" + id, "", nil, 404, "Collection not found"},
		{"users collection blocked", "GET", "/api/data/users", "", nil, 403, "Use /api/userAuth endpoints for users collection operations."},
		{"no key", "GET", "/api/data/posts", "-", nil, 401, "API key not found"},
		{"schema unknown", "GET", "/api/schemas/nope", "", nil, 404, "Schema/Collection not found"},
		{"create schema with publishable key", "POST", "/api/schemas", "pk", map[string]any{"name": "x"}, 403, "Forbidden. This action requires a Secret Key (sk_live_...)."},
		{"create schema without name", "POST", "/api/schemas", "", map[string]any{}, 400, "Invalid input: expected string, received undefined"},
		{"create schema with empty name", "POST", "/api/schemas", "", map[string]any{"name": ""}, 400, "Collection Name is required"},
		{"create existing schema", "POST", "/api/schemas", "", map[string]any{"name": "posts"}, 400, "Collection/Schema already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := d.p.SecretKey
			switch tc.key {
			case "-":
				key = ""
			case "pk":
				key = d.p.PublishableKey
			}
			d.rest(tc.method, tc.path, restReq{Key: key, Body: tc.body}).wantError(t, tc.status, tc.want)
		})
	}
	// The document is untouched by the refused writes.
	r := d.call("GET", "/api/data/posts/"+id, nil)
	if got := str(r.json(t), "title"); got != "x" {
		t.Errorf("title after refused writes: got %q, want x", got)
	}
}
