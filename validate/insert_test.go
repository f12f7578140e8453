package validate

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var (
	metaField = field{Key: "meta", Type: tObject, Fields: []field{
		{Key: "views", Type: tNumber, Required: true},
		{Key: "note", Type: tString},
		{Key: "labels", Type: tArray, Items: &field{Type: tString}},
	}}
	commentsField = field{Key: "comments", Type: tArray, Items: &field{Type: tObject, Fields: []field{
		{Key: "body", Type: tString, Required: true},
		{Key: "at", Type: tDate},
	}}}
)

func TestInsert(t *testing.T) {
	title := field{Key: "title", Type: tString, Required: true}
	tests := []struct {
		name   string
		fields []field
		doc    any
		want   bson.D
		msg    string
	}{
		// required
		{name: "required absent", fields: []field{title}, doc: m{}, msg: "Field 'title' is required."},
		{name: "required null", fields: []field{title}, doc: m{"title": nil}, msg: "Field 'title' is required."},
		{name: "required blank string", fields: []field{title}, doc: m{"title": " \t "}, msg: "Field 'title' is required."},
		{name: "required false and zero pass", fields: []field{{Key: "ok", Type: tBoolean, Required: true}, {Key: "n", Type: tNumber, Required: true}},
			doc: m{"ok": false, "n": 0.0}, want: d("ok", false, "n", int32(0))},
		{name: "first failure in schema order", fields: []field{title, {Key: "n", Type: tNumber}}, doc: m{"n": "x"}, msg: "Field 'title' is required."},

		// String
		{name: "top-level string trimmed", fields: []field{title}, doc: m{"title": "  Hello \u00a0\ufeff"}, want: d("title", "Hello")},
		{name: "string type", fields: []field{title}, doc: m{"title": 5.0}, msg: "Field 'title' must be a String."},
		{name: "email ok", fields: []field{{Key: "email", Type: tString, Format: "email"}}, doc: m{"email": " a.b+c@ex-ample.co "}, want: d("email", "a.b+c@ex-ample.co")},
		{name: "email bad", fields: []field{{Key: "email", Type: tString, Format: "email"}}, doc: m{"email": "a@b"}, msg: "Field 'email' must be a valid email (e.g., user@example.com)."},
		{name: "email empty optional", fields: []field{{Key: "email", Type: tString, Format: "email"}}, doc: m{"email": ""}, msg: "Field 'email' must be a valid email (e.g., user@example.com)."},
		{name: "url bad", fields: []field{{Key: "site", Type: tString, Format: "url"}}, doc: m{"site": "ftp://x.com"}, msg: "Field 'site' must match format 'url'."},
		{name: "color bad", fields: []field{{Key: "c", Type: tString, Format: "color"}}, doc: m{"c": "#fff"}, msg: "Field 'c' must match format 'color'."},
		{name: "slug bad", fields: []field{{Key: "s", Type: tString, Format: "slug"}}, doc: m{"s": "Hello-World"}, msg: "Field 's' must match format 'slug'."},
		{name: "unknown format ignored", fields: []field{{Key: "s", Type: tString, Format: "phone"}}, doc: m{"s": "x"}, want: d("s", "x")},

		// Number, Boolean
		{name: "number integer", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": 42.0}, want: d("n", int32(42))},
		{name: "number fraction", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": 1.5}, want: d("n", 1.5)},
		{name: "number beyond int32", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": 3e9}, want: d("n", 3e9)},
		{name: "number json.Number", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": json.Number("-7")}, want: d("n", int32(-7))},
		{name: "number string refused", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": "5"}, msg: "Field 'n' must be a Number."},
		{name: "number bool refused", fields: []field{{Key: "n", Type: tNumber}}, doc: m{"n": true}, msg: "Field 'n' must be a Number."},
		{name: "boolean", fields: []field{{Key: "b", Type: tBoolean}}, doc: m{"b": true}, want: d("b", true)},
		{name: "boolean string refused", fields: []field{{Key: "b", Type: tBoolean}}, doc: m{"b": "true"}, msg: "Field 'b' must be a Boolean."},

		// Date, Ref
		{name: "date ISO", fields: []field{{Key: "at", Type: tDate}}, doc: m{"at": "2024-01-15T10:30:00.000Z"}, want: d("at", date("2024-01-15T10:30:00Z"))},
		{name: "date RFC 2822", fields: []field{{Key: "at", Type: tDate}}, doc: m{"at": "Mon, 15 Jan 2024 11:30:00 +0100"}, want: d("at", date("2024-01-15T10:30:00Z"))},
		{name: "date milliseconds", fields: []field{{Key: "at", Type: tDate}}, doc: m{"at": 1705314600000.0}, want: d("at", date("2024-01-15T10:30:00Z"))},
		{name: "date invalid", fields: []field{{Key: "at", Type: tDate}}, doc: m{"at": "next tuesday"}, msg: "Field 'at' must be a valid Date."},
		{name: "date bool invalid", fields: []field{{Key: "at", Type: tDate}}, doc: m{"at": true}, msg: "Field 'at' must be a valid Date."},
		{name: "ref", fields: []field{{Key: "author", Type: tRef, Ref: "users"}}, doc: m{"author": hexID}, want: d("author", oid)},
		{name: "ref ObjectID value", fields: []field{{Key: "author", Type: tRef, Ref: "users"}}, doc: m{"author": oid}, want: d("author", oid)},
		{name: "ref invalid", fields: []field{{Key: "author", Type: tRef, Ref: "users"}}, doc: m{"author": "abc"}, msg: "Field 'author' must be a valid reference ID (ObjectId)."},
		{name: "ref number invalid", fields: []field{{Key: "author", Type: tRef, Ref: "users"}}, doc: m{"author": 1.0}, msg: "Field 'author' must be a valid reference ID (ObjectId)."},

		// Object
		{name: "object", fields: []field{metaField}, doc: m{"meta": m{"views": 3.0, "note": " keep ", "x": m{"b": 1.0, "a": 2.5}}},
			want: d("meta", d("views", int32(3), "note", " keep ", "labels", bson.A{}, "x", d("a", 2.5, "b", int32(1))))},
		{name: "object not an object", fields: []field{metaField}, doc: m{"meta": "x"}, msg: "Field 'meta' must be an Object."},
		{name: "object array is not an object", fields: []field{metaField}, doc: m{"meta": a{}}, msg: "Field 'meta' must be an Object."},
		{name: "object sub-field required uses own key", fields: []field{metaField}, doc: m{"meta": m{}}, msg: "Field 'views' is required."},
		{name: "object sub-field type uses own key", fields: []field{metaField}, doc: m{"meta": m{"views": "1"}}, msg: "Field 'views' must be a Number."},
		{name: "object absent optional", fields: []field{metaField}, doc: m{}, want: d()},
		{name: "object null optional", fields: []field{metaField}, doc: m{"meta": nil}, want: d("meta", nil)},
		{name: "object without declared fields", fields: []field{{Key: "o", Type: tObject}}, doc: m{"o": m{"k": "v"}}, want: d("o", d("k", "v"))},

		// Array
		{name: "array absent becomes empty", fields: []field{{Key: "tags", Type: tArray, Items: &field{Type: tString}}}, doc: m{}, want: d("tags", bson.A{})},
		{name: "array null stays null", fields: []field{{Key: "tags", Type: tArray}}, doc: m{"tags": nil}, want: d("tags", nil)},
		{name: "array required absent", fields: []field{{Key: "tags", Type: tArray, Required: true}}, doc: m{}, msg: "Field 'tags' is required."},
		{name: "array not an array", fields: []field{{Key: "tags", Type: tArray}}, doc: m{"tags": "a,b"}, msg: "Field 'tags' must be an Array."},
		{name: "array untyped items kept", fields: []field{{Key: "tags", Type: tArray}}, doc: m{"tags": a{"a", 1.0, m{"k": true}, nil}}, want: d("tags", bson.A{"a", int32(1), d("k", true), nil})},
		{name: "array string items not trimmed", fields: []field{{Key: "tags", Type: tArray, Items: &field{Type: tString}}}, doc: m{"tags": a{" a ", nil}}, want: d("tags", bson.A{" a ", nil})},
		{name: "array item type", fields: []field{{Key: "tags", Type: tArray, Items: &field{Type: tString}}}, doc: m{"tags": a{"a", 2.0}}, msg: "Field 'tags[1]' must be a String."},
		{name: "array ref items", fields: []field{{Key: "links", Type: tArray, Items: &field{Type: tRef, Ref: "posts"}}}, doc: m{"links": a{hexID}}, want: d("links", bson.A{oid})},
		{name: "array ref item invalid", fields: []field{{Key: "links", Type: tArray, Items: &field{Type: tRef, Ref: "posts"}}}, doc: m{"links": a{hexID, "x"}}, msg: "Field 'links[1]' must be a valid reference ID (ObjectId)."},
		{name: "array date items", fields: []field{{Key: "at", Type: tArray, Items: &field{Type: tDate}}}, doc: m{"at": a{"2024-01-15"}}, want: d("at", bson.A{date("2024-01-15T00:00:00Z")})},
		{name: "array object items", fields: []field{commentsField}, doc: m{"comments": a{m{"body": "hi", "at": "2024-01-15T10:30:00Z"}}},
			want: d("comments", bson.A{d("body", "hi", "at", date("2024-01-15T10:30:00Z"))})},
		{name: "array object item not an object", fields: []field{commentsField}, doc: m{"comments": a{"hi"}}, msg: "Field 'comments[0]' must be an Object."},
		{name: "array object item required sub-field", fields: []field{commentsField}, doc: m{"comments": a{m{"body": "x"}, m{}}}, msg: "Field 'body' is required."},

		// defaults
		{name: "defaults when absent", fields: []field{{Key: "n", Type: tNumber, Default: 0.0}, {Key: "b", Type: tBoolean, Default: false}, {Key: "s", Type: tString, Default: "draft"}},
			doc: m{}, want: d("n", int32(0), "b", false, "s", "draft")},
		{name: "default when null", fields: []field{{Key: "s", Type: tString, Default: "draft"}}, doc: m{"s": nil}, want: d("s", "draft")},
		{name: "value beats default", fields: []field{{Key: "n", Type: tNumber, Default: 1.5}}, doc: m{"n": 2.0}, want: d("n", int32(2))},
		{name: "no defaults inside objects", fields: []field{{Key: "o", Type: tObject, Fields: []field{{Key: "n", Type: tNumber, Default: 1.0}}}}, doc: m{"o": m{}}, want: d("o", d())},

		// unique
		{name: "unique optional null removed", fields: []field{{Key: "code", Type: tString, Unique: true}}, doc: m{"code": nil}, want: d()},
		{name: "unique optional empty removed", fields: []field{{Key: "code", Type: tString, Unique: true, Format: "slug"}}, doc: m{"code": "  "}, want: d()},
		{name: "unique optional number null removed", fields: []field{{Key: "n", Type: tNumber, Unique: true}}, doc: m{"n": nil}, want: d()},
		{name: "unique optional value kept", fields: []field{{Key: "code", Type: tString, Unique: true}}, doc: m{"code": " A "}, want: d("code", "A")},
		{name: "unique optional default used", fields: []field{{Key: "code", Type: tString, Unique: true, Default: "x"}}, doc: m{"code": nil}, want: d("code", "x")},
		{name: "unique required null", fields: []field{{Key: "code", Type: tString, Unique: true, Required: true}}, doc: m{"code": nil}, msg: "Field 'code' is required."},
		{name: "optional non-unique null kept", fields: []field{{Key: "code", Type: tString}}, doc: m{"code": nil}, want: d("code", nil)},
		{name: "optional non-unique empty kept", fields: []field{{Key: "code", Type: tString}}, doc: m{"code": " "}, want: d("code", "")},

		// keys and undeclared members
		{name: "declared first in schema order then undeclared sorted", fields: []field{{Key: "z", Type: tString}, {Key: "a", Type: tString}},
			doc: m{"y": 1.0, "a": "A", "b": nil, "z": "Z"}, want: d("z", "Z", "a", "A", "b", nil, "y", int32(1))},
		{name: "bson.D order kept for undeclared", fields: []field{{Key: "a", Type: tString}},
			doc: d("y", 1, "a", "A", "b", 2), want: d("a", "A", "y", int32(1), "b", int32(2))},
		{name: "bson.M input", fields: nil, doc: bson.M{"k": bson.A{bson.M{"x": int64(5)}}}, want: d("k", bson.A{d("x", int32(5))})},
		{name: "BOM key matched", fields: []field{title}, doc: m{"\ufefftitle": "x"}, want: d("title", "x")},
		{name: "exact key beats padded key", fields: []field{title}, doc: m{" title": "padded", "title": "exact"}, want: d("title", "exact")},
		{name: "dollar key refused", fields: nil, doc: m{"$where": "1"}, msg: "Field '$where' is not allowed: field names cannot start with '$'."},
		{name: "nested dollar key refused", fields: []field{metaField}, doc: m{"meta": m{"views": 1.0, "$gt": 1.0}}, msg: "Field 'meta.$gt' is not allowed: field names cannot start with '$'."},
		{name: "dollar key in array refused", fields: nil, doc: m{"l": a{m{"$x": 1.0}}}, msg: "Field 'l[0].$x' is not allowed: field names cannot start with '$'."},
		{name: "dotted key refused", fields: nil, doc: m{"a.b": 1.0}, msg: "Field 'a.b' is not allowed: field names cannot contain '.'."},
		{name: "flexible collection", fields: nil, doc: m{"anything": m{"goes": a{1.0, "two", true}}, "n": json.Number("1.25")},
			want: d("anything", d("goes", bson.A{int32(1), "two", true}), "n", 1.25)},

		// system fields
		{name: "client _id kept first", fields: []field{title}, doc: m{"title": "x", "_id": hexID}, want: d("_id", oid, "title", "x")},
		{name: "client _id invalid", fields: nil, doc: m{"_id": "nope"}, msg: "Field '_id' must be a valid ObjectId."},
		{name: "client createdAt kept last", fields: nil, doc: m{"createdAt": "2024-01-15T10:30:00.000Z", "a": 1.0}, want: d("a", int32(1), "createdAt", date("2024-01-15T10:30:00Z"))},
		{name: "client createdAt invalid", fields: nil, doc: m{"createdAt": "soon"}, msg: "Field 'createdAt' must be a valid Date."},
		{name: "updatedAt and __v dropped", fields: nil, doc: m{"updatedAt": "2024-01-15", "__v": 3.0, "a": 1.0}, want: d("a", int32(1))},
		{name: "null _id dropped", fields: nil, doc: m{"_id": nil}, want: d()},

		// body
		{name: "body not an object", fields: nil, doc: a{m{}}, msg: "Request body must be a JSON object."},
		{name: "body null", fields: nil, doc: nil, msg: "Request body must be a JSON object."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Insert(tt.fields, tt.doc)
			wantErr(t, err, tt.msg)
			if tt.msg != "" {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInsertMany(t *testing.T) {
	fields := []field{{Key: "title", Type: tString, Required: true}}
	many := make(a, 101)
	for i := range many {
		many[i] = m{"title": fmt.Sprint(i)}
	}
	tests := []struct {
		name string
		body any
		want []bson.D
		msg  string
	}{
		{name: "not an array", body: m{"title": "x"}, msg: "Request body must be an array of objects"},
		{name: "empty", body: a{}, msg: "Request body cannot be empty"},
		{name: "too many", body: many, msg: "Maximum 100 records allowed"},
		{name: "exactly 100", body: many[:100]},
		{name: "invalid records", body: a{m{"title": "a"}, m{}, m{"title": "c"}, "x", m{"title": 1.0}}, msg: "Invalid records at index: 1, 3, 4"},
		{name: "valid", body: bson.A{m{"title": " a "}, bson.D{{Key: "title", Value: "b"}}}, want: []bson.D{d("title", "a"), d("title", "b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InsertMany(fields, tt.body)
			wantErr(t, err, tt.msg)
			if tt.msg != "" || tt.want == nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUniqueKeys(t *testing.T) {
	fields := []field{{Key: "a", Unique: true}, {Key: "b"}, {Key: " c ", Unique: true}}
	if diff := cmp.Diff([]string{"a", "c"}, UniqueKeys(fields)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := UniqueKeys(nil); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}
