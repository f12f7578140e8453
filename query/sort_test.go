package query

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		name   string
		params []string
		want   []SortKey
	}{
		{"absent is newest first", nil, []SortKey{{"createdAt", true}}},
		{"blank is newest first", []string{" , "}, []SortKey{{"createdAt", true}}},
		{"bare field", []string{"title"}, []SortKey{{"title", false}}},
		{"asc", []string{"title:asc"}, []SortKey{{"title", false}}},
		{"1", []string{"title:1"}, []SortKey{{"title", false}}},
		{"ascending", []string{"title:ascending"}, []SortKey{{"title", false}}},
		{"desc", []string{"title:desc"}, []SortKey{{"title", true}}},
		{"DESC", []string{"title:DESC"}, []SortKey{{"title", true}}},
		{"-1", []string{"title:-1"}, []SortKey{{"title", true}}},
		{"descending", []string{"title:descending"}, []SortKey{{"title", true}}},
		{"minus prefix", []string{"-title"}, []SortKey{{"title", true}}},
		{"several", []string{"price:desc, -createdAt,title"}, []SortKey{{"price", true}, {"createdAt", true}, {"title", false}}},
		{"repeated params join", []string{"price", "-title"}, []SortKey{{"price", false}, {"title", true}}},
		{"first direction wins", []string{"price,-price"}, []SortKey{{"price", false}}},
		{"dotted", []string{"meta.views:-1"}, []SortKey{{"meta.views", true}}},
		{"spaces around", []string{" title : desc "}, []SortKey{{"title", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSort(tt.params)
			if err != nil {
				t.Fatalf("ParseSort(%q) error = %v", tt.params, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSort(%q) mismatch (-want +got):\n%s", tt.params, diff)
			}
		})
	}
}

func TestParseSortErrors(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"title:up", `Invalid sort direction in "title:up"`},
		{"title:", `Invalid sort direction`},
		{"-", `Field name must not be empty`},
		{":asc", `Field name must not be empty`},
		{"$natural", `names must not start with "$"`},
		{"a..b:1", `a path segment is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseSort([]string{tt.spec})
			if err == nil {
				t.Fatalf("ParseSort(%q) = %v, want error", tt.spec, got)
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v (%v), want Invalid containing %q", err, errs.KindOf(err), tt.want)
			}
		})
	}
}

func TestSortD(t *testing.T) {
	tests := []struct {
		name string
		sort []SortKey
		want bson.D
	}{
		{"default gets _id desc", DefaultSort(), bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{"asc gets _id asc", []SortKey{{"title", false}}, bson.D{{Key: "title", Value: 1}, {Key: "_id", Value: 1}}},
		{"last key decides", []SortKey{{"a", true}, {"b", false}}, bson.D{{Key: "a", Value: -1}, {Key: "b", Value: 1}, {Key: "_id", Value: 1}}},
		{"_id ends the order", []SortKey{{"_id", true}, {"title", false}}, bson.D{{Key: "_id", Value: -1}}},
		{"_id in the middle", []SortKey{{"a", false}, {"_id", false}, {"b", true}}, bson.D{{Key: "a", Value: 1}, {Key: "_id", Value: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &List{Sort: tt.sort}
			if diff := cmp.Diff(tt.want, l.SortD()); diff != "" {
				t.Errorf("SortD() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// totalOrder must not write into the caller's backing array.
	keys := make([]SortKey, 1, 4)
	keys[0] = SortKey{"a", false}
	_ = totalOrder(keys)
	if got := keys[:2][1]; got != (SortKey{}) {
		t.Errorf("totalOrder wrote %+v past len(keys)", got)
	}
}
