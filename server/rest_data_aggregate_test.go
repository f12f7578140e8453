package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
)

func TestDataAggregate(t *testing.T) {
	p := dqSeedProducts(t)
	agg := func(body any) restResult {
		t.Helper()
		return p.call("POST", "/api/data/products/aggregate", body)
	}
	ok := func(data any) map[string]any {
		return map[string]any{"success": true, "data": data, "message": "Aggregation executed successfully."}
	}
	for _, tc := range []struct {
		name     string
		pipeline string
		want     any
	}{
		{"match, group with one $sum, sort",
			`[{"$match":{"price":{"$gte":5}}},{"$group":{"_id":"$active","total":{"$sum":"$price"}}},{"$sort":{"_id":1}}]`,
			[]any{map[string]any{"_id": false, "total": 25}, map[string]any{"_id": true, "total": 37.5}}},
		{"group count by $sum 1",
			`[{"$group":{"_id":"$price","n":{"$sum":1}}},{"$sort":{"_id":-1}}]`,
			[]any{map[string]any{"_id": 20, "n": 2}, map[string]any{"_id": 10, "n": 1}, map[string]any{"_id": 7.5, "n": 1}, map[string]any{"_id": 5, "n": 1}}},
		{"$count",
			`[{"$match":{"price":{"$gte":10}}},{"$count":"n"}]`,
			[]any{map[string]any{"n": 3}}},
		{"project, sort on two keys, skip, limit",
			`[{"$project":{"_id":0,"name":1,"price":1}},{"$sort":{"price":-1,"name":1}},{"$skip":1},{"$limit":2}]`,
			[]any{map[string]any{"name": "date", "price": 20}, map[string]any{"name": "Apple", "price": 10}}},
		{"unwind and group",
			`[{"$unwind":"$tags"},{"$group":{"_id":"$tags","n":{"$sum":1}}},{"$match":{"n":{"$gt":1}}},{"$sort":{"_id":1}}]`,
			[]any{map[string]any{"_id": "fruit", "n": 2}, map[string]any{"_id": "red", "n": 2}}},
		{"match on a nested field, large numbers stay plain",
			`[{"$match":{"info.views":{"$gte":100}}},{"$group":{"_id":null,"total":{"$sum":1000000}}}]`,
			[]any{map[string]any{"_id": nil, "total": 2000000}}},
		{"no match", `[{"$match":{"price":{"$gt":1000}}}]`, []any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := agg(`{"pipeline":` + tc.pipeline + `}`)
			if r.Status != 200 {
				t.Fatalf("got %d %s, want 200", r.Status, r.Body)
			}
			dqWantJSON(t, "aggregate", r.Body, ok(tc.want))
			if strings.Contains(r.Body, "e+") {
				t.Errorf("raw body %s has a number in exponent form", r.Body)
			}
		})
	}

	notAllowed := func(stage string) string {
		return `Aggregation stage "` + stage + `" is not allowed; allowed stages are `
	}
	for _, tc := range []struct {
		name   string
		body   string
		want   string // exact message
		prefix string // or a prefix of it
	}{
		{name: "$out", body: `{"pipeline":[{"$match":{}},{"$out":"stolen"}]}`, want: "Aggregation pipeline contains blocked stage."},
		{name: "$merge", body: `{"pipeline":[{"$merge":{"into":"stolen"}}]}`, want: "Aggregation pipeline contains blocked stage."},
		{name: "$out after a refused stage", body: `{"pipeline":[{"$lookup":{}},{"$out":"x"}]}`, want: "Aggregation pipeline contains blocked stage."},
		{name: "empty pipeline", body: `{"pipeline":[]}`, want: "Pipeline must contain at least one stage."},
		{name: "string stage", body: `{"pipeline":["$match"]}`, want: "Each aggregation stage must be a non-empty object."},
		{name: "empty stage", body: `{"pipeline":[{"$match":{}},{}]}`, want: "Each aggregation stage must be a non-empty object."},
		{name: "array stage", body: `{"pipeline":[[]]}`, want: "Each aggregation stage must be a non-empty object."},
		{name: "no pipeline", body: `{}`, want: "Invalid input: expected array, received undefined"},
		{name: "pipeline not an array", body: `{"pipeline":{"$match":{}}}`, want: "Invalid input: expected array, received object"},
		{name: "no body", want: "Invalid input: expected array, received undefined"},
		{name: "$lookup", body: `{"pipeline":[{"$lookup":{"from":"cats","localField":"cat","foreignField":"_id","as":"c"}}]}`, prefix: notAllowed("$lookup")},
		{name: "$unionWith", body: `{"pipeline":[{"$unionWith":"cats"}]}`, prefix: notAllowed("$unionWith")},
		{name: "$graphLookup", body: `{"pipeline":[{"$graphLookup":{"from":"users"}}]}`, prefix: notAllowed("$graphLookup")},
		{name: "$lookup inside $facet", body: `{"pipeline":[{"$facet":{"x":[{"$lookup":{"from":"users"}}]}}]}`, prefix: `Aggregation stage "$lookup" is not allowed inside $facet`},
		{name: "$function", body: `{"pipeline":[{"$addFields":{"x":{"$function":{"body":"function(){return 1}","args":[],"lang":"js"}}}}]}`,
			want: `Aggregation operator "$function" is not allowed (in stage "$addFields").`},
		{name: "$accumulator", body: `{"pipeline":[{"$group":{"_id":null,"x":{"$accumulator":{"init":"function(){}"}}}}]}`,
			want: `Accumulator "$accumulator" is not allowed (in stage "$group").`},
		{name: "$where", body: `{"pipeline":[{"$match":{"$where":"this.price > 1"}}]}`,
			want: `Query operator "$where" is not allowed (in stage "$match").`},
		{name: "$where nested in $or", body: `{"pipeline":[{"$match":{"$or":[{"price":1},{"$where":"1"}]}}]}`,
			want: `Query operator "$where" is not allowed (in stage "$match").`},
		{name: "$function in $expr", body: `{"pipeline":[{"$match":{"$expr":{"$function":{"body":"x"}}}}]}`,
			want: `Aggregation operator "$function" is not allowed (in stage "$match").`},
		{name: "two $sum in one $group on the embedded database",
			body:   `{"pipeline":[{"$group":{"_id":"$active","total":{"$sum":"$price"},"n":{"$sum":1}}}]}`,
			prefix: "This aggregation is not supported by the embedded database"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := agg(body)
			if tc.want != "" {
				r.wantError(t, 400, tc.want)
				return
			}
			msg := str(r.json(t), "error")
			if r.Status != 400 || !strings.HasPrefix(msg, tc.prefix) || str(r.json(t), "message") != msg {
				t.Errorf("got %d %s, want 400 with a message starting %q", r.Status, r.Body, tc.prefix)
			}
		})
	}
	// Nothing was written by the refused $out/$merge.
	names, err := testdb.Client(t).Database(projectDB(t, p.p.ID)).ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, "stolen") {
		t.Errorf("a refused $out/$merge created a collection: %v", names)
	}
}
