package query

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// pipelineOf decodes a JSON array the way the aggregate handler should.
func pipelineOf(t *testing.T, js string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(js))
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", js, err)
	}
	return v
}

func TestValidatePipelineAccepts(t *testing.T) {
	tests := []struct{ name, js string }{
		{"match and group", `[{"$match":{"status":"paid","total":{"$gte":10,"$lt":100}}},{"$group":{"_id":"$customer","n":{"$sum":1}}}]`},
		{"match logic", `[{"$match":{"$or":[{"a":1},{"b":{"$in":[1,2]}}],"$nor":[{"c":{"$exists":false}}],"$and":[{"d":{"$not":{"$gt":5}}}]}}]`},
		{"match regex", `[{"$match":{"title":{"$regex":"^a","$options":"i"}}}]`},
		{"match elemMatch", `[{"$match":{"lines":{"$elemMatch":{"qty":{"$gt":2}}},"scores":{"$elemMatch":{"$gte":80}}}}]`},
		{"match expr", `[{"$match":{"$expr":{"$gt":["$spent","$budget"]}}}]`},
		{"match embedded document", `[{"$match":{"meta":{"views":1}}}]`},
		{"project", `[{"$project":{"title":1,"_id":0,"year":{"$year":"$createdAt"},"label":{"$concat":["$a","-",{"$toString":"$n"}]}}}]`},
		{"addFields set unset", `[{"$addFields":{"x":{"$cond":{"if":{"$gt":["$n",1]},"then":"big","else":"small"}}}},{"$set":{"y":"$$ROOT"}},{"$unset":["x","y"]},{"$unset":"z"}]`},
		{"literal may hold dollar keys", `[{"$project":{"x":{"$literal":{"$where":"anything"}}}}]`},
		{"user variables", `[{"$project":{"d":{"$map":{"input":"$items","as":"it","in":{"$multiply":["$$it.qty",2]}}}}}]`},
		{"sort limit skip count", `[{"$sort":{"b":-1,"a":1}},{"$skip":5},{"$limit":10},{"$count":"total"}]`},
		{"unwind both forms", `[{"$unwind":"$tags"},{"$unwind":{"path":"$lines","includeArrayIndex":"i","preserveNullAndEmptyArrays":true}}]`},
		{"group accumulators", `[{"$group":{"_id":null,"a":{"$avg":"$n"},"b":{"$max":"$n"},"c":{"$push":"$n"},"d":{"$addToSet":"$n"},"e":{"$first":"$n"},"f":{"$count":{}}}}]`},
		{"replaceRoot replaceWith sortByCount sample", `[{"$replaceRoot":{"newRoot":"$meta"}},{"$replaceWith":{"$mergeObjects":["$$ROOT",{"a":1}]}},{"$sortByCount":"$tag"},{"$sample":{"size":3}}]`},
		{"facet", `[{"$facet":{"byTag":[{"$unwind":"$tags"},{"$sortByCount":"$tags"}],"total":[{"$count":"n"}]}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ValidatePipeline(pipelineOf(t, tt.js))
			if err != nil {
				t.Fatalf("ValidatePipeline(%s) error = %v", tt.js, err)
			}
			if len(p) == 0 {
				t.Errorf("ValidatePipeline(%s) = empty pipeline", tt.js)
			}
		})
	}
}

func TestValidatePipelineRejects(t *testing.T) {
	tests := []struct {
		name string
		in   any // a JSON string, or a Go value when not a string
		want string
	}{
		{"absent", nil, "Invalid input: expected array, received undefined"},
		{"object", `{"$match":{}}`, "Invalid input: expected array, received object"},
		{"string", `"x"`, "Invalid input: expected array, received string"},
		{"number", `5`, "Invalid input: expected array, received number"},
		{"empty", `[]`, "Pipeline must contain at least one stage."},
		{"stage not an object", `[1]`, "Each aggregation stage must be a non-empty object."},
		{"empty stage", `[{"$match":{}},{}]`, "Each aggregation stage must be a non-empty object."},
		{"array stage", `[[]]`, "Each aggregation stage must be a non-empty object."},
		{"out", `[{"$match":{}},{"$out":"stolen"}]`, "Aggregation pipeline contains blocked stage."},
		{"merge", `[{"$merge":{"into":"x"}}]`, "Aggregation pipeline contains blocked stage."},
		{"out as second key", `[{"$match":{},"$out":"x"}]`, "Aggregation pipeline contains blocked stage."},
		{"two keys", `[{"$match":{},"$limit":1}]`, "must have exactly one stage name"},
		{"lookup", `[{"$lookup":{"from":"users","localField":"a","foreignField":"_id","as":"u"}}]`, `Aggregation stage "$lookup" is not allowed`},
		{"graphLookup", `[{"$graphLookup":{"from":"users"}}]`, `Aggregation stage "$graphLookup" is not allowed`},
		{"unionWith", `[{"$unionWith":"users"}]`, `Aggregation stage "$unionWith" is not allowed`},
		{"collStats", `[{"$collStats":{}}]`, `Aggregation stage "$collStats" is not allowed`},
		{"currentOp", `[{"$currentOp":{}}]`, `Aggregation stage "$currentOp" is not allowed`},
		{"documents", `[{"$documents":[{"a":1}]}]`, `Aggregation stage "$documents" is not allowed`},
		{"not a stage", `[{"match":{}}]`, `Aggregation stage "match" is not allowed`},
		{"facet with lookup", `[{"$facet":{"a":[{"$lookup":{"from":"users"}}]}}]`, `Aggregation stage "$lookup" is not allowed inside $facet`},
		{"facet in facet", `[{"$facet":{"a":[{"$facet":{"b":[{"$count":"n"}]}}]}}]`, `Aggregation stage "$facet" is not allowed inside $facet`},
		{"facet with function", `[{"$facet":{"a":[{"$project":{"x":{"$function":{"body":"f","args":[],"lang":"js"}}}}]}}]`, `Aggregation operator "$function" is not allowed (in stage "$project")`},
		{"facet empty branch", `[{"$facet":{"a":[]}}]`, `needs a non-empty array of stages`},
		{"facet bad stage", `[{"$facet":{"a":[{}]}}]`, `Each aggregation stage must be a non-empty object.`},
		{"where", `[{"$match":{"$where":"sleep(1000)"}}]`, `Query operator "$where" is not allowed (in stage "$match").`},
		{"text", `[{"$match":{"$text":{"$search":"x"}}}]`, `Query operator "$text" is not allowed`},
		{"unknown field op", `[{"$match":{"a":{"$near":[0,0]}}}]`, `Query operator "$near" is not allowed`},
		{"where inside or", `[{"$match":{"$or":[{"$where":"1"}]}}]`, `Query operator "$where" is not allowed`},
		{"expr with function", `[{"$match":{"$expr":{"$function":{"body":"x","args":[],"lang":"js"}}}}]`, `Aggregation operator "$function" is not allowed (in stage "$match")`},
		{"function in addFields", `[{"$addFields":{"x":{"$function":{"body":"x","args":[],"lang":"js"}}}}]`, `Aggregation operator "$function" is not allowed (in stage "$addFields")`},
		{"accumulator", `[{"$group":{"_id":null,"x":{"$accumulator":{"init":"f"}}}}]`, `Accumulator "$accumulator" is not allowed`},
		{"function inside accumulator arg", `[{"$group":{"_id":null,"x":{"$sum":{"$function":{}}}}}]`, `Aggregation operator "$function" is not allowed (in stage "$group")`},
		{"range", `[{"$project":{"x":{"$range":[0,1000000000]}}}]`, `Aggregation operator "$range" is not allowed`},
		{"system variable", `[{"$project":{"r":"$$USER_ROLES"}}]`, `Aggregation variable "$$USER_ROLES" is not allowed`},
		{"dollar in literal match value", `[{"$match":{"a":{"b":{"$where":"x"}}}}]`, `Operator "$where" is not allowed here`},
		{"dollar in $in list", `[{"$match":{"a":{"$in":[{"$where":"x"}]}}}]`, `Operator "$where" is not allowed here`},
		{"mixed operator doc", `[{"$match":{"a":{"$gt":1,"b":2}}}]`, `cannot mix operators and field "b"`},
		{"dollar field in match", `[{"$match":{"a.$b":1}}]`, `names must not start with "$"`},
		{"regex too long", `[{"$match":{"a":{"$regex":"` + strings.Repeat("a", 129) + `"}}}]`, "regex pattern exceeds 128 characters"},
		{"regex bad", `[{"$match":{"a":{"$regex":"("}}}]`, "invalid regex pattern"},
		{"regex not string", `[{"$match":{"a":{"$regex":{"$gt":1}}}}]`, "$regex needs a string pattern"},
		{"options bad", `[{"$match":{"a":{"$regex":"x","$options":"g"}}}]`, "$options may only contain"},
		{"empty or", `[{"$match":{"$or":[]}}]`, `"$or" needs a non-empty array`},
		{"match not object", `[{"$match":"x"}]`, "$match needs an object"},
		{"group without _id", `[{"$group":{"n":{"$sum":1}}}]`, "$group needs an _id"},
		{"group field not accumulator", `[{"$group":{"_id":null,"n":1}}]`, `$group field "n" needs one accumulator`},
		{"group two accumulators in one field", `[{"$group":{"_id":null,"n":{"$sum":1,"$avg":1}}}]`, `$group field "n" needs one accumulator`},
		{"group dotted field", `[{"$group":{"_id":null,"a.b":{"$sum":1}}}]`, `Invalid $group field name "a.b"`},
		{"sort direction", `[{"$sort":{"a":2}}]`, `Sort direction of "a" must be 1 or -1`},
		{"sort meta", `[{"$sort":{"a":{"$meta":"textScore"}}}]`, `Sort direction of "a" must be 1 or -1`},
		{"sort empty", `[{"$sort":{}}]`, `$sort needs a non-empty object`},
		{"sort dollar field", `[{"$sort":{"$natural":1}}]`, `names must not start with "$"`},
		{"limit zero", `[{"$limit":0}]`, `$limit needs a non-negative whole number`},
		{"limit string", `[{"$limit":"5"}]`, `$limit needs`},
		{"limit fraction", `[{"$limit":1.5}]`, `$limit needs`},
		{"skip negative", `[{"$skip":-1}]`, `$skip needs`},
		{"count dollar", `[{"$count":"$x"}]`, `$count needs a field name`},
		{"count dotted", `[{"$count":"a.b"}]`, `$count needs a field name`},
		{"unwind no dollar", `[{"$unwind":"tags"}]`, `$unwind needs a field path`},
		{"unwind unknown option", `[{"$unwind":{"path":"$a","x":1}}]`, `Unknown $unwind option "x"`},
		{"unwind no path", `[{"$unwind":{"preserveNullAndEmptyArrays":true}}]`, `$unwind needs a path`},
		{"unset bad", `[{"$unset":5}]`, `$unset needs a field name`},
		{"project dollar field", `[{"$project":{"$x":1}}]`, `names must not start with "$"`},
		{"project empty", `[{"$project":{}}]`, `$project needs a non-empty object`},
		{"replaceRoot shape", `[{"$replaceRoot":"$a"}]`, `$replaceRoot needs {"newRoot"`},
		{"sample shape", `[{"$sample":{"size":0}}]`, `$sample needs`},
		{"nul key", `[{"$project":{"a":{"b\u0000":1}}}]`, `NUL byte`},
		{"too many stages", "[" + strings.Repeat(`{"$skip":0},`, MaxStages) + `{"$skip":0}]`, "at most 100 stages"},
		{"too deep", `[{"$project":{"a":` + strings.Repeat(`{"$add":[`, maxStageDepth) + "1" + strings.Repeat("]}", maxStageDepth) + `}}]`, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if s, ok := in.(string); ok {
				in = pipelineOf(t, s)
			}
			p, err := ValidatePipeline(in)
			if err == nil {
				t.Fatalf("ValidatePipeline() = %v, want error containing %q", p, tt.want)
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind = %v, want Invalid (error %v)", errs.KindOf(err), err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidatePipelineOutput(t *testing.T) {
	js := `[{"$match":{"a":1}},{"$sort":{"b":-1,"a":1}},{"$skip":5.0},{"$limit":10},{"$sample":{"size":2.0}}]`
	got, err := ValidatePipeline(pipelineOf(t, js))
	if err != nil {
		t.Fatal(err)
	}
	want := Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "a", Value: int64(1)}}}},
		{{Key: "$sort", Value: bson.D{{Key: "b", Value: int32(-1)}, {Key: "a", Value: int32(1)}}}},
		{{Key: "$skip", Value: int64(5)}},
		{{Key: "$limit", Value: int64(10)}},
		{{Key: "$sample", Value: bson.D{{Key: "size", Value: int64(2)}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValidatePipeline() mismatch (-want +got):\n%s", diff)
	}
}

func TestValidatePipelineGoValues(t *testing.T) {
	// Maps and []bson.D are accepted; single-key maps keep their meaning.
	in := []any{map[string]any{"$match": map[string]any{"a": map[string]any{"$gt": 1.0}}}, bson.M{"$sort": bson.M{"a": -1.0}}}
	if _, err := ValidatePipeline(in); err != nil {
		t.Errorf("maps: error = %v", err)
	}
	if _, err := ValidatePipeline([]bson.D{{{Key: "$limit", Value: 1}}}); err != nil {
		t.Errorf("[]bson.D: error = %v", err)
	}
	// A $sort map with several keys has lost its order: a programming error.
	_, err := ValidatePipeline([]any{map[string]any{"$sort": map[string]any{"a": 1.0, "b": -1.0}}})
	if !errs.Is(err, errs.Internal) {
		t.Errorf("multi-key $sort map: error = %v, want Internal", err)
	}
}

func TestPipelineWithMatch(t *testing.T) {
	p, err := ValidatePipeline(pipelineOf(t, `[{"$group":{"_id":"$a","n":{"$sum":1}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	rls := bson.D{{Key: "userId", Value: "u1"}}
	got := p.WithMatch(rls)
	want := Pipeline{{{Key: "$match", Value: rls}}, p[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithMatch() mismatch (-want +got):\n%s", diff)
	}
	if len(p) != 1 {
		t.Errorf("WithMatch changed the receiver: len = %d, want 1", len(p))
	}
	if got := p.WithMatch(nil); len(got) != 1 {
		t.Errorf("WithMatch(nil) len = %d, want 1", len(got))
	}
}

func TestPipelineAccumulators(t *testing.T) {
	tests := []struct {
		name  string
		js    string
		multi bool
		uses  map[string]bool
	}{
		{"one sum", `[{"$group":{"_id":"$a","n":{"$sum":1}}}]`, false, map[string]bool{"$sum": true, "$avg": false}},
		{"two sums", `[{"$match":{}},{"$group":{"_id":"$a","n":{"$sum":1},"t":{"$sum":"$x"}}}]`, true, map[string]bool{"$sum": true}},
		{"only _id", `[{"$group":{"_id":"$a"}}]`, false, map[string]bool{"$group": true, "$sum": false}},
		{"in facet", `[{"$facet":{"x":[{"$group":{"_id":null,"a":{"$avg":"$n"},"b":{"$max":"$n"}}}]}}]`, true, map[string]bool{"$avg": true, "$max": true, "$facet": true}},
		{"no group", `[{"$project":{"m":{"$max":["$a","$b"]}}}]`, false, map[string]bool{"$max": true, "$group": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ValidatePipeline(pipelineOf(t, tt.js))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.MultiAccumulatorGroup(); got != tt.multi {
				t.Errorf("MultiAccumulatorGroup() = %v, want %v", got, tt.multi)
			}
			for name, want := range tt.uses {
				if got := p.Uses(name); got != want {
					t.Errorf("Uses(%q) = %v, want %v", name, got, want)
				}
			}
		})
	}
	stage := bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "a", Value: bson.D{{Key: "$sum", Value: 1}}}, {Key: "b", Value: bson.D{{Key: "$sum", Value: 2}}}}}}
	if got := GroupAccumulators(stage); got != 2 {
		t.Errorf("GroupAccumulators() = %d, want 2", got)
	}
	if got := GroupAccumulators(bson.D{{Key: "$match", Value: bson.D{}}}); got != 0 {
		t.Errorf("GroupAccumulators($match) = %d, want 0", got)
	}
}
