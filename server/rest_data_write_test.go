package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// dqDefineVals defines the collection of the validation tests.
func dqDefineVals(t *testing.T, d *dqEnv) {
	t.Helper()
	d.define(t, "refs", field("name", "String"))
	d.define(t, "vals",
		field("title", "String", "required", true),
		field("email", "String", "format", "email"),
		field("site", "String", "format", "url"),
		field("color", "String", "format", "color"),
		field("slug", "String", "format", "slug"),
		field("n", "Number"),
		field("ok", "Boolean"),
		field("when", "Date"),
		field("info", "Object", "fields", []any{
			field("views", "Number"),
			field("seo", "Object", "fields", []any{field("headline", "String")}),
		}),
		field("tags", "Array", "items", map[string]any{"type": "String"}),
		field("links", "Array", "items", map[string]any{"type": "Object", "fields": []any{field("url", "String")}}),
		field("owner", "Ref", "ref", "refs"),
		field("level", "Number", "default", 1),
		field("status", "String", "default", "draft"),
		field("flag", "Boolean", "default", false),
		field("anything", "Array"),
	)
}

func TestDataInsertValidation(t *testing.T) {
	d := dqNew(t)
	dqDefineVals(t, d)
	ok := func(extra map[string]any) map[string]any {
		m := map[string]any{"title": "t"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"required absent", map[string]any{}, "Field 'title' is required."},
		{"required null", map[string]any{"title": nil}, "Field 'title' is required."},
		{"required blank after trim", map[string]any{"title": "   "}, "Field 'title' is required."},
		{"first failure in schema order", map[string]any{"n": "x"}, "Field 'title' is required."},
		{"first failure in schema order 2", map[string]any{"title": 5, "n": "x"}, "Field 'title' must be a String."},
		{"String", ok(map[string]any{"email": 5}), "Field 'email' must be a String."},
		{"email format", ok(map[string]any{"email": "nope"}), "Field 'email' must be a valid email (e.g., user@example.com)."},
		{"url format", ok(map[string]any{"site": "ftp://example.com"}), "Field 'site' must match format 'url'."},
		{"color format", ok(map[string]any{"color": "red"}), "Field 'color' must match format 'color'."},
		{"slug format", ok(map[string]any{"slug": "Not A Slug"}), "Field 'slug' must match format 'slug'."},
		{"Number rejects a numeric string", ok(map[string]any{"n": "5"}), "Field 'n' must be a Number."},
		{"Number rejects a boolean", ok(map[string]any{"n": true}), "Field 'n' must be a Number."},
		{"Boolean", ok(map[string]any{"ok": "true"}), "Field 'ok' must be a Boolean."},
		{"Date", ok(map[string]any{"when": "not a date"}), "Field 'when' must be a valid Date."},
		{"Date boolean", ok(map[string]any{"when": true}), "Field 'when' must be a valid Date."},
		{"Object", ok(map[string]any{"info": "x"}), "Field 'info' must be an Object."},
		{"Object array", ok(map[string]any{"info": []any{}}), "Field 'info' must be an Object."},
		{"nested field", ok(map[string]any{"info": map[string]any{"views": "many"}}), "Field 'views' must be a Number."},
		{"nested Object", ok(map[string]any{"info": map[string]any{"seo": 1}}), "Field 'seo' must be an Object."},
		{"two levels deep", ok(map[string]any{"info": map[string]any{"seo": map[string]any{"headline": 1}}}), "Field 'headline' must be a String."},
		{"Array", ok(map[string]any{"tags": "red"}), "Field 'tags' must be an Array."},
		{"Array item", ok(map[string]any{"tags": []any{"a", 2}}), "Field 'tags[1]' must be a String."},
		{"Array of Object item", ok(map[string]any{"links": []any{"x"}}), "Field 'links[0]' must be an Object."},
		{"Array of Object item field", ok(map[string]any{"links": []any{map[string]any{"url": "u"}, map[string]any{"url": 1}}}), "Field 'url' must be a String."},
		{"Ref", ok(map[string]any{"owner": "abc"}), "Field 'owner' must be a valid reference ID (ObjectId)."},
		{"Ref number", ok(map[string]any{"owner": 5}), "Field 'owner' must be a valid reference ID (ObjectId)."},
		{"untyped Array", ok(map[string]any{"anything": map[string]any{}}), "Field 'anything' must be an Array."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.call("POST", "/api/data/vals", tc.body).wantError(t, 400, tc.want)
		})
	}
	if n := d.count(t, "vals", ""); n != 0 {
		t.Errorf("refused inserts wrote %d documents", n)
	}
}

func TestDataInsertDefaultsAndConversions(t *testing.T) {
	d := dqNew(t)
	dqDefineVals(t, d)
	ref := str(d.insert(t, "refs", map[string]any{"name": "r"}), "_id")
	doc := d.insert(t, "vals", map[string]any{
		"title": "  t  ", "level": nil, "email": "a.b@example.com", "site": "https://example.com/x?y=1",
		"color": "#A0b1C2", "slug": "a-b-1", "n": 2.5, "ok": true, "when": "Mon, 15 Jan 2024 10:30:00 GMT",
		"info": map[string]any{"views": 3, "seo": map[string]any{"headline": "  h  "}, "free": "kept"},
		"tags": []any{"x", nil}, "links": []any{map[string]any{"url": "u"}}, "owner": ref, "undeclared": []any{1, "two"},
	})
	want := map[string]any{
		"title": "t", "level": float64(1), "status": "draft", "flag": false, "email": "a.b@example.com",
		"when": "2024-01-15T10:30:00.000Z", "n": 2.5, "owner": ref, "anything": []any{},
		"tags": []any{"x", nil}, "undeclared": []any{float64(1), "two"},
	}
	for k, v := range want {
		if !cmpJSON(doc[k], v) {
			t.Errorf("%s: got %#v, want %#v", k, doc[k], v)
		}
	}
	info, _ := doc["info"].(map[string]any)
	if info["views"] != float64(3) || str(info, "seo", "headline") != "  h  " || info["free"] != "kept" {
		t.Errorf("info: got %v, want views 3, headline untrimmed, free kept", info)
	}
	// An explicit null for an Array is kept; defaults are not applied to
	// a value that is present.
	doc = d.insert(t, "vals", map[string]any{"title": "u", "anything": nil, "level": 7, "status": "live", "flag": true})
	if v, ok := doc["anything"]; !ok || v != nil {
		t.Errorf("anything: got %v (present %v), want null", v, ok)
	}
	if doc["level"] != float64(7) || doc["status"] != "live" || doc["flag"] != true {
		t.Errorf("got %v, want the sent values, not defaults", doc)
	}
	// A client _id is kept when it is an ObjectId and refused otherwise.
	own := "65a4f0c2e4b0a1b2c3d4e5f6"
	if doc := d.insert(t, "vals", map[string]any{"_id": own, "title": "own id"}); doc["_id"] != own {
		t.Errorf("client _id: got %v, want %s", doc["_id"], own)
	}
	d.call("POST", "/api/data/vals", map[string]any{"_id": "nope", "title": "x"}).wantError(t, 400, "Field '_id' must be a valid ObjectId.")
	d.call("POST", "/api/data/vals", map[string]any{"title": "x", "createdAt": "yesterday"}).wantError(t, 400, "Field 'createdAt' must be a valid Date.")
	// The stored document is what insert returned.
	r := d.call("GET", "/api/data/vals/"+str(doc, "_id"), nil)
	if got := r.json(t); got["level"] != float64(7) || got["title"] != "u" {
		t.Errorf("stored: got %s", r.Body)
	}
}

func TestDataUpdateValidation(t *testing.T) {
	d := dqNew(t)
	dqDefineVals(t, d)
	id := str(d.insert(t, "vals", map[string]any{"title": "t", "n": 1, "info": map[string]any{"views": 1}}), "_id")
	path := "/api/data/vals/" + id
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"required set to null", map[string]any{"title": nil}, "Field 'title' is required."},
		{"required set to blank", map[string]any{"title": "  "}, "Field 'title' is required."},
		{"type", map[string]any{"n": "x"}, "Field 'n' must be a Number."},
		{"format", map[string]any{"email": "x"}, "Field 'email' must be a valid email (e.g., user@example.com)."},
		{"Date", map[string]any{"when": "soon"}, "Field 'when' must be a valid Date."},
		{"Object", map[string]any{"info": 3}, "Field 'info' must be an Object."},
		{"dotted path to a declared field", map[string]any{"info.views": "x"}, "Field 'views' must be a Number."},
		{"Array item", map[string]any{"tags": []any{1}}, "Field 'tags[0]' must be a String."},
		{"Ref", map[string]any{"owner": "nope"}, "Field 'owner' must be a valid reference ID (ObjectId)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.call("PATCH", path, tc.body).wantError(t, 400, tc.want)
			d.call("PUT", path, tc.body).wantError(t, 400, tc.want)
		})
	}
	r := d.call("GET", path, nil)
	if got := r.json(t); got["title"] != "t" || got["n"] != float64(1) || got["updatedAt"] != got["createdAt"] {
		t.Errorf("refused updates changed the document: %s", r.Body)
	}
	// Undeclared keys and dotted paths pass and are $set.
	r = d.call("PATCH", path, map[string]any{"info.views": 5, "free": "yes", "title": "  new  ", "_id": "65a4f0c2e4b0a1b2c3d4e5f6"})
	if r.Status != 200 {
		t.Fatalf("got %d %s", r.Status, r.Body)
	}
	doc, _ := r.json(t)["data"].(map[string]any)
	if doc["_id"] != id {
		t.Errorf("_id: got %v, want %s", doc["_id"], id)
	}
	if str(doc, "title") != "new" || get(doc, "info", "views") != float64(5) || doc["free"] != "yes" || doc["n"] != float64(1) {
		t.Errorf("got %s, want title new, info.views 5, free yes, n kept", r.Body)
	}
}

func TestDataDollarKeys(t *testing.T) {
	d := dqNew(t)
	d.define(t, "docs", field("title", "String"), field("info", "Object", "fields", []any{field("views", "Number")}))
	id := str(d.insert(t, "docs", map[string]any{"title": "t"}), "_id")
	msg := func(path string) string {
		return fmt.Sprintf("Field '%s' is not allowed: field names cannot start with '$'.", path)
	}
	for _, tc := range []struct {
		name, method, path string
		body               string
		want               string
	}{
		{"insert top level", "POST", "/api/data/docs", `{"title":"x","$set":{"a":1}}`, msg("$set")},
		{"insert in declared object", "POST", "/api/data/docs", `{"title":"x","info":{"$gt":1}}`, msg("info.$gt")},
		{"insert deep in undeclared", "POST", "/api/data/docs", `{"title":"x","extra":{"a":{"$where":"1"}}}`, msg("extra.a.$where")},
		{"insert in array", "POST", "/api/data/docs", `{"title":"x","arr":[1,{"$x":1}]}`, msg("arr[1].$x")},
		{"update top level", "PATCH", "/api/data/docs/" + id, `{"$unset":{"title":""}}`, msg("$unset")},
		{"update nested", "PUT", "/api/data/docs/" + id, `{"extra":{"deep":[{"$inc":1}]}}`, msg("extra.deep[0].$inc")},
		{"update dotted path", "PATCH", "/api/data/docs/" + id, `{"info.$x":1}`, msg("info.$x")},
		{"update declared object", "PATCH", "/api/data/docs/" + id, `{"info":{"views":1,"$rename":{"a":"b"}}}`, msg("info.$rename")},
		{"bulk", "POST", "/api/data/docs/bulk", `[{"title":"ok"},{"title":"x","o":{"$gt":1}}]`, "Invalid records at index: 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.call(tc.method, tc.path, tc.body).wantError(t, 400, tc.want)
		})
	}
	if n := d.count(t, "docs", ""); n != 1 {
		t.Errorf("documents after refused writes: got %d, want 1", n)
	}
	r := d.call("GET", "/api/data/docs/"+id, nil)
	if got := r.json(t); got["title"] != "t" || got["updatedAt"] != got["createdAt"] {
		t.Errorf("refused updates changed the document: %s", r.Body)
	}
}

func TestDataUnique(t *testing.T) {
	d := dqNew(t)
	d.define(t, "people", field("email", "String", "required", true, "unique", true), field("nick", "String", "unique", true), field("age", "Number"))
	a := d.insert(t, "people", map[string]any{"email": "a@x.com", "nick": "a", "age": 1})
	b := d.insert(t, "people", map[string]any{"email": "b@x.com", "age": 2})
	// Several documents without the optional unique field are fine.
	d.insert(t, "people", map[string]any{"email": "c@x.com"})
	const dup = "Duplicate value violates unique constraint."

	t.Run("insert", func(t *testing.T) {
		d.call("POST", "/api/data/people", map[string]any{"email": "a@x.com"}).wantError(t, 409, dup)
		d.call("POST", "/api/data/people", map[string]any{"email": "  a@x.com  "}).wantError(t, 409, dup) // trimmed first
		d.call("POST", "/api/data/people", map[string]any{"email": "d@x.com", "nick": "a"}).wantError(t, 409, dup)
		if n := d.count(t, "people", ""); n != 3 {
			t.Errorf("documents: got %d, want 3", n)
		}
		if n := d.count(t, "people", "email=d@x.com"); n != 0 {
			t.Errorf("the refused document was written")
		}
	})
	for _, method := range []string{"PUT", "PATCH"} {
		t.Run("update "+method, func(t *testing.T) {
			path := "/api/data/people/" + str(b, "_id")
			d.call(method, path, map[string]any{"email": "a@x.com", "age": 99}).wantError(t, 409, dup)
			d.call(method, path, map[string]any{"nick": "a"}).wantError(t, 409, dup)
			r := d.call("GET", path, nil)
			got := r.json(t)
			if got["email"] != "b@x.com" || got["age"] != float64(2) || got["nick"] != nil || got["updatedAt"] != got["createdAt"] {
				t.Errorf("refused update changed the document: %s", r.Body)
			}
		})
	}
	// Updating a document to its own value is no violation.
	r := d.call("PATCH", "/api/data/people/"+str(a, "_id"), map[string]any{"email": "a@x.com", "age": 5})
	if r.Status != 200 {
		t.Errorf("self update: got %d %s, want 200", r.Status, r.Body)
	}
}

func TestDataBulk(t *testing.T) {
	d := dqNew(t)
	d.define(t, "people", field("email", "String", "required", true, "unique", true), field("age", "Number"))
	taken := str(d.insert(t, "people", map[string]any{"email": "taken@x.com"}), "_id")
	items := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	person := func(i int) any { return map[string]any{"email": fmt.Sprintf("p%d@x.com", i)} }

	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"not an array", map[string]any{"email": "x@x.com"}, 400, "Request body must be an array of objects"},
		{"no body", nil, 400, "Request body must be an array of objects"},
		{"empty", []any{}, 400, "Request body cannot be empty"},
		{"too many", items(101, person), 400, "Maximum 100 records allowed"},
		{"invalid items", []any{person(0), map[string]any{"age": 1}, person(2), "x", map[string]any{"email": "e@x.com", "age": "old"}}, 400, "Invalid records at index: 1, 3, 4"},
		{"3rd of 5 duplicates an existing document", []any{person(0), person(1), map[string]any{"email": "taken@x.com"}, person(3), person(4)}, 409, "Duplicate value violates unique constraint."},
		{"5th duplicates the 1st", []any{person(0), person(1), person(2), person(3), person(0)}, 409, "Duplicate value violates unique constraint."},
		{"last of 100 duplicates an existing document", append(items(99, person), map[string]any{"email": "taken@x.com"}), 409, "Duplicate value violates unique constraint."},
		{"two items with one client _id", []any{map[string]any{"_id": "65a4f0c2e4b0a1b2c3d4e5f6", "email": "p0@x.com"}, person(1), map[string]any{"_id": "65a4f0c2e4b0a1b2c3d4e5f6", "email": "p2@x.com"}}, 409, "Duplicate value violates unique constraint."},
		// The rollback must not remove the existing document whose _id
		// the 2nd item repeats.
		{"an item with the _id of an existing document", []any{person(0), map[string]any{"_id": taken, "email": "p1@x.com"}, person(2)}, 409, "Duplicate value violates unique constraint."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.call("POST", "/api/data/people/bulk", tc.body).wantError(t, tc.status, tc.want)
			if n := d.count(t, "people", ""); n != 1 {
				t.Errorf("documents after the refused bulk: got %d, want 1 (nothing of the request may remain)", n)
			}
			if n := d.count(t, "people", "email_regex=^p"); n != 0 {
				t.Errorf("%d documents of the request remain", n)
			}
			if r := d.call("GET", "/api/data/people/"+taken, nil); r.Status != 200 || str(r.json(t), "email") != "taken@x.com" {
				t.Fatalf("the existing document: got %d %s, want it unchanged", r.Status, r.Body)
			}
		})
	}
	t.Run("100 records", func(t *testing.T) {
		r := d.call("POST", "/api/data/people/bulk", items(100, person))
		dqWantJSON(t, "bulk", r.Body, map[string]any{"success": true, "data": map[string]any{"insertedCount": 100}, "message": "Bulk insert successful"})
		if r.Status != 201 {
			t.Errorf("status: got %d, want 201", r.Status)
		}
		if n := d.count(t, "people", ""); n != 101 {
			t.Errorf("documents: got %d, want 101", n)
		}
		// Validation and conversion apply per item, with defaults and timestamps.
		items, _ := d.list(t, "people", "email=p7@x.com")
		if len(items) != 1 || !dqISO.MatchString(str(items[0], "createdAt")) || items[0]["__v"] != float64(0) {
			t.Errorf("stored item: got %v", items)
		}
	})
}

func TestDataTransport(t *testing.T) {
	d := dqNew(t)
	d.define(t, "posts", field("title", "String", "required", true))
	id := str(d.insert(t, "posts", map[string]any{"title": "x"}), "_id")
	const limit = 100 << 10
	// A body of exactly n bytes: {"title":"aaa…"}.
	sized := func(n int) string {
		return `{"title":"` + strings.Repeat("a", n-len(`{"title":""}`)) + `"}`
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"malformed JSON", "POST", "/api/data/posts", `{"title":`, 400, "Invalid JSON format"},
		{"trailing characters", "POST", "/api/data/posts", `{"title":"a"} x`, 400, "Invalid JSON format"},
		{"top-level string", "POST", "/api/data/posts", `"title"`, 400, "Invalid JSON format"},
		{"top-level number", "POST", "/api/data/posts", `42`, 400, "Invalid JSON format"},
		{"malformed JSON on update", "PATCH", "/api/data/posts/" + id, `{"title" "a"}`, 400, "Invalid JSON format"},
		{"malformed JSON on bulk", "POST", "/api/data/posts/bulk", `[{"title":"a"},]`, 400, "Invalid JSON format"},
		{"malformed JSON on aggregate", "POST", "/api/data/posts/aggregate", `{"pipeline":[}`, 400, "Invalid JSON format"},
		{"malformed JSON on schemas", "POST", "/api/schemas", `{name:"x"}`, 400, "Invalid JSON format"},
		{"body over 100 kB", "POST", "/api/data/posts", sized(limit + 1), 413, "Request body too large."},
		{"body over 100 kB on update", "PUT", "/api/data/posts/" + id, sized(limit + 1), 413, "Request body too large."},
		{"body over 100 kB on bulk", "POST", "/api/data/posts/bulk", "[" + sized(limit) + "]", 413, "Request body too large."},
		{"no body is {}", "POST", "/api/data/posts", nil, 400, "Field 'title' is required."},
		{"unknown route", "GET", "/api/nope", nil, 404, "Not Found"},
		{"unknown data sub-route", "GET", "/api/data/posts/" + id + "/more", nil, 404, "Not Found"},
		{"unknown route outside /api", "GET", "/nope", nil, 404, "Not Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.call(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.want)
		})
	}
	t.Run("body of exactly 100 kB", func(t *testing.T) {
		body := sized(limit)
		if len(body) != limit {
			t.Fatalf("body is %d bytes, want %d", len(body), limit)
		}
		r := d.call("POST", "/api/data/posts", body)
		if r.Status != 201 || len(str(r.json(t), "title")) != limit-len(`{"title":""}`) {
			t.Errorf("got %d, want 201 with the whole title", r.Status)
		}
	})
	if n := d.count(t, "posts", ""); n != 2 {
		t.Errorf("documents: got %d, want 2 (only the 100 kB insert succeeds)", n)
	}
	t.Run("JSON content type with parameters", func(t *testing.T) {
		r := d.rest("POST", "/api/data/posts", restReq{Key: d.p.SecretKey, Body: `{"title":"charset"}`,
			Headers: map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}})
		if r.Status != 201 || str(r.json(t), "title") != "charset" {
			t.Errorf("got %d %s, want 201 with the title", r.Status, r.Body)
		}
	})
	t.Run("unknown route without a key", func(t *testing.T) {
		d.rest("GET", "/api/nope", restReq{}).wantError(t, 404, "Not Found")
	})
	t.Run("trailing slash", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"GET", "/api/data/posts/", nil, 200},
			{"GET", "/api/data/posts/" + id + "/", nil, 200},
			{"POST", "/api/data/posts/", map[string]any{"title": "slash"}, 201},
			{"POST", "/api/data/posts/bulk/", []any{map[string]any{"title": "slash2"}}, 201},
			{"POST", "/api/data/posts/aggregate/", map[string]any{"pipeline": []any{map[string]any{"$count": "n"}}}, 200},
			{"PATCH", "/api/data/posts/" + id + "/", map[string]any{"title": "y"}, 200},
			{"GET", "/api/schemas/posts/", nil, 200},
		} {
			r := d.call(tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
		}
		if n := d.count(t, "posts", "title_in=slash,slash2"); n != 2 {
			t.Errorf("documents written through trailing-slash routes: got %d, want 2", n)
		}
		items, data := d.list(t, "posts/", "sort=-title")
		if data["total"] != float64(5) || str(items[0], "title") != "y" {
			t.Errorf("list with trailing slash and query: got %v", data)
		}
	})
}
