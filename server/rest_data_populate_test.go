package server_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/server"
)

func TestDataPopulate(t *testing.T) {
	finds := &dqFinds{}
	d := dqNew(t, func(c *server.Config) { c.CommandMonitor = finds.monitor() })
	d.define(t, "authors", field("name", "String"))
	d.define(t, "genres", field("label", "String"))
	d.define(t, "books",
		field("title", "String"),
		field("author", "Ref", "ref", "authors"),
		field("reviewer", "Ref", "ref", "authors"),
		field("genres", "Array", "items", map[string]any{"type": "Ref", "ref": "genres"}),
	)
	author := map[string]map[string]any{}
	for _, n := range []string{"A1", "A2"} {
		author[n] = d.insert(t, "authors", map[string]any{"name": n})
	}
	genre := map[string]map[string]any{}
	for _, n := range []string{"G1", "G2", "G3"} {
		genre[n] = d.insert(t, "genres", map[string]any{"label": n})
	}
	aid := func(n string) string { return str(author[n], "_id") }
	gid := func(n string) string { return str(genre[n], "_id") }
	gone := "0123456789abcdef01234567" // referenced, never inserted
	type book struct {
		title, author, reviewer string
		genres                  []string
	}
	books := []book{
		{"b1", aid("A1"), aid("A2"), []string{gid("G1"), gid("G2")}},
		{"b2", aid("A2"), aid("A1"), []string{gid("G3")}},
		{"b3", aid("A1"), "", []string{}},
		{"b4", gone, aid("A2"), []string{gid("G1"), gone}},
		{"b5", aid("A2"), "", []string{gid("G2"), gid("G3")}},
		{"b6", aid("A1"), aid("A1"), []string{gid("G1")}},
	}
	for i, b := range books {
		doc := map[string]any{"title": b.title, "author": b.author, "genres": b.genres, "createdAt": "2024-01-0" + string(rune('1'+i)) + "T00:00:00Z"}
		if b.reviewer != "" {
			doc["reviewer"] = b.reviewer
		}
		d.insert(t, "books", doc)
	}
	db := projectDB(t, d.p.ID)
	// want is a book as populated: the referenced documents in full
	// (including __v), null for a missing single target, missing array
	// targets left out, an absent Ref left absent.
	want := func(b book) map[string]any {
		m := map[string]any{"title": b.title}
		if a, ok := author[nameOf(author, b.author)]; ok {
			m["author"] = a
		} else {
			m["author"] = nil
		}
		if b.reviewer != "" {
			m["reviewer"] = author[nameOf(author, b.reviewer)]
		}
		gs := []any{}
		for _, g := range b.genres {
			if doc, ok := genre[nameOf(genre, g)]; ok {
				gs = append(gs, doc)
			}
		}
		m["genres"] = gs
		return m
	}
	strip := func(doc map[string]any) map[string]any {
		out := map[string]any{}
		for _, k := range []string{"title", "author", "reviewer", "genres"} {
			if v, ok := doc[k]; ok {
				out[k] = v
			}
		}
		return out
	}

	for _, tc := range []struct {
		name  string
		query string
	}{
		{"populate", "populate=author,reviewer,genres&sort=title"},
		{"expand", "expand=author&expand=reviewer,genres&sort=title"},
		{"populate wins over expand", "populate=author,reviewer,genres&expand=nope&sort=title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			finds.watch(db)
			items, _ := d.list(t, "books", tc.query)
			if diff := cmp.Diff(map[string]int{"books": 1, "authors": 1, "genres": 1}, finds.counts()); diff != "" {
				t.Errorf("find commands per collection (-want +got):\n%s", diff)
			}
			if len(items) != len(books) {
				t.Fatalf("got %d items, want %d", len(items), len(books))
			}
			for i, b := range books {
				if diff := cmp.Diff(want(b), strip(items[i])); diff != "" {
					t.Errorf("%s populated (-want +got):\n%s", b.title, diff)
				}
			}
		})
	}

	t.Run("one target collection, two paths", func(t *testing.T) {
		finds.watch(db)
		items, _ := d.list(t, "books", "populate=author,reviewer&sort=title")
		if diff := cmp.Diff(map[string]int{"books": 1, "authors": 1}, finds.counts()); diff != "" {
			t.Errorf("find commands per collection (-want +got):\n%s", diff)
		}
		if got := str(items[1], "reviewer", "name"); got != "A1" {
			t.Errorf("b2 reviewer: got %q, want A1", got)
		}
		if got := items[1]["genres"].([]any)[0]; got != gid("G3") {
			t.Errorf("b2 genres (not populated): got %v, want the id %s", got, gid("G3"))
		}
	})

	t.Run("no populate, no extra finds", func(t *testing.T) {
		finds.watch(db)
		items, _ := d.list(t, "books", "sort=title")
		if diff := cmp.Diff(map[string]int{"books": 1}, finds.counts()); diff != "" {
			t.Errorf("find commands per collection (-want +got):\n%s", diff)
		}
		if items[0]["author"] != aid("A1") {
			t.Errorf("b1 author: got %v, want the id %s", items[0]["author"], aid("A1"))
		}
	})

	t.Run("get one", func(t *testing.T) {
		items, _ := d.list(t, "books", "title=b4")
		finds.watch(db)
		r := d.call("GET", "/api/data/books/"+str(items[0], "_id")+"?populate=author,reviewer,genres", nil)
		if r.Status != 200 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if diff := cmp.Diff(map[string]int{"books": 1, "authors": 1, "genres": 1}, finds.counts()); diff != "" {
			t.Errorf("find commands per collection (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want(books[3]), strip(r.json(t))); diff != "" {
			t.Errorf("b4 populated (-want +got):\n%s", diff)
		}
	})

	t.Run("declared non-Ref path is left as is", func(t *testing.T) {
		items, _ := d.list(t, "books", "populate=title&sort=title")
		if items[0]["title"] != "b1" || items[0]["author"] != aid("A1") {
			t.Errorf("got %v, want b1 unchanged", items[0])
		}
	})
	t.Run("path not in the schema", func(t *testing.T) {
		d.call("GET", "/api/data/books?populate=publisher", nil).wantError(t, 400, `Cannot populate "publisher": it is not a field of this collection.`)
		d.call("GET", "/api/data/books?populate=author,nope", nil).wantError(t, 400, `Cannot populate "nope": it is not a field of this collection.`)
		items, _ := d.list(t, "books", "title=b1")
		d.call("GET", "/api/data/books/"+str(items[0], "_id")+"?expand=publisher", nil).wantError(t, 400, `Cannot populate "publisher": it is not a field of this collection.`)
	})
}

// nameOf finds the label of the document with the given _id.
func nameOf(docs map[string]map[string]any, id string) string {
	for n, d := range docs {
		if d["_id"] == id {
			return n
		}
	}
	return ""
}
