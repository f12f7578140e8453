package query

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// testFields is a schema with every field type, nested objects and arrays.
var testFields = []collections.Field{
	{Key: "title", Type: collections.String},
	{Key: "price", Type: collections.Number},
	{Key: "active", Type: collections.Boolean},
	{Key: "publishedAt", Type: collections.Date},
	{Key: "author", Type: collections.Ref, Ref: "authors"},
	{Key: "tags", Type: collections.Array, Items: &collections.Field{Type: collections.String}},
	{Key: "scores", Type: collections.Array, Items: &collections.Field{Type: collections.Number}},
	{Key: "anything", Type: collections.Array},
	{Key: "related", Type: collections.Array, Items: &collections.Field{Type: collections.Ref, Ref: "things"}},
	{Key: "meta", Type: collections.Object, Fields: []collections.Field{
		{Key: "views", Type: collections.Number},
		{Key: "editor", Type: collections.Ref, Ref: "users"},
		{Key: "seo", Type: collections.Object, Fields: []collections.Field{{Key: "indexed", Type: collections.Boolean}}},
	}},
	{Key: "lines", Type: collections.Array, Items: &collections.Field{Type: collections.Object, Fields: []collections.Field{
		{Key: "product", Type: collections.Ref, Ref: "products"},
		{Key: "qty", Type: collections.Number},
	}}},
}

func TestCast(t *testing.T) {
	tests := []struct {
		path, value string
		want        any
	}{
		{"title", "  Hello ", "  Hello "},
		{"price", "12.5", 12.5},
		{"price", " 7 ", 7.0},
		{"price", "1e3", 1000.0},
		{"price", "-0.25", -0.25},
		{"active", "true", true},
		{"active", "FALSE", false},
		{"active", "1", true},
		{"active", "no", false},
		{"publishedAt", "2024-01-15", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"publishedAt", "2024-01-15T10:30:00.000Z", day},
		{"author", id1.Hex(), id1},
		{"_id", id2.Hex(), id2},
		{"createdAt", "2024-01-15T10:30:00Z", day},
		{"updatedAt", "2024-01-15T11:30:00+01:00", day},
		{"__v", "0", 0.0},
		{"tags", "go", "go"},
		{"scores", "3", 3.0},
		{"tags.0", "go", "go"},
		{"scores.1", "4", 4.0},
		{"anything", "5", "5"},
		{"related", id1.Hex(), id1},
		{"meta.views", "100", 100.0},
		{"meta.editor", id1.Hex(), id1},
		{"meta.seo.indexed", "true", true},
		{"meta", "x", "x"},
		{"meta.unknown", "5", "5"},
		{"lines.qty", "2", 2.0},
		{"lines.product", id2.Hex(), id2},
		{"lines.0.qty", "2", 2.0},
		{"undeclared", "5", "5"},
		{"price.deeper", "5", "5"},
		{"title.x", "true", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			got, err := Cast(testFields, tt.path, tt.value)
			if err != nil {
				t.Fatalf("Cast() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Cast(%q, %q) mismatch (-want +got):\n%s", tt.path, tt.value, diff)
			}
		})
	}
}

func TestCastFlexibleCollection(t *testing.T) {
	for _, tt := range []struct {
		path, value string
		want        any
	}{
		{"price", "5", "5"},
		{"active", "true", "true"},
		{"_id", id1.Hex(), id1},
		{"createdAt", "2024-01-15T10:30:00.000Z", day},
	} {
		got, err := Cast(nil, tt.path, tt.value)
		if err != nil {
			t.Fatalf("Cast(nil, %q) error = %v", tt.path, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Cast(nil, %q, %q) mismatch (-want +got):\n%s", tt.path, tt.value, diff)
		}
	}
}

func TestCastErrors(t *testing.T) {
	tests := []struct {
		path, value, want string
	}{
		{"price", "abc", `Invalid value "abc" for "price"; expected a number.`},
		{"price", "", `expected a number`},
		{"price", "NaN", `expected a number`},
		{"price", "Infinity", `expected a number`},
		{"price", "0x10", `expected a number`},
		{"scores", "many", `expected a number`},
		{"active", "maybe", `expected "true" or "false"`},
		{"publishedAt", "yesterday", `expected a date`},
		{"publishedAt", "2024-13-45", `expected a date`},
		{"author", "123", `expected a 24-character hex ID`},
		{"_id", "zzzzzzzzzzzzzzzzzzzzzzzz", `expected a 24-character hex ID`},
		{"related", "x", `expected a 24-character hex ID`},
		{"createdAt", "soon", `expected a date`},
		{"price", strings.Repeat("9x", 100), `…" for "price"`},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			got, err := Cast(testFields, tt.path, tt.value)
			if err == nil {
				t.Fatalf("Cast() = %v, want error", got)
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

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-01-15T10:30:00.000Z", day, true},
		{"2024-01-15T10:30:00Z", day, true},
		{"2024-01-15T10:30:00.123456Z", day.Add(123 * time.Millisecond), true},
		{"2024-01-15T12:30:00+02:00", day, true},
		{"2024-01-15T12:30:00+0200", day, true},
		{"2024-01-15T10:30:00", day, true},
		{"2024-01-15T10:30", day, true},
		{"2024-01-15 10:30:00", day, true},
		{"2024-01-15", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), true},
		{"2024-01", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"Mon, 15 Jan 2024 10:30:00 GMT", day, true},
		{"Mon, 15 Jan 2024 11:30:00 +0100", day, true},
		{"1705314600000", day, true},
		{" 2024-01-15T10:30:00Z ", day, true},
		{"", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"15/01/2024", time.Time{}, false},
		{"-5", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseDate(tt.in)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) location = %v, want UTC", tt.in, got.Location())
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		path     string
		wantType collections.FieldType
		wantMany bool
		wantOK   bool
	}{
		{"title", collections.String, false, true},
		{"meta.seo.indexed", collections.Boolean, false, true},
		{"lines.product", collections.Ref, true, true},
		{"lines.3.qty", collections.Number, true, true},
		{"tags.0", collections.String, true, true},
		{"related", collections.Array, false, true},
		{"nope", "", false, false},
		{"meta.nope", "", false, false},
		{"anything.0", "", false, false},
		{"tags.name", "", false, false},
		{"title.sub", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, many, ok := lookup(testFields, tt.path)
			if f.Type != tt.wantType || many != tt.wantMany || ok != tt.wantOK {
				t.Errorf("lookup(%q) = %s, %v, %v; want %s, %v, %v", tt.path, f.Type, many, ok, tt.wantType, tt.wantMany, tt.wantOK)
			}
		})
	}
}
