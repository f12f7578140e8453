package server_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"
)

var gqHexID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// gqPosts defines blog-posts with every scalar type, an array and a
// nested object.
func gqPosts(t *testing.T, g *gqEnv) {
	t.Helper()
	g.define(t, "blog-posts", nil,
		gqField("title", "String", "required", true, "unique", true),
		gqField("views", "Number"),
		gqField("published", "Boolean"),
		gqField("at", "Date"),
		gqField("tags", "Array", "items", map[string]any{"type": "String"}),
		gqField("meta", "Object", "fields", []any{gqField("rating", "Number"), gqField("note", "String")}),
	)
}

const gqPostFields = `_id title views published at tags meta { rating note } createdAt updatedAt`

func TestGraphQLCRUD(t *testing.T) {
	g := gqNew(t)
	gqPosts(t, g)

	// insert
	d := g.sk(t, `mutation($d: BlogPostsInput!) { insertBlogPosts(doc: $d) { `+gqPostFields+` } }`, map[string]any{"d": map[string]any{
		"title": "  First  ", "views": 10, "published": true, "at": "2024-01-15", "tags": []any{"go", "db"}, "meta": map[string]any{"rating": 4.5, "note": "ok"},
	}})
	first := get(d, "insertBlogPosts").(map[string]any)
	id := str(first, "_id")
	if !gqHexID.MatchString(id) {
		t.Fatalf("_id %q is not an ObjectID", id)
	}
	if first["createdAt"] == nil || first["createdAt"] != first["updatedAt"] {
		t.Errorf("timestamps: %v %v", first["createdAt"], first["updatedAt"])
	}
	delete(first, "_id")
	delete(first, "createdAt")
	delete(first, "updatedAt")
	gqWant(t, "inserted", first, `{"title":"First","views":10,"published":true,"at":"2024-01-15T00:00:00.000Z","tags":["go","db"],"meta":{"rating":4.5,"note":"ok"}}`)

	// The document is the one REST sees.
	rest := g.rest(http.MethodGet, "/api/data/blog-posts/"+id, restReq{Key: g.p.SecretKey}).json(t)
	if rest["title"] != "First" || rest["views"] != float64(10) {
		t.Errorf("REST sees %v", rest)
	}

	// insertMany: all or nothing, returned as stored, in order.
	d = g.sk(t, `mutation($ds: [BlogPostsInput!]!) { insertManyBlogPosts(docs: $ds) { _id title views } }`, map[string]any{"ds": []any{
		map[string]any{"title": "Second", "views": 20},
		map[string]any{"title": "Third", "views": 30, "published": false},
	}})
	many := get(d, "insertManyBlogPosts").([]any)
	if got := gqTitles(many); !slices.Equal(got, []string{"Second", "Third"}) {
		t.Fatalf("insertMany returned %v", got)
	}
	secondID := str(many[0], "_id")
	r := g.gqDo(gqReq{Key: g.p.SecretKey}, `mutation { insertManyBlogPosts(docs: [{title: "Fourth"}, {title: "First"}]) { _id } }`, nil)
	r.gqFails(t, "CONFLICT", 409, "Duplicate value violates unique constraint.")
	if n := get(g.sk(t, `{ blogPostsCount }`, nil), "blogPostsCount"); n != float64(3) {
		t.Errorf("after a failed bulk insert count = %v, want 3", n)
	}

	// list, by id, count
	d = g.sk(t, `{ blogPosts(sort: [{field: views, order: DESC}]) { title } blogPostsById(id: "`+id+`") { title } blogPostsCount(filter: {views: {gte: 20}}) }`, nil)
	if got := gqTitles(get(d, "blogPosts")); !slices.Equal(got, []string{"Third", "Second", "First"}) {
		t.Errorf("list sorted by views desc: %v", got)
	}
	if str(d, "blogPostsById", "title") != "First" || get(d, "blogPostsCount") != float64(2) {
		t.Errorf("byId/count: %v", d)
	}
	d = g.sk(t, `{ blogPosts(sort: [{field: views}], limit: 1, skip: 1) { title } }`, nil)
	if got := gqTitles(get(d, "blogPosts")); !slices.Equal(got, []string{"Second"}) {
		t.Errorf("limit 1 skip 1: %v", got)
	}

	// update patches; nested patches touch only the named members.
	d = g.sk(t, `mutation($id: ID!) { updateBlogPosts(id: $id, set: {views: 11, meta: {rating: 5}}) { `+gqPostFields+` } }`, map[string]any{"id": id})
	upd := get(d, "updateBlogPosts").(map[string]any)
	if upd["views"] != float64(11) || str(upd, "title") != "First" || get(upd, "meta", "rating") != float64(5) || str(upd, "meta", "note") != "ok" {
		t.Errorf("patched: %v", upd)
	}
	if upd["updatedAt"] == upd["createdAt"] && upd["updatedAt"] == nil {
		t.Errorf("updatedAt not set: %v", upd)
	}

	// replace is a full replacement: fields left out are removed;
	// _id and createdAt stay.
	d = g.sk(t, `mutation($id: ID!) { replaceBlogPosts(id: $id, doc: {title: "First again"}) { `+gqPostFields+` } }`, map[string]any{"id": id})
	rep := get(d, "replaceBlogPosts").(map[string]any)
	if str(rep, "_id") != id || rep["createdAt"] != upd["createdAt"] {
		t.Errorf("replace changed _id or createdAt: %v", rep)
	}
	if str(rep, "title") != "First again" || rep["views"] != nil || rep["meta"] != nil || rep["published"] != nil {
		t.Errorf("replace kept removed fields: %v", rep)
	}
	if tags, _ := rep["tags"].([]any); tags == nil || len(tags) != 0 {
		t.Errorf("replace: tags = %v, want [] (as an insert stores an absent array)", rep["tags"])
	}
	raw := g.rest(http.MethodGet, "/api/data/blog-posts/"+id, restReq{Key: g.p.SecretKey}).json(t)
	if _, ok := raw["views"]; ok {
		t.Errorf("REST still sees views after replace: %v", raw)
	}
	r = g.gqDo(gqReq{Key: g.p.SecretKey}, `mutation($id: ID!) { replaceBlogPosts(id: $id, doc: {title: "Second"}) { _id } }`, map[string]any{"id": id})
	r.gqFails(t, "CONFLICT", 409, "Duplicate value violates unique constraint.")

	// delete returns the document as it was; it is gone afterwards.
	d = g.sk(t, `mutation($id: ID!) { deleteBlogPosts(id: $id) { title } }`, map[string]any{"id": secondID})
	if str(d, "deleteBlogPosts", "title") != "Second" {
		t.Errorf("delete returned %v", d)
	}
	d = g.sk(t, `query($id: ID!) { blogPostsById(id: $id) { title } }`, map[string]any{"id": secondID})
	if v, ok := d["blogPostsById"]; !ok || v != nil {
		t.Errorf("byId of a deleted document: %v, want null", d)
	}

	// Missing documents and malformed ids, as REST answers them.
	r = g.gqDo(gqReq{Key: g.p.SecretKey}, `{ blogPostsById(id: "nope") { title } }`, nil)
	r.gqFails(t, "BAD_USER_INPUT", 400, "Invalid ID format.")
	if v, ok := r.Data["blogPostsById"]; !ok || v != nil {
		t.Errorf("malformed id: data %v, want blogPostsById null", r.Data)
	}
	for _, op := range []string{
		`mutation { updateBlogPosts(id: "` + secondID + `", set: {views: 1}) { _id } }`,
		`mutation { replaceBlogPosts(id: "` + secondID + `", doc: {title: "x"}) { _id } }`,
		`mutation { deleteBlogPosts(id: "` + secondID + `") { _id } }`,
	} {
		g.gqDo(gqReq{Key: g.p.SecretKey}, op, nil).gqFails(t, "NOT_FOUND", 404, "Document not found.")
	}
	g.gqDo(gqReq{Key: g.p.SecretKey}, `mutation { deleteBlogPosts(id: "x") { _id } }`, nil).gqFails(t, "BAD_USER_INPUT", 400, "Invalid ID format.")

	// Validation errors are REST's.
	g.gqDo(gqReq{Key: g.p.SecretKey}, `mutation { insertBlogPosts(doc: {title: ""}) { _id } }`, nil).
		gqFails(t, "BAD_USER_INPUT", 400, "Field 'title' is required.")
}

func TestGraphQLPage(t *testing.T) {
	g := gqNew(t)
	gqPosts(t, g)
	var docs []any
	for i := range 7 {
		docs = append(docs, map[string]any{"title": string(rune('a' + i)), "views": i % 3})
	}
	g.sk(t, `mutation($ds: [BlogPostsInput!]!) { insertManyBlogPosts(docs: $ds) { _id } }`, map[string]any{"ds": docs})

	var got []string
	var after any
	pages := 0
	for {
		d := g.sk(t, `query($a: String) { blogPostsPage(first: 3, after: $a, sort: [{field: views}, {field: title, order: DESC}]) { items { title } endCursor hasNextPage } }`, map[string]any{"a": after})
		p := get(d, "blogPostsPage").(map[string]any)
		got = append(got, gqTitles(p["items"])...)
		pages++
		if p["hasNextPage"] != true {
			if len(p["items"].([]any)) > 0 && p["endCursor"] == nil {
				t.Errorf("last page has no endCursor: %v", p)
			}
			break
		}
		after = p["endCursor"]
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	// views: a0 b1 c2 d0 e1 f2 g0 → by views asc, title desc
	if want := []string{"g", "d", "a", "e", "b", "f", "c"}; !slices.Equal(got, want) {
		t.Errorf("paged %v, want %v", got, want)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	d := g.sk(t, `{ blogPostsPage(filter: {title: {eq: "zzz"}}) { items { title } endCursor hasNextPage } }`, nil)
	gqWant(t, "empty page", get(d, "blogPostsPage"), `{"items":[],"endCursor":null,"hasNextPage":false}`)
}
