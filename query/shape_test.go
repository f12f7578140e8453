package query

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

func TestParseGetOneProjection(t *testing.T) {
	tests := []struct {
		name, query string
		want        bson.D
	}{
		{"default hides __v", "", bson.D{{Key: "__v", Value: 0}}},
		{"fields", "fields=title,price", bson.D{{Key: "title", Value: 1}, {Key: "price", Value: 1}}},
		{"fields repeated and trimmed", "fields=title,%20&fields=price,title", bson.D{{Key: "title", Value: 1}, {Key: "price", Value: 1}}},
		{"fields with _id", "fields=_id,title", bson.D{{Key: "_id", Value: 1}, {Key: "title", Value: 1}}},
		{"only _id", "fields=_id", bson.D{{Key: "_id", Value: 1}}},
		{"nested path under parent dropped", "fields=meta.views,meta", bson.D{{Key: "meta", Value: 1}}},
		{"meta=false", "meta=false", bson.D{{Key: "createdAt", Value: 0}, {Key: "updatedAt", Value: 0}, {Key: "schemaVersion", Value: 0}, {Key: "__v", Value: 0}}},
		{"meta=true is ignored", "meta=true", bson.D{{Key: "__v", Value: 0}}},
		{"fields and meta=false together", "fields=title,createdAt&meta=false", bson.D{{Key: "title", Value: 1}}},
		{"fields only meta with meta=false", "fields=createdAt&meta=false", bson.D{{Key: "_id", Value: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseGetOne(mustQuery(t, tt.query), testFields)
			if err != nil {
				t.Fatalf("ParseGetOne(%q) error = %v", tt.query, err)
			}
			if diff := cmp.Diff(tt.want, s.Projection()); diff != "" {
				t.Errorf("Projection() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePopulate(t *testing.T) {
	tests := []struct {
		name, query string
		want        []Populate
	}{
		{"none", "", nil},
		{"ref", "populate=author", []Populate{{Path: "author", Collection: "authors"}}},
		{"expand", "expand=author", []Populate{{Path: "author", Collection: "authors"}}},
		{"populate wins over expand", "populate=author&expand=related", []Populate{{Path: "author", Collection: "authors"}}},
		{"array of refs", "populate=related", []Populate{{Path: "related", Collection: "things", Many: true}}},
		{"nested ref", "populate=meta.editor", []Populate{{Path: "meta.editor", Collection: "users"}}},
		{"ref in array of objects", "populate=lines.product", []Populate{{Path: "lines.product", Collection: "products", Many: true}}},
		{"several, repeated, deduplicated", "populate=author,%20related&populate=author", []Populate{
			{Path: "author", Collection: "authors"}, {Path: "related", Collection: "things", Many: true},
		}},
		{"declared non-ref is skipped", "populate=title,tags,author", []Populate{{Path: "author", Collection: "authors"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseGetOne(mustQuery(t, tt.query), testFields)
			if err != nil {
				t.Fatalf("ParseGetOne(%q) error = %v", tt.query, err)
			}
			if diff := cmp.Diff(tt.want, s.Populate); diff != "" {
				t.Errorf("Populate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGetOneErrors(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		fields []collections.Field
		want   string
	}{
		{"undeclared populate", "populate=nope", testFields, `Cannot populate "nope": it is not a field of this collection.`},
		{"undeclared nested populate", "expand=meta.nope", testFields, `Cannot populate "meta.nope"`},
		{"flexible collection populate", "populate=author", nil, `Cannot populate "author"`},
		{"dollar populate", "populate=%24x", testFields, `names must not start with "$"`},
		{"dollar field", "fields=a,%24b", testFields, `names must not start with "$"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseGetOne(mustQuery(t, tt.query), tt.fields)
			if err == nil {
				t.Fatalf("ParseGetOne(%q) = %+v, want error", tt.query, s)
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v (%v), want Invalid containing %q", err, errs.KindOf(err), tt.want)
			}
		})
	}
}

func TestOwnerFilter(t *testing.T) {
	refOwner := []collections.Field{{Key: "owner", Type: collections.Ref, Ref: "users"}}
	tests := []struct {
		name, field, user string
		fields            []collections.Field
		want              any
	}{
		{"undeclared owner is a string", "userId", id1.Hex(), testFields, id1.Hex()},
		{"string owner", "title", id1.Hex(), testFields, id1.Hex()},
		{"ref owner is an ObjectID", "owner", id1.Hex(), refOwner, id1},
		{"ref owner with a non-hex id stays a string", "owner", "u-1", refOwner, "u-1"},
		{"_id owner", "_id", id2.Hex(), nil, id2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OwnerFilter(tt.field, tt.user, tt.fields).Mongo()
			if err != nil {
				t.Fatal(err)
			}
			want := bson.D{{Key: tt.field, Value: tt.want}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("OwnerFilter mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
