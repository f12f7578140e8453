package server_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/testdb"
)

const defineQ = `mutation($p:ID!,$in:CollectionInput!){defineCollection(projectId:$p,input:$in){
	name documentCount rls{enabled mode ownerField requireAuthForWrite}
	fields{key type required unique ref default items format fields{key type fields{key type}}}}}`

func define(e *env, tok, pid string, in map[string]any) gqlResult {
	e.t.Helper()
	return e.gql(tok, defineQ, map[string]any{"p": pid, "in": in})
}

func projectDB(t testing.TB, pid string) string {
	id, err := bson.ObjectIDFromHex(pid)
	if err != nil {
		t.Fatal(err)
	}
	return projects.DefaultDatabaseName(id)
}

func TestDefineCollection(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "authors", "fields": []any{map[string]any{"key": "name", "type": "String"}}}).ok(t)

	in := map[string]any{
		"name": "blog_posts",
		"fields": []any{
			map[string]any{"key": "title", "type": "String", "required": true, "unique": true},
			map[string]any{"key": "slug", "type": "String", "format": "slug", "default": "untitled"},
			map[string]any{"key": "views", "type": "Number", "default": 0},
			map[string]any{"key": "published", "type": "Boolean", "default": false},
			map[string]any{"key": "at", "type": "Date", "unique": true},
			map[string]any{"key": "author", "type": "Ref", "ref": "authors"},
			map[string]any{"key": "owner", "type": "Ref", "ref": "users"},
			map[string]any{"key": "parent", "type": "Ref", "ref": "blog_posts"},
			map[string]any{"key": "tags", "type": "Array", "items": map[string]any{"type": "String"}},
			map[string]any{"key": "anything", "type": "Array"},
			map[string]any{"key": "links", "type": "Array", "items": map[string]any{"type": "Object", "fields": []any{map[string]any{"key": "url", "type": "String", "format": "url"}}}},
			map[string]any{"key": "meta", "type": "Object", "fields": []any{
				map[string]any{"key": "seo", "type": "Object", "fields": []any{map[string]any{"key": "title", "type": "String"}}},
			}},
		},
		"rls": map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "owner"},
	}
	d := define(e, tok, p.ID, in).ok(t)
	c := get(d, "defineCollection").(map[string]any)
	if c["name"] != "blog_posts" || c["documentCount"] != float64(0) {
		t.Errorf("got %v", c)
	}
	if got := get(c, "rls").(map[string]any); got["enabled"] != true || got["mode"] != "PRIVATE" || got["ownerField"] != "owner" || got["requireAuthForWrite"] != true {
		t.Errorf("rls: got %v", got)
	}
	fields := get(c, "fields").([]any)
	if len(fields) != 12 {
		t.Fatalf("got %d fields, want 12", len(fields))
	}
	if f := fields[0].(map[string]any); f["key"] != "title" || f["required"] != true || f["unique"] != true {
		t.Errorf("title: %v", f)
	}
	if f := fields[2].(map[string]any); f["default"] != float64(0) {
		t.Errorf("views default: %v", f)
	}
	if f := fields[8].(map[string]any); str(f, "items", "type") != "String" {
		t.Errorf("tags items: %v", f)
	}
	if f := fields[11].(map[string]any); str(get(f, "fields").([]any)[0], "key") != "seo" {
		t.Errorf("meta fields: %v", f)
	}

	// The unique indexes exist in the project's database.
	specs, err := testdb.Client(t).Database(projectDB(t, p.ID)).Collection("blog_posts").Indexes().ListSpecifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !hasIndex(specs, "ub_unique_title") || !hasIndex(specs, "ub_unique_at") {
		t.Errorf("indexes: %v", specs)
	}

	// Redefining replaces fields, keeps RLS when none is given, and drops
	// the index of a field that is no longer unique.
	d = define(e, tok, p.ID, map[string]any{"name": "blog_posts", "fields": []any{map[string]any{"key": "title", "type": "String"}}}).ok(t)
	if got := str(d, "defineCollection", "rls", "mode"); got != "PRIVATE" {
		t.Errorf("rls mode after redefinition: %q, want PRIVATE", got)
	}
	specs, _ = testdb.Client(t).Database(projectDB(t, p.ID)).Collection("blog_posts").Indexes().ListSpecifications(context.Background())
	if hasIndex(specs, "ub_unique_title") || hasIndex(specs, "ub_unique_at") {
		t.Errorf("stale unique indexes remain: %v", specs)
	}

	// Listed, with a default RLS for a collection defined without one.
	d = e.gql(tok, `{project(id:"`+p.ID+`"){collections{name rls{enabled mode ownerField}} collection(name:"authors"){name} missing:collection(name:"nope"){name}}}`, nil).ok(t)
	cs := get(d, "project", "collections").([]any)
	if len(cs) != 2 || str(cs[0], "name") != "authors" || str(cs[1], "name") != "blog_posts" {
		t.Errorf("collections: %v", cs)
	}
	if got := get(cs[0], "rls").(map[string]any); got["enabled"] != false || got["mode"] != "PUBLIC_READ" || got["ownerField"] != "userId" {
		t.Errorf("default rls: %v", got)
	}
	if get(d, "project", "missing") != nil || str(d, "project", "collection", "name") != "authors" {
		t.Errorf("collection(name): %v", d)
	}
}

func field(key, typ string, extra ...any) map[string]any {
	f := map[string]any{"key": key, "type": typ}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i].(string)] = extra[i+1]
	}
	return f
}

func TestDefineCollectionRejects(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "blog_posts", "fields": []any{field("title", "String")}}).ok(t)

	obj := func(key string, fields ...any) map[string]any { return field(key, "Object", "fields", fields) }
	for _, tc := range []struct {
		name   string
		coll   string
		fields []any
		rls    map[string]any
		want   string
	}{
		{"name users", "users", nil, nil, `"users" is reserved`},
		{"name Users", "Users", nil, nil, `"Users" is reserved`},
		{"name system.", "system.views", nil, nil, "is reserved"},
		{"name with $", "a$b", nil, nil, "is reserved"},
		{"name empty", "", nil, nil, "collection name is required"},
		{"name starts with digit", "1posts", nil, nil, "must start with a letter"},
		{"name with dot", "a.b", nil, nil, "must start with a letter"},
		{"name too long", strings.Repeat("a", 64), nil, nil, "at most 63"},
		{"name GraphQL clash", "blogPosts", nil, nil, `GraphQL type name "BlogPosts", which collection "blog_posts" already uses`},
		{"name GraphQL clash with dash", "blog-posts", nil, nil, `which collection "blog_posts" already uses`},
		{"name clashes with derived type", "blog_posts_filter", nil, nil, `"BlogPostsFilter", which collection "blog_posts" already uses`},
		{"name reserved GraphQL type", "user", nil, nil, `"User", which is reserved`},
		{"name reserved GraphQL type 2", "sort_order", nil, nil, `"SortOrder", which is reserved`},
		{"name of file storage", "fs", nil, nil, "reserved for file storage"},
		{"field key empty", "c", []any{field("", "String")}, nil, "field name is required"},
		{"field key with dot", "c", []any{field("a.b", "String")}, nil, "starts with a letter or _"},
		{"field key with $", "c", []any{field("$set", "String")}, nil, "starts with a letter or _"},
		{"field key with space", "c", []any{field("a b", "String")}, nil, "starts with a letter or _"},
		{"field key __", "c", []any{field("__x", "String")}, nil, "reserved"},
		{"field key _id", "c", []any{field("_id", "String")}, nil, "system field"},
		{"field key createdAt", "c", []any{field("createdAt", "Date")}, nil, "system field"},
		{"field declared twice", "c", []any{field("a", "String"), field("a", "Number")}, nil, "declared twice"},
		{"unique Object", "c", []any{field("o", "Object", "unique", true, "fields", []any{field("x", "String")})}, nil, "unique is only supported"},
		{"unique Array", "c", []any{field("a", "Array", "unique", true)}, nil, "unique is only supported"},
		{"unique nested", "c", []any{obj("o", field("x", "String", "unique", true))}, nil, "unique is only supported"},
		{"Ref without ref", "c", []any{field("r", "Ref")}, nil, "needs ref"},
		{"Ref to missing collection", "c", []any{field("r", "Ref", "ref", "nowhere")}, nil, `ref "nowhere" is not a collection`},
		{"ref on a String", "c", []any{field("s", "String", "ref", "blog_posts")}, nil, "ref is only allowed on Ref"},
		{"fields on a String", "c", []any{field("s", "String", "fields", []any{field("x", "String")})}, nil, "fields are only allowed on Object"},
		{"items on a String", "c", []any{field("s", "String", "items", map[string]any{"type": "String"})}, nil, "items are only allowed on Array"},
		{"Object without fields", "c", []any{field("o", "Object")}, nil, "needs fields"},
		{"depth exceeded", "c", []any{obj("a", obj("b", obj("c", field("d", "String"))))}, nil, "nesting depth exceeded"},
		{"depth exceeded in items", "c", []any{obj("a", obj("b", field("c", "Array", "items", map[string]any{"type": "Object", "fields": []any{field("x", "String")}})))}, nil, "nesting depth exceeded"},
		{"items of arrays", "c", []any{field("a", "Array", "items", map[string]any{"type": "Array"})}, nil, "items.type must be"},
		{"items unknown key", "c", []any{field("a", "Array", "items", map[string]any{"type": "String", "unique": true})}, nil, "items must be an object"},
		{"items Ref to missing", "c", []any{field("a", "Array", "items", map[string]any{"type": "Ref", "ref": "nowhere"})}, nil, `ref "nowhere" is not a collection`},
		{"default wrong type", "c", []any{field("n", "Number", "default", "zero")}, nil, "default must be a Number"},
		{"default on required", "c", []any{field("s", "String", "required", true, "default", "x")}, nil, "required field cannot have a default"},
		{"default on Date", "c", []any{field("d", "Date", "default", "2026-01-01T00:00:00Z")}, nil, "defaults are only supported"},
		{"format unknown", "c", []any{field("s", "String", "format", "phone")}, nil, "format is one of"},
		{"format on Number", "c", []any{field("n", "Number", "format", "email")}, nil, "format is one of"},
		{"nested type clash", "c", []any{obj("filter", field("x", "String"))}, nil, `"CFilter" would be generated twice`},
		{"rls ownerField _id", "c", nil, map[string]any{"enabled": true, "ownerField": "_id"}, "cannot be _id"},
		{"rls ownerField Number", "c", []any{field("owner", "Number")}, map[string]any{"enabled": true, "ownerField": "owner"}, "must be a String field or a Ref to users"},
		{"rls ownerField invalid", "c", nil, map[string]any{"enabled": true, "ownerField": "a.b"}, "not a valid top-level field name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"name": tc.coll, "fields": tc.fields}
			if tc.fields == nil {
				in["fields"] = []any{}
			}
			if tc.rls != nil {
				in["rls"] = tc.rls
			}
			define(e, tok, p.ID, in).fails(t, "BAD_USER_INPUT", tc.want)
		})
	}
	t.Run("unknown type", func(t *testing.T) {
		r := define(e, tok, p.ID, map[string]any{"name": "c", "fields": []any{field("x", "Text")}})
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Text") {
			t.Errorf("got %s, want an error naming Text", r.Raw)
		}
	})
	d := e.gql(tok, `{project(id:"`+p.ID+`"){collections{name}}}`, nil).ok(t)
	if cs := get(d, "project", "collections").([]any); len(cs) != 1 {
		t.Errorf("refused definitions left collections behind: %v", cs)
	}
}

func TestUniqueOverDuplicatesChangesNothing(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "people", "fields": []any{field("email", "String"), field("nick", "String")}}).ok(t)
	coll := testdb.Client(t).Database(projectDB(t, p.ID)).Collection("people")
	ctx := context.Background()
	if _, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "email", Value: "a@x.com"}, {Key: "nick", Value: "a"}},
		bson.D{{Key: "email", Value: "a@x.com"}, {Key: "nick", Value: "b"}},
		bson.D{{Key: "nick", Value: "c"}},
		bson.D{{Key: "nick", Value: "d"}},
	}); err != nil {
		t.Fatal(err)
	}
	// nick is unique-able (documents without it do not collide); email is not.
	define(e, tok, p.ID, map[string]any{"name": "people", "fields": []any{field("nick", "String", "unique", true), field("email", "String", "unique", true)}}).
		fails(t, "BAD_USER_INPUT", "Cannot create unique index on 'email'")

	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hasIndex(specs, "ub_unique_nick") || hasIndex(specs, "ub_unique_email") {
		t.Errorf("a refused definition left indexes: %v", specs)
	}
	d := e.gql(tok, `{project(id:"`+p.ID+`"){collection(name:"people"){documentCount fields{key unique}}}}`, nil).ok(t)
	fs := get(d, "project", "collection", "fields").([]any)
	if len(fs) != 2 || get(fs[0], "unique") != false || str(fs[0], "key") != "email" {
		t.Errorf("definition changed: %v", fs)
	}
	if n := get(d, "project", "collection", "documentCount"); n != float64(4) {
		t.Errorf("documentCount: got %v, want 4", n)
	}

	// Optional unique field, several documents without it: accepted.
	define(e, tok, p.ID, map[string]any{"name": "people", "fields": []any{field("nick", "String", "unique", true)}}).ok(t)
	specs, _ = coll.Indexes().ListSpecifications(ctx)
	if !hasIndex(specs, "ub_unique_nick") {
		t.Errorf("indexes: %v, want ub_unique_nick", specs)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "nick", Value: "a"}}); err == nil {
		t.Error("the unique index on nick accepted a duplicate")
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "z@x.com"}}); err != nil {
		t.Errorf("a third document without nick: %v", err)
	}
}

func TestDropCollection(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "authors", "fields": []any{}}).ok(t)
	define(e, tok, p.ID, map[string]any{"name": "books", "fields": []any{field("author", "Ref", "ref", "authors")}}).ok(t)
	coll := testdb.Client(t).Database(projectDB(t, p.ID)).Collection("authors")
	if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	e.gql(tok, `mutation{dropCollection(projectId:"`+p.ID+`",name:"authors")}`, nil).fails(t, "CONFLICT", "referenced by books.author")
	e.gql(tok, `mutation{dropCollection(projectId:"`+p.ID+`",name:"nope")}`, nil).fails(t, "NOT_FOUND", `"nope" not found`)
	e.gql(tok, `mutation{dropCollection(projectId:"`+p.ID+`",name:"books")}`, nil).ok(t)
	if d := e.gql(tok, `mutation{dropCollection(projectId:"`+p.ID+`",name:"authors")}`, nil).ok(t); d["dropCollection"] != true {
		t.Fatalf("drop: %v", d)
	}
	if n, _ := coll.CountDocuments(context.Background(), bson.D{}); n != 0 {
		t.Errorf("%d documents left after drop", n)
	}
	d := e.gql(tok, `{project(id:"`+p.ID+`"){collections{name}}}`, nil).ok(t)
	if cs := get(d, "project", "collections").([]any); len(cs) != 0 {
		t.Errorf("collections after drop: %v", cs)
	}
}

func TestDocumentCount(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "items", "fields": []any{}}).ok(t)
	coll := testdb.Client(t).Database(projectDB(t, p.ID)).Collection("items")
	for i := range 3 {
		if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "i", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	d := e.gql(tok, `{projects{collections{name documentCount}}}`, nil).ok(t)
	if n := get(get(get(d, "projects").([]any)[0], "collections").([]any)[0], "documentCount"); n != float64(3) {
		t.Errorf("documentCount: got %v, want 3", n)
	}
}
