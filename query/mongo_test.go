package query

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

var (
	id1 = bson.ObjectID{0x65, 0xa5, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 1}
	id2 = bson.ObjectID{0x65, 0xa5, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 2}
	day = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
)

func TestFilterMongo(t *testing.T) {
	tests := []struct {
		name string
		f    *Filter
		want bson.D
	}{
		{"nil", nil, bson.D{}},
		{"empty", &Filter{}, bson.D{}},
		{"eq alone is implicit", &Filter{Conds: []Cond{{"title", Eq, "a"}}}, bson.D{{Key: "title", Value: "a"}}},
		{"eq null", &Filter{Conds: []Cond{{"title", Eq, nil}}}, bson.D{{Key: "title", Value: nil}}},
		{"ne", &Filter{Conds: []Cond{{"n", Ne, 5.0}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$ne", Value: 5.0}}}}},
		{"ne null", &Filter{Conds: []Cond{{"n", Ne, nil}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$ne", Value: nil}}}}},
		{"gt", &Filter{Conds: []Cond{{"n", Gt, 1.0}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 1.0}}}}},
		{"gte", &Filter{Conds: []Cond{{"n", Gte, 1.0}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 1.0}}}}},
		{"lt", &Filter{Conds: []Cond{{"d", Lt, day}}}, bson.D{{Key: "d", Value: bson.D{{Key: "$lt", Value: day}}}}},
		{"lte", &Filter{Conds: []Cond{{"_id", Lte, id1}}}, bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: id1}}}}},
		{"in []any", &Filter{Conds: []Cond{{"n", In, []any{1.0, 2.0}}}}, bson.D{{Key: "n", Value: bson.D{{Key: "$in", Value: bson.A{1.0, 2.0}}}}}},
		{"in typed slice", &Filter{Conds: []Cond{{"s", In, []string{"a", "b"}}}}, bson.D{{Key: "s", Value: bson.D{{Key: "$in", Value: bson.A{"a", "b"}}}}}},
		{"in empty", &Filter{Conds: []Cond{{"s", In, []any{}}}}, bson.D{{Key: "s", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}},
		{"nin", &Filter{Conds: []Cond{{"_id", Nin, []bson.ObjectID{id1}}}}, bson.D{{Key: "_id", Value: bson.D{{Key: "$nin", Value: bson.A{id1}}}}}},
		{"regex", &Filter{Conds: []Cond{{"t", Regex, "^a"}}}, bson.D{{Key: "t", Value: bson.D{{Key: "$regex", Value: "^a"}, {Key: "$options", Value: "i"}}}}},
		{"exists", &Filter{Conds: []Cond{{"t", Exists, false}}}, bson.D{{Key: "t", Value: bson.D{{Key: "$exists", Value: false}}}}},
		{
			"ops on one path share a document",
			&Filter{Conds: []Cond{{"price", Gt, 10.0}, {"title", Eq, "x"}, {"price", Lt, 50.0}}},
			bson.D{
				{Key: "price", Value: bson.D{{Key: "$gt", Value: 10.0}, {Key: "$lt", Value: 50.0}}},
				{Key: "title", Value: "x"},
			},
		},
		{
			"eq with another op uses $eq",
			&Filter{Conds: []Cond{{"n", Eq, 3.0}, {"n", Exists, true}}},
			bson.D{{Key: "n", Value: bson.D{{Key: "$eq", Value: 3.0}, {Key: "$exists", Value: true}}}},
		},
		{
			"repeated op on a path goes to $and",
			&Filter{Conds: []Cond{{"n", Gt, 1.0}, {"n", Gt, 2.0}}},
			bson.D{{Key: "$and", Value: bson.A{
				bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 1.0}}}},
				bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 2.0}}}},
			}}},
		},
		{
			"and or not",
			&Filter{
				Conds: []Cond{{"a", Eq, "x"}},
				And:   []*Filter{{Conds: []Cond{{"b", Eq, true}}}},
				Or:    []*Filter{{Conds: []Cond{{"c", Eq, 1.0}}}, {Conds: []Cond{{"d", Eq, 2.0}}}},
				Not:   &Filter{Conds: []Cond{{"e", Eq, "y"}}},
			},
			bson.D{
				{Key: "a", Value: "x"},
				{Key: "$or", Value: bson.A{bson.D{{Key: "c", Value: 1.0}}, bson.D{{Key: "d", Value: 2.0}}}},
				{Key: "$nor", Value: bson.A{bson.D{{Key: "e", Value: "y"}}}},
				{Key: "$and", Value: bson.A{bson.D{{Key: "b", Value: true}}}},
			},
		},
		{"dotted path", &Filter{Conds: []Cond{{"meta.views", Gt, 100.0}}}, bson.D{{Key: "meta.views", Value: bson.D{{Key: "$gt", Value: 100.0}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Mongo()
			if err != nil {
				t.Fatalf("Mongo() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Mongo() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterMongoRejects(t *testing.T) {
	deep := &Filter{}
	for range MaxFilterDepth + 2 {
		deep = &Filter{Not: deep}
	}
	tests := []struct {
		name string
		f    *Filter
		want string
	}{
		{"dollar path", &Filter{Conds: []Cond{{"$where", Eq, "1"}}}, `must not start with "$"`},
		{"dollar segment", &Filter{Conds: []Cond{{"a.$gt", Eq, "1"}}}, `must not start with "$"`},
		{"empty path", &Filter{Conds: []Cond{{"", Eq, "1"}}}, "must not be empty"},
		{"empty segment", &Filter{Conds: []Cond{{"a..b", Eq, "1"}}}, "segment is empty"},
		{"nul in path", &Filter{Conds: []Cond{{"a\x00b", Eq, "1"}}}, "NUL"},
		{"unknown op", &Filter{Conds: []Cond{{"a", Op("where"), "1"}}}, "Unknown filter operator"},
		{"document value", &Filter{Conds: []Cond{{"a", Eq, map[string]any{"$gt": 1}}}}, "needs a string"},
		{"bson.D value", &Filter{Conds: []Cond{{"a", Ne, bson.D{{Key: "$gt", Value: 1}}}}}, "needs a string"},
		{"gt nil", &Filter{Conds: []Cond{{"a", Gt, nil}}}, "needs a string"},
		{"in not a list", &Filter{Conds: []Cond{{"a", In, "x"}}}, "needs a list"},
		{"in with document", &Filter{Conds: []Cond{{"a", In, []any{bson.M{"$ne": 1}}}}}, "needs a list"},
		{"in bytes", &Filter{Conds: []Cond{{"a", Nin, []byte("ab")}}}, "needs a list"},
		{"exists not bool", &Filter{Conds: []Cond{{"a", Exists, "true"}}}, "needs true or false"},
		{"regex not string", &Filter{Conds: []Cond{{"a", Regex, 5}}}, "needs a string pattern"},
		{"regex too long", &Filter{Conds: []Cond{{"a", Regex, strings.Repeat("a", MaxRegexLen+1)}}}, "exceeds 128 characters"},
		{"regex does not compile", &Filter{Conds: []Cond{{"a", Regex, "(a"}}}, "invalid regex pattern"},
		{"regex lookahead", &Filter{Conds: []Cond{{"a", Regex, "a(?=b)"}}}, "invalid regex pattern"},
		{"nested bad cond", &Filter{Or: []*Filter{{Conds: []Cond{{"$x", Eq, 1.0}}}}}, `must not start with "$"`},
		{"too deep", deep, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Mongo()
			if err == nil {
				t.Fatalf("Mongo() = %v, want error containing %q", got, tt.want)
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

func TestRegexLengthCountsLikeJavaScript(t *testing.T) {
	// 128 "é" are 256 bytes but 128 UTF-16 units: allowed.
	ok := strings.Repeat("é", MaxRegexLen)
	if _, err := (&Filter{Conds: []Cond{{"a", Regex, ok}}}).Mongo(); err != nil {
		t.Errorf("128 two-byte characters: got %v, want nil", err)
	}
	// An astral character counts twice.
	long := strings.Repeat("a", MaxRegexLen-1) + "😀"
	if _, err := (&Filter{Conds: []Cond{{"a", Regex, long}}}).Mongo(); err == nil {
		t.Errorf("127 + one astral character: got nil, want error")
	}
}

func TestAnd(t *testing.T) {
	a := &Filter{Conds: []Cond{{"a", Eq, 1.0}}}
	b := &Filter{Conds: []Cond{{"b", Eq, 2.0}}}
	if got := And(); !got.Empty() {
		t.Errorf("And() = %+v, want empty", got)
	}
	if got := And(nil, &Filter{}, a); got != a {
		t.Errorf("And(nil, empty, a) = %+v, want a itself", got)
	}
	got, err := And(a, nil, b).Mongo()
	if err != nil {
		t.Fatal(err)
	}
	want := bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "a", Value: 1.0}}, bson.D{{Key: "b", Value: 2.0}}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("And(a, nil, b) mismatch (-want +got):\n%s", diff)
	}
}

func TestUses(t *testing.T) {
	f := &Filter{
		Conds: []Cond{{"a", Eq, 1.0}},
		Or:    []*Filter{{Not: &Filter{Conds: []Cond{{"t", Regex, "x"}}}}},
	}
	if !f.Uses(Regex) {
		t.Errorf("Uses(Regex) = false, want true")
	}
	if f.Uses(Gt) {
		t.Errorf("Uses(Gt) = true, want false")
	}
	var nilFilter *Filter
	if nilFilter.Uses(Eq) {
		t.Errorf("nil.Uses(Eq) = true, want false")
	}
}
