package query

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// nextList parses query (which must carry a cursor), encodes the position
// after doc, then parses the next request with that cursor.
func nextList(t *testing.T, query string, doc any) (*List, string) {
	t.Helper()
	l, err := ParseList(mustQuery(t, query), testFields)
	if err != nil {
		t.Fatalf("ParseList(%q) error = %v", query, err)
	}
	c, err := l.NextCursor(doc)
	if err != nil {
		t.Fatalf("NextCursor() error = %v", err)
	}
	v := mustQuery(t, query)
	v.Set("cursor", c)
	next, err := ParseList(v, testFields)
	if err != nil {
		t.Fatalf("ParseList(next) error = %v", err)
	}
	return next, c
}

func cursorMongo(t *testing.T, l *List) bson.D {
	t.Helper()
	f := l.CursorFilter()
	if f == nil {
		t.Fatalf("CursorFilter() = nil, want a filter")
	}
	d, err := f.Mongo()
	if err != nil {
		t.Fatalf("Mongo() error = %v", err)
	}
	return d
}

func TestCursorFormat(t *testing.T) {
	doc := bson.D{{Key: "_id", Value: id1}, {Key: "title", Value: "x"}, {Key: "createdAt", Value: bson.NewDateTimeFromTime(day)}}
	_, c := nextList(t, "cursor=start", doc)
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q is not standard base64: %v", c, err)
	}
	want := `{"sortValue":"2024-01-15T10:30:00.000Z","_id":"` + id1.Hex() + `"}`
	if string(raw) != want {
		t.Errorf("cursor JSON = %s, want %s", raw, want)
	}
}

func TestCursorModeEntry(t *testing.T) {
	for _, q := range []string{"start", "{}", base64.StdEncoding.EncodeToString([]byte(`{"_id":"nothex","sortValue":1}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"_id":"` + id1.Hex() + `"}`)), // no sortValue
		base64.StdEncoding.EncodeToString([]byte(`[1,2]`)),
		base64.StdEncoding.EncodeToString([]byte(`{"_id":"` + id1.Hex() + `","sortValue":"not a date"}`)),
	} {
		l, err := ParseList(url.Values{"cursor": {q}, "page": {"3"}}, testFields)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if l.Cursor == "" {
			t.Errorf("%s: Cursor is empty, want cursor mode", q)
		}
		if l.Page != 1 || l.Skip != 0 {
			t.Errorf("%s: page, skip = %d, %d; want 1, 0 in cursor mode", q, l.Page, l.Skip)
		}
		if f := l.CursorFilter(); f != nil {
			t.Errorf("%s: CursorFilter() = %+v, want nil (start from the beginning)", q, f)
		}
	}
}

func TestCursorDefaultSort(t *testing.T) {
	doc := bson.M{"_id": id1, "createdAt": day}
	next, _ := nextList(t, "cursor=start", doc)
	want := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: op("$lt", day)}},
			bson.D{{Key: "createdAt", Value: nil}},
		}}},
		bson.D{{Key: "createdAt", Value: day}, {Key: "_id", Value: op("$lt", id1)}},
	}}}
	if diff := cmp.Diff(want, cursorMongo(t, next)); diff != "" {
		t.Errorf("cursor filter mismatch (-want +got):\n%s", diff)
	}
}

func TestCursorAscending(t *testing.T) {
	doc := map[string]any{"_id": id2, "price": int32(7)}
	next, _ := nextList(t, "cursor=x&sort=price", doc)
	want := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "price", Value: op("$gt", 7.0)}},
		bson.D{{Key: "price", Value: 7.0}, {Key: "_id", Value: op("$gt", id2)}},
	}}}
	if diff := cmp.Diff(want, cursorMongo(t, next)); diff != "" {
		t.Errorf("cursor filter mismatch (-want +got):\n%s", diff)
	}
}

func TestCursorNullSortValue(t *testing.T) {
	doc := bson.D{{Key: "_id", Value: id1}}
	asc, _ := nextList(t, "cursor=x&sort=title", doc)
	wantAsc := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "title", Value: op("$ne", nil)}},
		bson.D{{Key: "title", Value: nil}, {Key: "_id", Value: op("$gt", id1)}},
	}}}
	if diff := cmp.Diff(wantAsc, cursorMongo(t, asc)); diff != "" {
		t.Errorf("ascending after null mismatch (-want +got):\n%s", diff)
	}
	desc, _ := nextList(t, "cursor=x&sort=title:desc", doc)
	wantDesc := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "title", Value: nil}, {Key: "_id", Value: op("$lt", id1)}},
	}}}
	if diff := cmp.Diff(wantDesc, cursorMongo(t, desc)); diff != "" {
		t.Errorf("descending after null mismatch (-want +got):\n%s", diff)
	}
}

func TestCursorSeveralKeys(t *testing.T) {
	doc := bson.D{{Key: "_id", Value: id1}, {Key: "meta", Value: bson.D{{Key: "views", Value: int64(3)}}}, {Key: "author", Value: id2}}
	next, c := nextList(t, "cursor=x&sort=meta.views,-author", doc)
	raw, _ := base64.StdEncoding.DecodeString(c)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"sortValue": 3.0, "_id": id1.Hex(), "sortValues": []any{3.0, id2.Hex()}}
	if diff := cmp.Diff(wantJSON, got); diff != "" {
		t.Errorf("cursor JSON mismatch (-want +got):\n%s", diff)
	}
	want := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "meta.views", Value: op("$gt", 3.0)}},
		bson.D{{Key: "meta.views", Value: 3.0}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "author", Value: op("$lt", id2)}},
			bson.D{{Key: "author", Value: nil}},
		}}},
		bson.D{{Key: "meta.views", Value: 3.0}, {Key: "author", Value: id2}, {Key: "_id", Value: op("$lt", id1)}},
	}}}
	if diff := cmp.Diff(want, cursorMongo(t, next)); diff != "" {
		t.Errorf("cursor filter mismatch (-want +got):\n%s", diff)
	}
	// A cursor without sortValues does not fit a two-key order.
	one := base64.StdEncoding.EncodeToString([]byte(`{"sortValue":3,"_id":"` + id1.Hex() + `"}`))
	l, err := ParseList(mustQuery(t, "sort=meta.views,-author&cursor="+url.QueryEscape(one)), testFields)
	if err != nil {
		t.Fatal(err)
	}
	if f := l.CursorFilter(); f != nil {
		t.Errorf("CursorFilter() = %+v, want nil", f)
	}
}

func TestCursorSortByID(t *testing.T) {
	next, _ := nextList(t, "cursor=x&sort=-_id", bson.D{{Key: "_id", Value: id2}})
	want := bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: op("$lt", id2)}}}}}
	if diff := cmp.Diff(want, cursorMongo(t, next)); diff != "" {
		t.Errorf("cursor filter mismatch (-want +got):\n%s", diff)
	}
}

func TestCursorUndeclaredField(t *testing.T) {
	next, _ := nextList(t, "cursor=x&sort=rank", bson.D{{Key: "_id", Value: id1}, {Key: "rank", Value: int64(12)}})
	want := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "rank", Value: op("$gt", int64(12))}},
		bson.D{{Key: "rank", Value: int64(12)}, {Key: "_id", Value: op("$gt", id1)}},
	}}}
	if diff := cmp.Diff(want, cursorMongo(t, next)); diff != "" {
		t.Errorf("cursor filter mismatch (-want +got):\n%s", diff)
	}
}

func TestCursorURLSafeAccepted(t *testing.T) {
	raw := []byte(`{"sortValue":"2024-01-15T10:30:00.000Z","_id":"` + id1.Hex() + `"}`)
	l, err := ParseList(mustQuery(t, "cursor="+base64.RawURLEncoding.EncodeToString(raw)), testFields)
	if err != nil {
		t.Fatal(err)
	}
	if l.CursorFilter() == nil {
		t.Errorf("CursorFilter() = nil, want a filter for an unpadded URL-safe cursor")
	}
}

func TestNextCursorErrors(t *testing.T) {
	l, err := ParseList(mustQuery(t, "cursor=x&sort=tags"), testFields)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.NextCursor(bson.D{{Key: "_id", Value: id1}, {Key: "tags", Value: bson.A{"a"}}}); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), `cannot sort on "tags"`) {
		t.Errorf("array sort value: error = %v, want Invalid naming tags", err)
	}
	if _, err := l.NextCursor(bson.D{{Key: "_id", Value: "not-an-objectid"}}); !errs.Is(err, errs.Internal) {
		t.Errorf("string _id: error = %v, want Internal", err)
	}
}

func TestCursorUnescapedPlus(t *testing.T) {
	// A standard base64 cursor sent without escaping "+" arrives with a
	// space; it must still decode.
	for pad := range 3 {
		raw := `{"sortValue":"` + strings.Repeat("a", pad) + `>>>>>>","_id":"` + id1.Hex() + `"}`
		c := base64.StdEncoding.EncodeToString([]byte(raw))
		if !strings.Contains(c, "+") {
			continue
		}
		l, err := ParseList(mustQuery(t, "sort=title&cursor="+c), testFields)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(l.Cursor, " ") {
			t.Fatalf("test setup: cursor %q has no space after query parsing", l.Cursor)
		}
		if l.CursorFilter() == nil {
			t.Fatalf("cursor %q sent unescaped: CursorFilter() = nil, want a filter", c)
		}
		return
	}
	t.Fatal("test setup: no cursor with + found")
}
