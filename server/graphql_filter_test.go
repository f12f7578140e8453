package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// gqItems defines cats and items (every filterable field kind) and seeds
// five items; it returns the ids of the items by name and of the cats.
func gqItems(t *testing.T, g *gqEnv) (ids map[string]string, c1, c2 string) {
	t.Helper()
	g.define(t, "cats", nil, gqField("name", "String"))
	g.define(t, "items", nil,
		gqField("name", "String"),
		gqField("n", "Number"),
		gqField("ok", "Boolean"),
		gqField("at", "Date"),
		gqField("note", "String"),
		gqField("tags", "Array", "items", map[string]any{"type": "String"}),
		gqField("cat", "Ref", "ref", "cats"),
		gqField("meta", "Object", "fields", []any{gqField("score", "Number"), gqField("label", "String")}),
		gqField("links", "Array", "items", map[string]any{"type": "Object", "fields": []any{gqField("url", "String")}}),
	)
	d := g.sk(t, `mutation { a: insertCats(doc: {name: "one"}) { _id } b: insertCats(doc: {name: "two"}) { _id } }`, nil)
	c1, c2 = str(d, "a", "_id"), str(d, "b", "_id")
	docs := []map[string]any{
		{"name": "a1", "n": 1, "ok": true, "at": "2024-01-01", "tags": []any{"x", "y"}, "note": "hi", "meta": map[string]any{"score": 5, "label": "L1"}, "links": []any{map[string]any{"url": "u1"}}, "cat": c1},
		{"name": "b2", "n": 2, "ok": false, "at": "2024-02-01", "tags": []any{"y"}, "meta": map[string]any{"score": 7}, "links": []any{map[string]any{"url": "u2"}, map[string]any{"url": "u3"}}, "cat": c2},
		{"name": "c3", "n": 3, "ok": true, "at": "2024-03-01", "tags": []any{}, "note": nil, "cat": c1},
		{"name": "d4", "n": 4, "tags": []any{"z"}, "meta": map[string]any{"score": 1, "label": "L2"}},
		{"name": "B5", "n": 2.5, "ok": false, "at": "2024-01-20", "note": "yo"},
	}
	ids = map[string]string{}
	for _, doc := range docs {
		r := g.rest(http.MethodPost, "/api/data/items", restReq{Key: g.p.SecretKey, Body: doc})
		if r.Status != http.StatusCreated {
			t.Fatalf("seed: %d %s", r.Status, r.Body)
		}
		ids[doc["name"].(string)] = str(r.json(t), "_id")
	}
	return ids, c1, c2
}

func TestGraphQLFilters(t *testing.T) {
	g := gqNew(t)
	ids, c1, c2 := gqItems(t, g)
	all := []string{"B5", "a1", "b2", "c3", "d4"}
	cases := []struct {
		filter string // GraphQL filter literal
		rest   string // the same filter as a REST query string ("" when REST cannot say it)
		want   []string
	}{
		{`{name: {eq: "b2"}}`, "name=b2", []string{"b2"}},
		{`{name: {ne: "b2"}}`, "name_ne=b2", []string{"B5", "a1", "c3", "d4"}},
		{`{name: {in: ["a1", "c3"]}}`, "name_in=a1,c3", []string{"a1", "c3"}},
		{`{name: {nin: ["a1", "c3"]}}`, "filter[name][nin]=a1,c3", []string{"B5", "b2", "d4"}},
		{`{name: {gt: "b2"}}`, "name_gt=b2", []string{"c3", "d4"}},
		{`{name: {gte: "b2"}}`, "name_gte=b2", []string{"b2", "c3", "d4"}},
		{`{name: {lt: "b2"}}`, "name_lt=b2", []string{"B5", "a1"}},
		{`{name: {lte: "b2"}}`, "name_lte=b2", []string{"B5", "a1", "b2"}},
		{`{name: {regex: "^b"}}`, "name_regex=^b", []string{"B5", "b2"}},
		{`{note: {exists: false}}`, "note_exists=false", []string{"b2", "d4"}},
		{`{note: {exists: true}}`, "note_exists=true", []string{"B5", "a1", "c3"}},
		{`{note: {eq: null}}`, "", []string{"b2", "c3", "d4"}},
		{`{n: {eq: 2}}`, "n=2", []string{"b2"}},
		{`{n: {ne: 2}}`, "n_ne=2", []string{"B5", "a1", "c3", "d4"}},
		{`{n: {in: [1, 4]}}`, "n_in=1,4", []string{"a1", "d4"}},
		{`{n: {nin: [1, 4]}}`, "filter[n][nin]=1,4", []string{"B5", "b2", "c3"}},
		{`{n: {gt: 2}}`, "n_gt=2", []string{"B5", "c3", "d4"}},
		{`{n: {gte: 2.5}}`, "n_gte=2.5", []string{"B5", "c3", "d4"}},
		{`{n: {lt: 2.5}}`, "n_lt=2.5", []string{"a1", "b2"}},
		{`{n: {lte: 2.5}}`, "n_lte=2.5", []string{"B5", "a1", "b2"}},
		{`{n: {exists: true}}`, "n_exists=true", all},
		{`{ok: {eq: true}}`, "ok=true", []string{"a1", "c3"}},
		{`{ok: {ne: true}}`, "ok_ne=true", []string{"B5", "b2", "d4"}},
		{`{ok: {exists: false}}`, "ok_exists=false", []string{"d4"}},
		{`{at: {eq: "2024-02-01"}}`, "at=2024-02-01", []string{"b2"}},
		{`{at: {ne: "2024-02-01T00:00:00.000Z"}}`, "at_ne=2024-02-01", []string{"B5", "a1", "c3", "d4"}},
		{`{at: {gt: "2024-01-15"}}`, "at_gt=2024-01-15", []string{"B5", "b2", "c3"}},
		{`{at: {gte: "2024-02-01"}}`, "at_gte=2024-02-01", []string{"b2", "c3"}},
		{`{at: {lt: "2024-02-01"}}`, "at_lt=2024-02-01", []string{"B5", "a1"}},
		{`{at: {lte: "2024-01-20T00:00:00.000Z"}}`, "at_lte=2024-01-20T00:00:00.000Z", []string{"B5", "a1"}},
		{`{at: {exists: false}}`, "at_exists=false", []string{"d4"}},
		{`{_id: {eq: "` + ids["c3"] + `"}}`, "_id=" + ids["c3"], []string{"c3"}},
		{`{_id: {ne: "` + ids["c3"] + `"}}`, "_id_ne=" + ids["c3"], []string{"B5", "a1", "b2", "d4"}},
		{`{_id: {in: ["` + ids["a1"] + `", "` + ids["b2"] + `"]}}`, "_id_in=" + ids["a1"] + "," + ids["b2"], []string{"a1", "b2"}},
		{`{_id: {nin: ["` + ids["a1"] + `", "` + ids["b2"] + `"]}}`, "filter[_id][nin]=" + ids["a1"] + "," + ids["b2"], []string{"B5", "c3", "d4"}},
		{`{tags: {eq: "y"}}`, "tags=y", []string{"a1", "b2"}},
		{`{tags: {in: ["x", "z"]}}`, "tags_in=x,z", []string{"a1", "d4"}},
		{`{cat: {eq: "` + c1 + `"}}`, "cat=" + c1, []string{"a1", "c3"}},
		{`{cat: {ne: "` + c1 + `"}}`, "cat_ne=" + c1, []string{"B5", "b2", "d4"}},
		{`{cat: {in: ["` + c2 + `"]}}`, "cat_in=" + c2, []string{"b2"}},
		{`{meta: {score: {gt: 4}}}`, "meta.score_gt=4", []string{"a1", "b2"}},
		{`{meta: {label: {eq: "L2"}}}`, "meta.label=L2", []string{"d4"}},
		{`{meta: {label: {exists: true}}}`, "meta.label_exists=true", []string{"a1", "d4"}},
		{`{links: {url: {eq: "u3"}}}`, "links.url=u3", []string{"b2"}},
		{`{links: {url: {regex: "^U"}}}`, "links.url_regex=^U", []string{"a1", "b2"}},
		{`{or: [{n: {lt: 2}}, {name: {eq: "d4"}}]}`, "", []string{"a1", "d4"}},
		{`{and: [{n: {gt: 1}}, {n: {lt: 3}}]}`, "", []string{"B5", "b2"}},
		{`{not: {ok: {eq: true}}}`, "", []string{"B5", "b2", "d4"}},
		{`{n: {gt: 1, lt: 4}, ok: {eq: false}}`, "n_gt=1&n_lt=4&ok=false", []string{"B5", "b2"}},
		{`{createdAt: {exists: true}, updatedAt: {lte: "2999-01-01"}}`, "createdAt_exists=true&updatedAt_lte=2999-01-01", all},
		{`{}`, "", all},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			d := g.sk(t, `{ items(filter: `+tc.filter+`, sort: [{field: name}]) { name } itemsCount(filter: `+tc.filter+`) }`, nil)
			var got []string
			for _, it := range get(d, "items").([]any) {
				got = append(got, str(it, "name"))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if n := get(d, "itemsCount"); n != float64(len(tc.want)) {
				t.Errorf("count %v, want %d", n, len(tc.want))
			}
			if tc.rest == "" {
				return
			}
			r := g.rest(http.MethodGet, "/api/data/items?sort=name:asc&"+tc.rest, restReq{Key: g.p.SecretKey})
			if r.Status != http.StatusOK {
				t.Fatalf("REST %s: %d %s", tc.rest, r.Status, r.Body)
			}
			var restGot []string
			for _, it := range get(r.json(t), "data", "items").([]any) {
				restGot = append(restGot, str(it, "name"))
			}
			if !slices.Equal(restGot, got) {
				t.Errorf("REST ?%s gives %v, GraphQL %v", tc.rest, restGot, got)
			}
		})
	}

	// The subscription filter is the same filter, evaluated in memory;
	// dynschema's tests check that matcher against these semantics.

	errCases := []struct{ filter, message string }{
		{`{at: {gt: "nope"}}`, `Invalid value "nope" for "at"; expected a date such as 2024-01-15 or 2024-01-15T10:30:00.000Z.`},
		{`{_id: {eq: "x"}}`, `Invalid value "x" for "_id"; expected a 24-character hex ID.`},
		{`{cat: {in: ["` + c1 + `", "bad"]}}`, `Invalid value "bad" for "cat"; expected a 24-character hex ID.`},
		{`{name: {regex: "("}}`, `Filter on "name": invalid regex pattern.`},
		{`{name: {regex: "` + strings.Repeat("a", 129) + `"}}`, `Filter on "name": regex pattern exceeds 128 characters.`},
	}
	for _, tc := range errCases {
		r := g.gqDo(gqReq{Key: g.p.SecretKey}, `{ items(filter: `+tc.filter+`) { name } }`, nil)
		r.gqFails(t, "BAD_USER_INPUT", 400, tc.message)
		if r.Data != nil {
			t.Errorf("%s: data %v, want null (items is non-null)", tc.filter, r.Data)
		}
	}
}
