package server_test

import (
	"fmt"
	"testing"

	"github.com/urbackend/urbackend/server"
)

func TestGraphQLRefsBatched(t *testing.T) {
	finds := &dqFinds{}
	g := gqNew(t, func(c *server.Config) { c.CommandMonitor = finds.monitor() })
	g.define(t, "authors", nil, gqField("name", "String"))
	g.define(t, "posts", nil,
		gqField("title", "String"),
		gqField("author", "Ref", "ref", "authors"),
		gqField("editors", "Array", "items", map[string]any{"type": "Ref", "ref": "authors"}),
		gqField("owner", "Ref", "ref", "users"),
		gqField("parent", "Ref", "ref", "posts"),
		gqField("meta", "Object", "fields", []any{gqField("reviewer", "Ref", "ref", "authors")}),
	)
	su := g.gqDo(gqReq{Key: g.p.PublishableKey}, `mutation { signUp(email: "alice@example.com", password: "Sup3r-secret!", username: "alice", name: "Alice") { accessToken refreshToken expiresIn user { _id username name avatarUrl } } }`, nil).ok(t)
	alice := str(su, "signUp", "user", "_id")
	if alice == "" || str(su, "signUp", "user", "username") != "alice" || str(su, "signUp", "accessToken") == "" {
		t.Fatalf("signUp: %v", su)
	}

	d := g.sk(t, `mutation { a: insertAuthors(doc: {name: "A"}) { _id } b: insertAuthors(doc: {name: "B"}) { _id } c: insertAuthors(doc: {name: "C"}) { _id } z: insertAuthors(doc: {name: "Z"}) { _id } }`, nil)
	a, b, c, z := str(d, "a", "_id"), str(d, "b", "_id"), str(d, "c", "_id"), str(d, "z", "_id")
	// The root post's author (Z) is reached only through parent: a
	// second level of references.
	root := str(g.sk(t, `mutation($z: ID!) { insertPosts(doc: {title: "root", author: $z}) { _id } }`, map[string]any{"z": z}), "insertPosts", "_id")
	var docs []any
	authors := []string{a, b, c}
	for i := range 30 {
		docs = append(docs, map[string]any{
			"title":   fmt.Sprintf("p%02d", i),
			"author":  authors[i%3],
			"editors": []any{authors[(i+1)%3], authors[(i+2)%3], "0123456789abcdef01234567"},
			"owner":   alice,
			"parent":  root,
			"meta":    map[string]any{"reviewer": authors[i%3]},
		})
	}
	g.sk(t, `mutation($ds: [PostsInput!]!) { insertManyPosts(docs: $ds) { _id } }`, map[string]any{"ds": docs})

	finds.watch(projectDB(t, g.p.ID))
	d = g.sk(t, `{ posts(filter: {title: {regex: "^p"}}, sort: [{field: title}]) {
		title
		author { name }
		editors { name }
		owner { _id username name }
		parent { title author { name } }
		meta { reviewer { name } }
	} }`, nil)
	list := get(d, "posts").([]any)
	if len(list) != 30 {
		t.Fatalf("got %d posts", len(list))
	}
	gqWant(t, "first post", list[0], `{"title":"p00","author":{"name":"A"},"editors":[{"name":"B"},{"name":"C"}],
		"owner":{"_id":"`+alice+`","username":"alice","name":"Alice"},"parent":{"title":"root","author":{"name":"Z"}},"meta":{"reviewer":{"name":"A"}}}`)
	gqWant(t, "second post", list[1], `{"title":"p01","author":{"name":"B"},"editors":[{"name":"C"},{"name":"A"}],
		"owner":{"_id":"`+alice+`","username":"alice","name":"Alice"},"parent":{"title":"root","author":{"name":"Z"}},"meta":{"reviewer":{"name":"B"}}}`)
	// posts: the list and the parents (one level); authors: level one
	// (author, editors and meta.reviewer together) and level two (the
	// parent's author); users: one. Never one per row.
	got := finds.counts()
	if got["posts"] != 2 || got["authors"] != 2 || got["users"] != 1 {
		t.Errorf("find commands per collection = %v, want posts 2, authors 2, users 1", got)
	}

	// A user is only ever its public profile.
	r := g.gqDo(gqReq{Key: g.p.SecretKey}, `{ posts { owner { email } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("selecting a user's email: %s, want a validation error", r.Raw)
	}

	// Refs in byId and in mutation results resolve too.
	d = g.sk(t, `mutation($r: ID!, $a: ID!) { updatePosts(id: $r, set: {author: $a}) { title author { name } } }`, map[string]any{"r": root, "a": a})
	gqWant(t, "update result", get(d, "updatePosts"), `{"title":"root","author":{"name":"A"}}`)
	d = g.sk(t, `query($r: ID!) { postsById(id: $r) { author { name } editors { name } owner { _id } parent { title } } }`, map[string]any{"r": root})
	gqWant(t, "byId", get(d, "postsById"), `{"author":{"name":"A"},"editors":[],"owner":null,"parent":null}`)
}
