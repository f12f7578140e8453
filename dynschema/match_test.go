package dynschema

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/query"
)

// itemFields and itemDocs mirror the server's filter test: the same
// documents as the data layer stores them, so that the in-memory matcher
// can be held to the answers the database gave there.
var itemFields = []F{
	{Key: "name", Type: collections.String},
	{Key: "n", Type: collections.Number},
	{Key: "ok", Type: collections.Boolean},
	{Key: "at", Type: collections.Date},
	{Key: "note", Type: collections.String},
	{Key: "tags", Type: collections.Array, Items: &F{Type: collections.String}},
	{Key: "cat", Type: collections.Ref, Ref: "cats"},
	{Key: "meta", Type: collections.Object, Fields: []F{{Key: "score", Type: collections.Number}, {Key: "label", Type: collections.String}}},
	{Key: "links", Type: collections.Array, Items: &F{Type: collections.Object, Fields: []F{{Key: "url", Type: collections.String}}}},
}

var (
	cat1 = bson.NewObjectID()
	cat2 = bson.NewObjectID()
)

func day(s string) bson.DateTime {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return bson.NewDateTimeFromTime(t)
}

func itemDocs() []bson.D {
	return []bson.D{
		{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: "a1"}, {Key: "n", Value: int32(1)}, {Key: "ok", Value: true}, {Key: "at", Value: day("2024-01-01")}, {Key: "note", Value: "hi"},
			{Key: "tags", Value: bson.A{"x", "y"}}, {Key: "cat", Value: cat1}, {Key: "meta", Value: bson.D{{Key: "score", Value: int32(5)}, {Key: "label", Value: "L1"}}},
			{Key: "links", Value: bson.A{bson.D{{Key: "url", Value: "u1"}}}}},
		{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: "b2"}, {Key: "n", Value: int32(2)}, {Key: "ok", Value: false}, {Key: "at", Value: day("2024-02-01")},
			{Key: "tags", Value: bson.A{"y"}}, {Key: "cat", Value: cat2}, {Key: "meta", Value: bson.D{{Key: "score", Value: int32(7)}}},
			{Key: "links", Value: bson.A{bson.D{{Key: "url", Value: "u2"}}, bson.D{{Key: "url", Value: "u3"}}}}},
		{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: "c3"}, {Key: "n", Value: int32(3)}, {Key: "ok", Value: true}, {Key: "at", Value: day("2024-03-01")}, {Key: "note", Value: nil},
			{Key: "tags", Value: bson.A{}}, {Key: "cat", Value: cat1}, {Key: "links", Value: bson.A{}}},
		{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: "d4"}, {Key: "n", Value: int32(4)},
			{Key: "tags", Value: bson.A{"z"}}, {Key: "meta", Value: bson.D{{Key: "score", Value: int32(1)}, {Key: "label", Value: "L2"}}}, {Key: "links", Value: bson.A{}}},
		{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: "B5"}, {Key: "n", Value: 2.5}, {Key: "ok", Value: false}, {Key: "at", Value: day("2024-01-20")}, {Key: "note", Value: "yo"},
			{Key: "tags", Value: bson.A{}}, {Key: "links", Value: bson.A{}}},
	}
}

func TestMatch(t *testing.T) {
	docs := itemDocs()
	c := &collInfo{name: "items", fields: itemFields}
	idOf := func(i int) string { v, _ := lookup(docs[i], "_id"); return v.(bson.ObjectID).Hex() }
	m := func(kv ...any) map[string]any {
		out := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	all := []string{"a1", "b2", "c3", "d4", "B5"}
	cases := []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"string eq", m("name", m("eq", "b2")), []string{"b2"}},
		{"string ne", m("name", m("ne", "b2")), []string{"a1", "c3", "d4", "B5"}},
		{"string in", m("name", m("in", []any{"a1", "c3"})), []string{"a1", "c3"}},
		{"string nin", m("name", m("nin", []any{"a1", "c3"})), []string{"b2", "d4", "B5"}},
		{"string gt", m("name", m("gt", "b2")), []string{"c3", "d4"}},
		{"string lte", m("name", m("lte", "b2")), []string{"a1", "b2", "B5"}},
		{"regex ignores case", m("name", m("regex", "^b")), []string{"b2", "B5"}},
		{"exists false", m("note", m("exists", false)), []string{"b2", "d4"}},
		{"exists counts null", m("note", m("exists", true)), []string{"a1", "c3", "B5"}},
		{"eq null", m("note", m("eq", nil)), []string{"b2", "c3", "d4"}},
		{"number eq int32", m("n", m("eq", int64(2))), []string{"b2"}},
		{"number in", m("n", m("in", []any{int64(1), 4.0})), []string{"a1", "d4"}},
		{"number nin", m("n", m("nin", []any{int64(1), int64(4)})), []string{"b2", "c3", "B5"}},
		{"number gt", m("n", m("gt", int64(2))), []string{"c3", "d4", "B5"}},
		{"number gte", m("n", m("gte", 2.5)), []string{"c3", "d4", "B5"}},
		{"number lt", m("n", m("lt", 2.5)), []string{"a1", "b2"}},
		{"bool eq", m("ok", m("eq", true)), []string{"a1", "c3"}},
		{"bool ne matches missing", m("ok", m("ne", true)), []string{"b2", "d4", "B5"}},
		{"time eq", m("at", m("eq", "2024-02-01")), []string{"b2"}},
		{"time gt", m("at", m("gt", "2024-01-15")), []string{"b2", "c3", "B5"}},
		{"time lte", m("at", m("lte", "2024-01-20T00:00:00.000Z")), []string{"a1", "B5"}},
		{"time exists", m("at", m("exists", false)), []string{"d4"}},
		{"id eq", m("_id", m("eq", idOf(2))), []string{"c3"}},
		{"id nin", m("_id", m("nin", []any{idOf(0), idOf(1)})), []string{"c3", "d4", "B5"}},
		{"array contains", m("tags", m("eq", "y")), []string{"a1", "b2"}},
		{"array in", m("tags", m("in", []any{"x", "z"})), []string{"a1", "d4"}},
		{"array ne", m("tags", m("ne", "y")), []string{"c3", "d4", "B5"}},
		{"ref eq", m("cat", m("eq", cat1.Hex())), []string{"a1", "c3"}},
		{"ref ne", m("cat", m("ne", cat1.Hex())), []string{"b2", "d4", "B5"}},
		{"nested", m("meta", m("score", m("gt", int64(4)))), []string{"a1", "b2"}},
		{"nested exists", m("meta", m("label", m("exists", true))), []string{"a1", "d4"}},
		{"object array", m("links", m("url", m("eq", "u3"))), []string{"b2"}},
		{"object array regex", m("links", m("url", m("regex", "^U"))), []string{"a1", "b2"}},
		{"or", m("or", []any{m("n", m("lt", int64(2))), m("name", m("eq", "d4"))}), []string{"a1", "d4"}},
		{"and", m("and", []any{m("n", m("gt", int64(1))), m("n", m("lt", int64(3)))}), []string{"b2", "B5"}},
		{"not", m("not", m("ok", m("eq", true))), []string{"b2", "d4", "B5"}},
		{"several ops", m("n", m("gt", int64(1), "lt", int64(4)), "ok", m("eq", false)), []string{"b2", "B5"}},
		{"empty", m(), all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := compileFilter(c, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Mongo(); err != nil {
				t.Fatalf("Mongo: %v", err)
			}
			var got []string
			for _, d := range docs {
				if match(f, d) {
					v, _ := lookup(d, "name")
					got = append(got, v.(string))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFilterCompilesLikeREST checks that a GraphQL filter and the REST
// query string that says the same compile to the same MongoDB filter.
func TestFilterCompilesLikeREST(t *testing.T) {
	c := &collInfo{name: "items", fields: itemFields}
	id := bson.NewObjectID().Hex()
	cases := []struct {
		filter map[string]any
		rest   string
	}{
		{map[string]any{"name": map[string]any{"eq": "b2"}}, "name=b2"},
		{map[string]any{"n": map[string]any{"gt": int64(1), "lt": 4.5}}, "n_gt=1&n_lt=4.5"},
		{map[string]any{"n": map[string]any{"in": []any{int64(1), int64(4)}}}, "n_in=1,4"},
		{map[string]any{"ok": map[string]any{"ne": true}}, "ok_ne=true"},
		{map[string]any{"at": map[string]any{"gte": "2024-02-01"}}, "at_gte=2024-02-01"},
		{map[string]any{"_id": map[string]any{"eq": id}}, "_id=" + id},
		{map[string]any{"cat": map[string]any{"in": []any{id}}}, "cat_in=" + id},
		{map[string]any{"note": map[string]any{"exists": false}}, "note_exists=false"},
		{map[string]any{"name": map[string]any{"regex": "^b"}}, "name_regex=^b"},
		{map[string]any{"meta": map[string]any{"score": map[string]any{"lte": int64(3)}}}, "meta.score_lte=3"},
		{map[string]any{"tags": map[string]any{"nin": []any{"x"}}}, "filter[tags][nin]=x"},
	}
	for _, tc := range cases {
		f, err := compileFilter(c, tc.filter)
		if err != nil {
			t.Fatalf("%v: %v", tc.filter, err)
		}
		got, err := f.Mongo()
		if err != nil {
			t.Fatal(err)
		}
		vals, _ := url.ParseQuery(tc.rest)
		l, err := query.ParseList(vals, itemFields)
		if err != nil {
			t.Fatalf("%s: %v", tc.rest, err)
		}
		want, err := l.Filter.Mongo()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-REST +GraphQL):\n%s", tc.rest, diff)
		}
	}
}

func TestMatchTypes(t *testing.T) {
	id := bson.NewObjectID()
	doc := bson.D{{Key: "s", Value: "5"}, {Key: "n", Value: int64(5)}, {Key: "id", Value: id}, {Key: "sid", Value: id.Hex()}, {Key: "arr", Value: bson.A{bson.A{1, 2}}}}
	cases := []struct {
		c    query.Cond
		want bool
	}{
		{query.Cond{Path: "s", Op: query.Eq, Value: 5.0}, false}, // no cross-type equality
		{query.Cond{Path: "n", Op: query.Eq, Value: 5.0}, true},
		{query.Cond{Path: "n", Op: query.Gt, Value: "4"}, false},
		{query.Cond{Path: "id", Op: query.Eq, Value: id}, true},
		{query.Cond{Path: "sid", Op: query.Eq, Value: id}, false},
		{query.Cond{Path: "missing", Op: query.Ne, Value: 1.0}, true},
		{query.Cond{Path: "missing", Op: query.In, Value: []any{nil}}, true},
		{query.Cond{Path: "missing", Op: query.Nin, Value: []any{nil}}, false},
		{query.Cond{Path: "arr.0", Op: query.Eq, Value: 2.0}, true},
		{query.Cond{Path: "s.x", Op: query.Exists, Value: false}, true},
	}
	for _, tc := range cases {
		if got := match(&query.Filter{Conds: []query.Cond{tc.c}}, doc); got != tc.want {
			t.Errorf("%+v: got %v, want %v", tc.c, got, tc.want)
		}
	}
}
