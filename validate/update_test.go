package validate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestUpdate(t *testing.T) {
	fields := []field{
		{Key: "title", Type: tString, Required: true},
		{Key: "code", Type: tString, Unique: true},
		{Key: "n", Type: tNumber, Default: 1.0},
		{Key: "at", Type: tDate},
		{Key: "author", Type: tRef, Ref: "users"},
		metaField,
		{Key: "tags", Type: tArray, Items: &field{Type: tString}},
		{Key: "any", Type: tArray},
		commentsField,
	}
	tests := []struct {
		name  string
		patch any
		want  Patch
		msg   string
	}{
		{name: "empty patch", patch: m{}, want: Patch{}},
		{name: "absent required is fine and no defaults", patch: m{"at": "2024-01-15"}, want: Patch{Set: d("at", date("2024-01-15T00:00:00Z"))}},
		{name: "top-level string trimmed", patch: m{"title": " New "}, want: Patch{Set: d("title", "New")}},
		{name: "type checked", patch: m{"n": "5"}, msg: "Field 'n' must be a Number."},
		{name: "ref cast", patch: m{"author": hexID}, want: Patch{Set: d("author", oid)}},
		{name: "ref invalid", patch: m{"author": "x"}, msg: "Field 'author' must be a valid reference ID (ObjectId)."},
		{name: "required set to null", patch: m{"title": nil}, msg: "Field 'title' is required."},
		{name: "required set to blank", patch: m{"title": "  "}, msg: "Field 'title' is required."},
		{name: "optional set to null", patch: m{"n": nil}, want: Patch{Set: d("n", nil)}},
		{name: "unique optional null unset", patch: m{"code": nil}, want: Patch{Unset: []string{"code"}}},
		{name: "unique optional empty unset", patch: m{"code": " "}, want: Patch{Unset: []string{"code"}}},
		{name: "unique optional value set", patch: m{"code": "x"}, want: Patch{Set: d("code", "x")}},
		{name: "undeclared kept", patch: m{"extra": m{"k": 1.0}}, want: Patch{Set: d("extra", d("k", int32(1)))}},
		{name: "whole object checked fully", patch: m{"meta": m{}}, msg: "Field 'views' is required."},
		{name: "whole object stored", patch: m{"meta": m{"views": 2.0}}, want: Patch{Set: d("meta", d("views", int32(2), "labels", bson.A{}))}},
		{name: "absent array not added", patch: m{"title": "x"}, want: Patch{Set: d("title", "x")}},
		{name: "array items checked", patch: m{"tags": a{"a", true}}, msg: "Field 'tags[1]' must be a String."},
		{name: "dotted path to nested field", patch: m{"meta.views": 105.0}, want: Patch{Set: d("meta.views", int32(105))}},
		{name: "dotted path type uses own key", patch: m{"meta.views": "105"}, msg: "Field 'views' must be a Number."},
		{name: "dotted path required null", patch: m{"meta.views": nil}, msg: "Field 'views' is required."},
		{name: "dotted path nested string not trimmed", patch: m{"meta.note": " x "}, want: Patch{Set: d("meta.note", " x ")}},
		{name: "dotted path undeclared member", patch: m{"meta.extra": "1"}, want: Patch{Set: d("meta.extra", "1")}},
		{name: "dotted path undeclared top", patch: m{"a.b": 1.0}, want: Patch{Set: d("a.b", int32(1))}},
		{name: "dotted path array element", patch: m{"tags.0": "x"}, want: Patch{Set: d("tags.0", "x")}},
		{name: "dotted path array element type", patch: m{"tags.3": 1.0}, msg: "Field 'tags[3]' must be a String."},
		{name: "dotted path untyped array element", patch: m{"any.0": 1.0}, want: Patch{Set: d("any.0", int32(1))}},
		{name: "dotted path into object item", patch: m{"comments.0.body": 1.0}, msg: "Field 'body' must be a String."},
		{name: "dotted path object item", patch: m{"comments.1": m{"body": "b"}}, want: Patch{Set: d("comments.1", d("body", "b"))}},
		{name: "dotted path object item required", patch: m{"comments.1": m{}}, msg: "Field 'body' is required."},
		{name: "dotted path array without index", patch: m{"tags.x": "a"}, msg: "Field 'tags.x' cannot be set: 'tags' is an Array."},
		{name: "dotted path through a string", patch: m{"title.x": "a"}, msg: "Field 'title.x' cannot be set: 'title' is a String."},
		{name: "dotted path through an array element string", patch: m{"tags.0.x": "a"}, msg: "Field 'tags.0.x' cannot be set: 'tags.0' is a String."},
		{name: "empty path segment", patch: m{"meta..views": 1.0}, msg: "Field 'meta..views' is not a valid path."},
		{name: "dollar key", patch: m{"$set": m{"title": "x"}}, msg: "Field '$set' is not allowed: field names cannot start with '$'."},
		{name: "dollar path segment", patch: m{"tags.$": "x"}, msg: "Field 'tags.$' is not allowed: field names cannot start with '$'."},
		{name: "nested dollar key", patch: m{"extra": m{"$inc": 1.0}}, msg: "Field 'extra.$inc' is not allowed: field names cannot start with '$'."},
		{name: "system fields ignored", patch: m{"_id": "x", "createdAt": "x", "updatedAt": "x", "__v": 1.0, "_id.x": 1.0, "title": "t"}, want: Patch{Set: d("title", "t")}},
		{name: "conflict object and path", patch: d("meta", m{"views": 1.0}, "meta.views", 2.0), msg: "Updating the path 'meta.views' would create a conflict at 'meta'"},
		{name: "conflict path before its parent", patch: d("a.b", 1, "a", 2), msg: "Updating the path 'a.b' would create a conflict at 'a'"},
		{name: "conflict duplicate key", patch: d("x", 1, "x", 2), msg: "Updating the path 'x' would create a conflict at 'x'"},
		{name: "no conflict for sibling prefixes", patch: d("meta.views", 1, "meta.viewsTotal", 2), want: Patch{Set: d("meta.views", int32(1), "meta.viewsTotal", int32(2))}},
		{name: "padded key matched and renamed", patch: m{"\ufefftitle ": "x"}, want: Patch{Set: d("title", "x")}},
		{name: "exact key beats padded key", patch: d(" title", "padded", "title", "exact"), want: Patch{Set: d("title", "exact")}},
		{name: "bson.D order kept", patch: d("z", 1, "title", "t", "a", 2), want: Patch{Set: d("z", int32(1), "title", "t", "a", int32(2))}},
		{name: "body not an object", patch: a{}, msg: "Request body must be a JSON object."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update(fields, tt.patch)
			wantErr(t, err, tt.msg)
			if tt.msg != "" {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Empty() != (len(tt.want.Set) == 0 && len(tt.want.Unset) == 0) {
				t.Errorf("got Empty %v", got.Empty())
			}
		})
	}
}

func TestUpdateFlexible(t *testing.T) {
	got, err := Update(nil, m{"anything": a{1.5, "x"}, "deep.path": true})
	if err != nil {
		t.Fatal(err)
	}
	want := Patch{Set: d("anything", bson.A{1.5, "x"}, "deep.path", true)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
