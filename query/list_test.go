package query

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return v
}

// filterOf parses raw as a list query and returns the compiled filter.
func filterOf(t *testing.T, raw string, fields []collections.Field) bson.D {
	t.Helper()
	l, err := ParseList(mustQuery(t, raw), fields)
	if err != nil {
		t.Fatalf("ParseList(%q) error = %v", raw, err)
	}
	d, err := l.Filter.Mongo()
	if err != nil {
		t.Fatalf("Mongo() error = %v", err)
	}
	return d
}

func op(name string, v any) bson.D { return bson.D{{Key: name, Value: v}} }

func TestParseListFilters(t *testing.T) {
	h1, h2 := id1.Hex(), id2.Hex()
	tests := []struct {
		name, query string
		want        bson.D
	}{
		{"no filters", "", bson.D{}},
		{"string equality", "title=Hello%20World", bson.D{{Key: "title", Value: "Hello World"}}},
		{"number equality", "price=5", bson.D{{Key: "price", Value: 5.0}}},
		{"repeated equality is $in", "price=5&price=6", bson.D{{Key: "price", Value: op("$in", bson.A{5.0, 6.0})}}},
		{"gt and lt combine", "price_gt=10&price_lt=50", bson.D{{Key: "price", Value: bson.D{{Key: "$gt", Value: 10.0}, {Key: "$lt", Value: 50.0}}}}},
		{"gte", "price_gte=1", bson.D{{Key: "price", Value: op("$gte", 1.0)}}},
		{"lte", "price_lte=1", bson.D{{Key: "price", Value: op("$lte", 1.0)}}},
		{"ne", "title_ne=x", bson.D{{Key: "title", Value: op("$ne", "x")}}},
		{"in split trimmed flattened", "price_in=1,%202,,3&price_in=4", bson.D{{Key: "price", Value: op("$in", bson.A{1.0, 2.0, 3.0, 4.0})}}},
		{"in empty", "title_in=", bson.D{{Key: "title", Value: op("$in", bson.A{})}}},
		{"exists true", "title_exists=true", bson.D{{Key: "title", Value: op("$exists", true)}}},
		{"exists false", "title_exists=false", bson.D{{Key: "title", Value: op("$exists", false)}}},
		{"regex", "title_regex=%5Ehel", bson.D{{Key: "title", Value: bson.D{{Key: "$regex", Value: "^hel"}, {Key: "$options", Value: "i"}}}}},
		{"regex on a number field stays a string", "price_regex=1", bson.D{{Key: "price", Value: bson.D{{Key: "$regex", Value: "1"}, {Key: "$options", Value: "i"}}}}},
		{"boolean", "active=true&active_ne=false", bson.D{{Key: "active", Value: bson.D{{Key: "$eq", Value: true}, {Key: "$ne", Value: false}}}}},
		{"date", "publishedAt_gte=2024-01-15T10:30:00.000Z", bson.D{{Key: "publishedAt", Value: op("$gte", day)}}},
		{"system date", "createdAt_lt=2024-01-15T10:30:00Z", bson.D{{Key: "createdAt", Value: op("$lt", day)}}},
		{"ref", "author=" + h1, bson.D{{Key: "author", Value: id1}}},
		{"_id", "_id=" + h1, bson.D{{Key: "_id", Value: id1}}},
		{"_id in", "_id_in=" + h1 + "," + h2, bson.D{{Key: "_id", Value: op("$in", bson.A{id1, id2})}}},
		{"array contains", "tags=go", bson.D{{Key: "tags", Value: "go"}}},
		{"array of numbers", "scores_gt=3", bson.D{{Key: "scores", Value: op("$gt", 3.0)}}},
		{"array of refs", "related=" + h2, bson.D{{Key: "related", Value: id2}}},
		{"dotted", "meta.views_gt=100", bson.D{{Key: "meta.views", Value: op("$gt", 100.0)}}},
		{"in array of objects", "lines.qty_gte=2&lines.product=" + h1, bson.D{{Key: "lines.product", Value: id1}, {Key: "lines.qty", Value: op("$gte", 2.0)}}},
		{"undeclared compares as string", "color=5", bson.D{{Key: "color", Value: "5"}}},
		{"empty value", "title=", bson.D{{Key: "title", Value: ""}}},
		{"suffix quirk: check_in", "check_in=a,b", bson.D{{Key: "check", Value: op("$in", bson.A{"a", "b"})}}},
		{"bare suffix is a field", "_gt=5", bson.D{{Key: "_gt", Value: "5"}}},
		{"key is stripped", "key=pk_live_abc&title=a", bson.D{{Key: "title", Value: "a"}}},
		{"x-api-key is stripped", "x-api-key=pk_live_abc", bson.D{}},
		{"reserved are not filters", "page=2&limit=5&sort=title&fields=a&populate=author&expand=author&meta=false&cursor=&skip=3&count=false", bson.D{}},
		{"bracket equality", "filter%5Btitle%5D=x", bson.D{{Key: "title", Value: "x"}}},
		{"bracket operator", "filter%5Bprice%5D%5Bgt%5D=10", bson.D{{Key: "price", Value: op("$gt", 10.0)}}},
		{"bracket nin", "filter%5Bprice%5D%5Bnin%5D=1,2", bson.D{{Key: "price", Value: op("$nin", bson.A{1.0, 2.0})}}},
		{"bracket dotted", "filter%5Bmeta.views%5D%5Blte%5D=3", bson.D{{Key: "meta.views", Value: op("$lte", 3.0)}}},
		{"deeper brackets are literal", "filter%5Ba%5D%5Bb%5D%5Bc%5D=1", bson.D{{Key: "filter[a][b][c]", Value: "1"}}},
		{"sorted by key", "b=1&a=2", bson.D{{Key: "a", Value: "2"}, {Key: "b", Value: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := filterOf(t, tt.query, testFields)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("filter of %q mismatch (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

func TestParseListFlexibleCollection(t *testing.T) {
	got := filterOf(t, "price_gt=5&active=true&_id="+id1.Hex()+"&updatedAt_gte=2024-01-15T10:30:00Z", nil)
	want := bson.D{
		{Key: "_id", Value: id1},
		{Key: "active", Value: "true"},
		{Key: "price", Value: op("$gt", "5")},
		{Key: "updatedAt", Value: op("$gte", day)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flexible filter mismatch (-want +got):\n%s", diff)
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"exists value", "title_exists=yes", `Invalid value for "title_exists"; expected "true" or "false".`},
		{"exists repeated", "title_exists=true&title_exists=true", `Invalid value for "title_exists"; expected "true" or "false".`},
		{"regex too long", "title_regex=" + strings.Repeat("a", 129), `Regex pattern for "title_regex" exceeds 128 characters.`},
		{"regex invalid", "title_regex=%28", `Invalid regex pattern for "title_regex".`},
		{"regex repeated", "title_regex=a&title_regex=b", `Parameter "title_regex" may be given only once.`},
		{"number", "price=abc", `Invalid value "abc" for "price"; expected a number.`},
		{"number in list", "price_in=1,x", `Invalid value "x" for "price_in"; expected a number.`},
		{"number repeated equality", "price=1&price=y", `Invalid value "y" for "price"`},
		{"boolean", "active=maybe", `Invalid value "maybe" for "active"; expected "true" or "false".`},
		{"date", "publishedAt_gt=soon", `Invalid value "soon" for "publishedAt_gt"; expected a date`},
		{"ref", "author=123", `Invalid value "123" for "author"; expected a 24-character hex ID.`},
		{"_id", "_id=abc", `expected a 24-character hex ID`},
		{"gt repeated", "price_gt=1&price_gt=2", `Parameter "price_gt" may be given only once.`},
		{"ne repeated", "title_ne=a&title_ne=b", `Parameter "title_ne" may be given only once.`},
		{"dollar key", "%24where=1", `Invalid field name "$where": names must not start with "$".`},
		{"dollar segment", "meta.%24gt=1", `names must not start with "$"`},
		{"dollar with suffix", "%24where_gt=1", `names must not start with "$"`},
		{"empty segment", "a..b=1", `a path segment is empty`},
		{"bracket unknown op", "filter%5Bprice%5D%5Bfoo%5D=1", `Unknown filter operator "foo" in "filter[price][foo]"`},
		{"bracket dollar", "filter%5B%24where%5D=1", `names must not start with "$"`},
		{"bad sort", "sort=title:up", `Invalid sort direction in "title:up"; use asc, desc, 1 or -1.`},
		{"dollar sort", "sort=-%24natural", `names must not start with "$"`},
		{"populate unknown", "populate=nope", `Cannot populate "nope": it is not a field of this collection.`},
		{"fields dollar", "fields=%24where", `names must not start with "$"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseList(mustQuery(t, tt.query), testFields)
			if err == nil {
				t.Fatalf("ParseList(%q) = %+v, want error", tt.query, l)
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind = %v, want Invalid", errs.KindOf(err))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseListPaging(t *testing.T) {
	tests := []struct {
		query             string
		limit, page, skip int64
	}{
		{"", 100, 1, 0},
		{"limit=20", 20, 1, 0},
		{"limit=0", 100, 1, 0},
		{"limit=abc", 100, 1, 0},
		{"limit=20abc", 20, 1, 0},
		{"limit=%2020", 20, 1, 0},
		{"limit=500", 100, 1, 0},
		{"limit=100", 100, 1, 0},
		{"limit=1", 1, 1, 0},
		{"limit=-5", 1, 1, 0},
		{"limit=99999999999999999999999", 100, 1, 0},
		{"limit=2.9", 2, 1, 0},
		{"limit=10&page=3", 10, 3, 20},
		{"page=2", 100, 2, 100},
		{"page=0", 100, 1, 0},
		{"page=-2", 100, 1, 0},
		{"page=abc", 100, 1, 0},
		{"page=99999999999999999999999&limit=100", 100, maxPage, (maxPage - 1) * 100},
		{"limit=10&skip=25", 10, 3, 25},
		{"skip=-3", 100, 1, 0},
		{"skip=abc", 100, 1, 0},
		{"limit=10&page=2&skip=25", 10, 2, 10},
		{"limit=10&page=&skip=25", 10, 3, 25},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			l, err := ParseList(mustQuery(t, tt.query), testFields)
			if err != nil {
				t.Fatal(err)
			}
			if l.Limit != tt.limit || l.Page != tt.page || l.Skip != tt.skip {
				t.Errorf("limit, page, skip = %d, %d, %d; want %d, %d, %d", l.Limit, l.Page, l.Skip, tt.limit, tt.page, tt.skip)
			}
		})
	}
}

func TestParseListCount(t *testing.T) {
	l, err := ParseList(mustQuery(t, "count=true&price_gt=3&sort=x:bad&limit=5&populate=nope"), testFields)
	if err != nil {
		t.Fatalf("count with bad list-only params: %v", err)
	}
	if !l.Count {
		t.Errorf("Count = false, want true")
	}
	if l.Limit != DefaultLimit || l.Skip != 0 {
		t.Errorf("limit, skip = %d, %d; want defaults", l.Limit, l.Skip)
	}
	got, _ := l.Filter.Mongo()
	if diff := cmp.Diff(bson.D{{Key: "price", Value: op("$gt", 3.0)}}, got); diff != "" {
		t.Errorf("count filter mismatch (-want +got):\n%s", diff)
	}
	if _, err := ParseList(mustQuery(t, "count=true&price=x"), testFields); err == nil {
		t.Errorf("count with a bad filter: got nil, want error")
	}
	for _, q := range []string{"count=TRUE", "count=1", "count=false", "count="} {
		l, err := ParseList(mustQuery(t, q), testFields)
		if err != nil {
			t.Fatal(err)
		}
		if l.Count {
			t.Errorf("%s: Count = true, want false (only the exact string true counts)", q)
		}
	}
}

func TestParseListShapeAndCursorDefaults(t *testing.T) {
	l, err := ParseList(mustQuery(t, "fields=title,price&meta=false&populate=author"), testFields)
	if err != nil {
		t.Fatal(err)
	}
	want := Shape{Fields: []string{"title", "price"}, NoMeta: true, Populate: []Populate{{Path: "author", Collection: "authors"}}}
	if diff := cmp.Diff(want, l.Shape); diff != "" {
		t.Errorf("Shape mismatch (-want +got):\n%s", diff)
	}
	if l.Cursor != "" || l.CursorFilter() != nil {
		t.Errorf("not in cursor mode: Cursor = %q, CursorFilter() = %+v", l.Cursor, l.CursorFilter())
	}
	if got := (&List{Sort: DefaultSort()}).Shape.Projection(); got != nil {
		t.Errorf("list default projection = %v, want nil (keeps __v)", got)
	}
}

func TestParseListEmptyValueSlice(t *testing.T) {
	l, err := ParseList(url.Values{"title": {}, "price": {"1"}}, testFields)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Filter.Conds) != 1 || l.Filter.Conds[0].Path != "price" {
		t.Errorf("Conds = %+v, want only price", l.Filter.Conds)
	}
}

func TestParseListTimeIsUTC(t *testing.T) {
	l, err := ParseList(mustQuery(t, "publishedAt=2024-01-15T12:30:00%2B02:00"), testFields)
	if err != nil {
		t.Fatal(err)
	}
	got := l.Filter.Conds[0].Value.(time.Time)
	if !got.Equal(day) || got.Location() != time.UTC {
		t.Errorf("value = %v, want %v in UTC", got, day)
	}
}
