package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// dqProducts is the fixed data set of the query tests, seeded through the
// API. createdAt is set by the client so that the default order is known:
// newest first is c, e, a, d, b.
type dqProducts struct {
	*dqEnv
	id    map[string]string // label → _id
	label map[string]string // _id → label
	cat1  string            // the cats document a and b reference
}

func dqSeedProducts(t *testing.T) *dqProducts {
	t.Helper()
	d := dqNew(t)
	d.define(t, "cats", field("name", "String"))
	d.define(t, "products",
		field("name", "String", "required", true),
		field("price", "Number"),
		field("active", "Boolean"),
		field("at", "Date"),
		field("tags", "Array", "items", map[string]any{"type": "String"}),
		field("info", "Object", "fields", []any{field("views", "Number"), field("color", "String")}),
		field("cat", "Ref", "ref", "cats"),
	)
	cat1 := str(d.insert(t, "cats", map[string]any{"name": "tools"}), "_id")
	docs := []struct {
		label string
		doc   map[string]any
	}{
		{"a", map[string]any{"name": "Apple", "price": 10, "active": true, "at": "2024-03-01T00:00:00Z", "tags": []any{"red", "fruit"},
			"info": map[string]any{"views": 100, "color": "red"}, "cat": cat1, "note": "x", "createdAt": "2024-01-03T00:00:00Z"}},
		{"b", map[string]any{"name": "Banana", "price": 5, "active": false, "at": "2024-02-01T00:00:00Z", "tags": []any{"yellow", "fruit"},
			"info": map[string]any{"views": 50, "color": "yellow"}, "cat": cat1, "createdAt": "2024-01-01T00:00:00Z"}},
		{"c", map[string]any{"name": "Cherry", "price": 20, "active": true, "at": "2024-01-15T00:00:00Z", "tags": []any{"red"},
			"info": map[string]any{"views": 150}, "createdAt": "2024-01-05T00:00:00Z"}},
		{"d", map[string]any{"name": "date", "price": 20, "active": false, "tags": []any{},
			"info": map[string]any{"views": 10, "color": "brown"}, "createdAt": "2024-01-02T00:00:00Z"}},
		{"e", map[string]any{"name": "Eggplant", "price": 7.5, "active": true, "at": "2024-04-01T00:00:00Z", "tags": []any{"purple", "veg"},
			"createdAt": "2024-01-04T00:00:00Z"}},
	}
	p := &dqProducts{dqEnv: d, id: map[string]string{}, label: map[string]string{}, cat1: cat1}
	for _, doc := range docs {
		id := str(d.insert(t, "products", doc.doc), "_id")
		p.id[doc.label], p.label[id] = id, doc.label
	}
	return p
}

// labels lists products with the query (readable; escaped here) and
// returns the labels of the items in order.
func (p *dqProducts) labels(t *testing.T, query string) []string {
	t.Helper()
	items, _ := p.list(t, "products", dqQuery(query))
	return dqLabels(items, p.label)
}

func TestDataListQueryLanguage(t *testing.T) {
	p := dqSeedProducts(t)
	for _, tc := range []struct {
		name  string
		query string
		want  []string
	}{
		{"no filter: default sort -createdAt", "", []string{"c", "e", "a", "d", "b"}},
		{"eq string", "name=Apple", []string{"a"}},
		{"eq is case-sensitive", "name=apple", []string{}},
		{"repeated eq is any-of", "name=Apple&name=Banana", []string{"a", "b"}},
		{"eq number", "price=20", []string{"c", "d"}},
		{"eq number with fraction", "price=7.5", []string{"e"}},
		{"eq boolean true", "active=true", []string{"c", "e", "a"}},
		{"eq boolean false", "active=false", []string{"d", "b"}},
		{"eq date", "at=2024-01-15", []string{"c"}},
		{"eq ref", "cat=" + p.cat1, []string{"a", "b"}},
		{"eq _id", "_id=" + p.id["d"], []string{"d"}},
		{"eq undeclared field compares strings", "note=x", []string{"a"}},
		{"gt", "price_gt=10", []string{"c", "d"}},
		{"gte", "price_gte=10", []string{"c", "a", "d"}},
		{"lt", "price_lt=10", []string{"e", "b"}},
		{"lte", "price_lte=7.5", []string{"e", "b"}},
		{"range combines on one field", "price_gt=5&price_lt=20", []string{"e", "a"}},
		{"ne number", "price_ne=20", []string{"e", "a", "b"}},
		{"ne string", "name_ne=Apple", []string{"c", "e", "d", "b"}},
		{"in", "price_in=5,10", []string{"a", "b"}},
		{"in trims and skips empty items", "name_in= Apple , Cherry ,", []string{"c", "a"}},
		{"in repeated params are flattened", "price_in=5&price_in=20", []string{"c", "d", "b"}},
		{"in _id", "_id_in=" + p.id["a"] + "," + p.id["e"], []string{"e", "a"}},
		{"gte date", "at_gte=2024-02-01", []string{"e", "a", "b"}},
		{"lt date-time", "at_lt=2024-02-01T00:00:00.000Z", []string{"c"}},
		{"gte createdAt", "createdAt_gte=2024-01-03T00:00:00.000Z", []string{"c", "e", "a"}},
		{"exists false", "at_exists=false", []string{"d"}},
		{"exists true", "at_exists=true", []string{"c", "e", "a", "b"}},
		{"exists on object", "info_exists=false", []string{"e"}},
		{"exists on undeclared", "note_exists=true", []string{"a"}},
		{"regex is case-insensitive", "name_regex=^b", []string{"b"}},
		{"regex substring", "name_regex=an", []string{"e", "b"}},
		{"regex upper case pattern", "name_regex=APPLE", []string{"a"}},
		{"dotted eq", "info.color=red", []string{"a"}},
		{"dotted eq number", "info.views=100", []string{"a"}},
		{"dotted gt", "info.views_gt=60", []string{"c", "a"}},
		{"dotted lte", "info.views_lte=50", []string{"d", "b"}},
		{"dotted in", "info.color_in=red,brown", []string{"a", "d"}},
		{"array contains", "tags=red", []string{"c", "a"}},
		{"array contains, other value", "tags=fruit", []string{"a", "b"}},
		{"array contains any of", "tags_in=veg,yellow", []string{"e", "b"}},
		{"array any-of by repetition", "tags=veg&tags=yellow", []string{"e", "b"}},
		{"filters are ANDed", "active=true&tags=red", []string{"c", "a"}},
		{"no match", "price_gt=100", []string{}},
		{"bracket form", "filter[name]=Cherry", []string{"c"}},
		{"reserved params are not filters", "populate=&expand=&fields=&meta=true&count=false", []string{"c", "e", "a", "d", "b"}},

		{"sort field", "sort=price", []string{"b", "e", "a", "c", "d"}},
		{"sort field:asc", "sort=price:asc", []string{"b", "e", "a", "c", "d"}},
		{"sort field:1", "sort=price:1", []string{"b", "e", "a", "c", "d"}},
		{"sort field:desc", "sort=price:desc", []string{"d", "c", "a", "e", "b"}},
		{"sort field:DESC", "sort=price:DESC", []string{"d", "c", "a", "e", "b"}},
		{"sort field:-1", "sort=price:-1", []string{"d", "c", "a", "e", "b"}},
		{"sort -field", "sort=-price", []string{"d", "c", "a", "e", "b"}},
		{"sort strings (binary order)", "sort=name", []string{"a", "b", "c", "e", "d"}},
		{"sort several keys", "sort=active:desc,price:asc", []string{"e", "a", "c", "b", "d"}},
		{"sort several params", "sort=-active&sort=price", []string{"e", "a", "c", "b", "d"}},
		{"sort createdAt", "sort=createdAt", []string{"b", "d", "a", "e", "c"}},
		{"sort -createdAt equals default", "sort=-createdAt", []string{"c", "e", "a", "d", "b"}},
		{"sort dotted", "sort=info.views", []string{"e", "d", "b", "a", "c"}},
		{"sort with filter", "sort=price&active=true", []string{"e", "a", "c"}},

		{"limit", "limit=2", []string{"c", "e"}},
		{"limit page 2", "limit=2&page=2", []string{"a", "d"}},
		{"limit page 3", "limit=2&page=3", []string{"b"}},
		{"page past the end", "limit=2&page=4", []string{}},
		{"limit 0 means 100", "limit=0", []string{"c", "e", "a", "d", "b"}},
		{"limit not a number means 100", "limit=abc", []string{"c", "e", "a", "d", "b"}},
		{"negative limit is clamped to 1", "limit=-5", []string{"c"}},
		{"page 0 is page 1", "limit=2&page=0", []string{"c", "e"}},
		{"skip", "skip=3", []string{"d", "b"}},
		{"skip with limit", "skip=1&limit=2", []string{"e", "a"}},
		{"page wins over skip", "page=2&skip=1&limit=2", []string{"a", "d"}},
		{"sort and page", "sort=price&limit=2&page=2", []string{"a", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.labels(t, tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("GET ?%s: got %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

func TestDataListPageMeta(t *testing.T) {
	p := dqSeedProducts(t)
	for _, tc := range []struct {
		query              string
		total, page, limit float64
	}{
		{"", 5, 1, 100},
		{"limit=2&page=2", 5, 2, 2},
		{"limit=500", 5, 1, 100},
		{"limit=0", 5, 1, 100},
		{"limit=-5", 5, 1, 1},
		{"page=-3", 5, 1, 100},
		{"skip=2&limit=2", 5, 2, 2},
		{"price_gte=10&limit=1&page=3", 3, 3, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, data := p.list(t, "products", dqQuery(tc.query))
			dqWantKeys(t, "data", data, "items", "total", "page", "limit")
			if data["total"] != tc.total || data["page"] != tc.page || data["limit"] != tc.limit {
				t.Errorf("got total=%v page=%v limit=%v, want %v %v %v", data["total"], data["page"], data["limit"], tc.total, tc.page, tc.limit)
			}
		})
	}
}

func TestDataListLimitCap(t *testing.T) {
	d := dqNew(t)
	d.define(t, "many")
	batch := make([]any, 100)
	for i := range batch {
		batch[i] = map[string]any{"i": i}
	}
	if r := d.call("POST", "/api/data/many/bulk", batch); r.Status != 201 {
		t.Fatalf("bulk: got %d %s", r.Status, r.Body)
	}
	d.insert(t, "many", map[string]any{"i": 100})
	items, data := d.list(t, "many", "limit=1000")
	if len(items) != 100 || data["limit"] != float64(100) || data["total"] != float64(101) {
		t.Errorf("limit=1000: got %d items, limit %v, total %v; want 100, 100, 101", len(items), data["limit"], data["total"])
	}
	items, _ = d.list(t, "many", "")
	if len(items) != 100 {
		t.Errorf("no limit: got %d items, want 100", len(items))
	}
	items, data = d.list(t, "many", "limit=1000&page=2")
	if len(items) != 1 || data["page"] != float64(2) {
		t.Errorf("page 2: got %d items, page %v; want 1, 2", len(items), data["page"])
	}
	items, data = d.list(t, "many", "limit=1000&cursor=start")
	if len(items) != 100 || data["limit"] != float64(100) || data["nextCursor"] == nil {
		t.Errorf("cursor limit=1000: got %d items, limit %v, nextCursor %v; want 100, 100 and a cursor", len(items), data["limit"], data["nextCursor"])
	}
	if got := d.count(t, "many", "limit=1"); got != 101 {
		t.Errorf("count ignores limit: got %d, want 101", got)
	}
}

func TestDataListFieldsAndMeta(t *testing.T) {
	p := dqSeedProducts(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"_id", "name", "price", "active", "at", "tags", "info", "cat", "note", "createdAt", "updatedAt", "__v"}},
		{"fields=name,price", []string{"_id", "name", "price"}},
		{"fields=name&fields=info.color", []string{"_id", "name", "info"}},
		{"meta=false", []string{"_id", "name", "price", "active", "at", "tags", "info", "cat", "note"}},
		{"fields=name,createdAt&meta=false", []string{"_id", "name"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			items, _ := p.list(t, "products", dqQuery("name=Apple&"+tc.query))
			if len(items) != 1 {
				t.Fatalf("got %d items, want 1", len(items))
			}
			dqWantKeys(t, "item", items[0], tc.want...)
			if tc.query == "fields=name&fields=info.color" {
				if got := items[0]["info"]; !cmpJSON(got, map[string]any{"color": "red"}) {
					t.Errorf("info: got %v, want {color:red}", got)
				}
			}
		})
	}
	// get-one honours them too and hides __v by default.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"_id", "name", "price", "active", "at", "tags", "info", "cat", "note", "createdAt", "updatedAt"}},
		{"fields=name,price", []string{"_id", "name", "price"}},
		{"meta=false", []string{"_id", "name", "price", "active", "at", "tags", "info", "cat", "note"}},
		{"fields=name,updatedAt&meta=false", []string{"_id", "name"}},
	} {
		t.Run("get-one "+tc.query, func(t *testing.T) {
			r := p.call("GET", "/api/data/products/"+p.id["a"]+"?"+dqQuery(tc.query), nil)
			if r.Status != 200 {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			dqWantKeys(t, "document", r.json(t), tc.want...)
		})
	}
}

func cmpJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestDataListQueryErrors(t *testing.T) {
	p := dqSeedProducts(t)
	long := strings.Repeat("a", 129)
	for _, tc := range []struct {
		name, query, want string
	}{
		{"number", "price_gt=cheap", `Invalid value "cheap" for "price_gt"; expected a number.`},
		{"number eq", "price=ten", `Invalid value "ten" for "price"; expected a number.`},
		{"number in", "price_in=5,five", `Invalid value "five" for "price_in"; expected a number.`},
		{"boolean", "active=maybe", `Invalid value "maybe" for "active"; expected "true" or "false".`},
		{"date", "at_gte=someday", `Invalid value "someday" for "at_gte"; expected a date such as 2024-01-15 or 2024-01-15T10:30:00.000Z.`},
		{"_id", "_id=123", `Invalid value "123" for "_id"; expected a 24-character hex ID.`},
		{"ref", "cat=zzz", `Invalid value "zzz" for "cat"; expected a 24-character hex ID.`},
		{"dotted number", "info.views=lots", `Invalid value "lots" for "info.views"; expected a number.`},
		{"exists", "name_exists=yes", `Invalid value for "name_exists"; expected "true" or "false".`},
		{"regex uncompilable", "name_regex=(", `Invalid regex pattern for "name_regex".`},
		{"regex too long", "name_regex=" + long, `Regex pattern for "name_regex" exceeds 128 characters.`},
		{"$where", "$where=1", `Invalid field name "$where": names must not start with "$".`},
		{"empty $where", "$where=", `Invalid field name "$where": names must not start with "$".`},
		{"$ operator segment", "price.$gt=1", `Invalid field name "price.$gt": names must not start with "$".`},
		{"operator given twice", "price_gt=1&price_gt=2", `Parameter "price_gt" may be given only once.`},
		{"sort direction", "sort=price:up", `Invalid sort direction in "price:up"; use asc, desc, 1 or -1.`},
		{"populate unknown", "populate=nope", `Cannot populate "nope": it is not a field of this collection.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.call("GET", "/api/data/products?"+dqQuery(tc.query), nil).wantError(t, 400, tc.want)
			if !strings.HasPrefix(tc.query, "sort") && !strings.HasPrefix(tc.query, "populate") {
				p.call("GET", "/api/data/products?count=true&"+dqQuery(tc.query), nil).wantError(t, 400, tc.want)
			}
		})
	}
	// A 128-character pattern is allowed.
	if got := p.labels(t, "name_regex="+strings.Repeat("a", 128)); len(got) != 0 {
		t.Errorf("128-character regex: got %v, want no match", got)
	}
}

func TestDataCount(t *testing.T) {
	p := dqSeedProducts(t)
	for _, tc := range []struct {
		filters string
		want    int
	}{
		{"", 5},
		{"price_gte=10", 3},
		{"tags=red", 2},
		{"active=false&price_lt=10", 1},
		{"name_regex=an", 2},
		{"at_exists=false", 1},
		{"info.views_gt=60", 2},
		{"limit=1&page=3&sort=price", 5}, // paging and sort are ignored
		{"price_gt=100", 0},
	} {
		t.Run(tc.filters, func(t *testing.T) {
			r := p.call("GET", "/api/data/products?count=true&"+dqQuery(tc.filters), nil)
			dqWantJSON(t, "count", r.Body, map[string]any{"success": true, "data": map[string]any{"count": tc.want}, "message": "Count fetched successfully."})
			if r.Status != 200 {
				t.Errorf("got status %d, want 200", r.Status)
			}
		})
	}
	// Only exactly "true" asks for a count.
	if _, data := p.list(t, "products", "count=TRUE"); data["items"] == nil {
		t.Errorf("count=TRUE: got %v, want a list", data)
	}
}

// walk pages through the products in cursor mode and returns the labels
// in the order received; it checks every page's meta.
func (p *dqProducts) walk(t *testing.T, query string, limit int) []string {
	t.Helper()
	var got []string
	var totals []any
	defer func() {
		for i, n := range totals {
			if n != float64(len(got)) {
				t.Errorf("page %d: total %v, want %d (all matching documents)", i, n, len(got))
			}
		}
	}()
	cursor := "start"
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("cursor walk does not end: %v", got)
		}
		q := fmt.Sprintf("cursor=%s&limit=%d", url.QueryEscape(cursor), limit)
		if query != "" {
			q += "&" + dqQuery(query)
		}
		items, data := p.list(t, "products", q)
		dqWantKeys(t, "cursor data", data, "items", "total", "cursor", "nextCursor", "limit")
		if data["cursor"] != cursor || data["limit"] != float64(limit) {
			t.Errorf("page %d: got cursor %v limit %v, want %q %d", page, data["cursor"], data["limit"], cursor, limit)
		}
		got = append(got, dqLabels(items, p.label)...)
		totals = append(totals, data["total"])
		next, _ := data["nextCursor"].(string)
		if data["nextCursor"] == nil {
			return got
		}
		if next == "" || len(items) != limit {
			t.Fatalf("page %d: nextCursor %v with %d items (limit %d)", page, data["nextCursor"], len(items), limit)
		}
		cursor = next
	}
}

func TestDataCursor(t *testing.T) {
	p := dqSeedProducts(t)
	for _, tc := range []struct {
		query string
		limit int
		want  []string
	}{
		{"", 2, []string{"c", "e", "a", "d", "b"}},
		{"", 1, []string{"c", "e", "a", "d", "b"}},
		{"", 5, []string{"c", "e", "a", "d", "b"}},
		{"", 100, []string{"c", "e", "a", "d", "b"}},
		{"sort=price", 2, []string{"b", "e", "a", "c", "d"}},
		{"sort=-price", 2, []string{"d", "c", "a", "e", "b"}},
		{"sort=price:desc", 1, []string{"d", "c", "a", "e", "b"}},
		{"sort=at", 2, []string{"d", "c", "b", "a", "e"}},  // a missing value sorts first
		{"sort=-at", 2, []string{"e", "a", "b", "c", "d"}}, // and last when descending
		{"sort=active:desc,price", 2, []string{"e", "a", "c", "b", "d"}},
		{"price_gte=10", 1, []string{"c", "a", "d"}},
		{"tags=red&sort=name", 1, []string{"a", "c"}},
		{"price_gt=100", 2, []string{}},
	} {
		t.Run(fmt.Sprintf("%s limit %d", tc.query, tc.limit), func(t *testing.T) {
			got := p.walk(t, tc.query, tc.limit)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v (each document exactly once, in order)", got, tc.want)
			}
		})
	}

	t.Run("projection without the sort field", func(t *testing.T) {
		var got []string
		cursor := "start"
		for page := 0; page < 10; page++ {
			items, data := p.list(t, "products", "fields=name&sort=price&limit=2&cursor="+url.QueryEscape(cursor))
			for _, it := range items {
				dqWantKeys(t, "item", it, "_id", "name")
			}
			got = append(got, dqLabels(items, p.label)...)
			if data["nextCursor"] == nil {
				break
			}
			cursor = str(data, "nextCursor")
		}
		if want := []string{"b", "e", "a", "c", "d"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("nextCursor format", func(t *testing.T) {
		items, data := p.list(t, "products", "cursor=start&limit=2")
		if data["total"] != float64(5) {
			t.Errorf("total: got %v, want 5", data["total"])
		}
		next, _ := data["nextCursor"].(string)
		raw, err := base64.StdEncoding.DecodeString(next)
		if err != nil {
			t.Fatalf("nextCursor %q is not standard base64: %v", next, err)
		}
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("nextCursor %s is not a JSON object: %v", raw, err)
		}
		last := items[len(items)-1]
		if c["_id"] != last["_id"] || c["sortValue"] != last["createdAt"] {
			t.Errorf("nextCursor: got %s, want _id %v and sortValue %v", raw, last["_id"], last["createdAt"])
		}
	})
}
