package query

import (
	"math"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// MaxStages is the most stages a pipeline (and each $facet branch) may have.
const MaxStages = 100

// Pipeline is a validated aggregation pipeline. mongo.Pipeline(p) converts
// it for the driver.
type Pipeline []bson.D

// ValidatePipeline checks the "pipeline" value of an aggregate request
// body (§3.12; pass nil when it is absent) and returns it as a Pipeline.
// Decode the body with DecodeJSON so that $sort keys keep their order.
//
// Errors (all Invalid), in this order: not an array → "Invalid input:
// expected array, received <type>"; empty → "Pipeline must contain at
// least one stage."; a stage that is not a non-empty object → "Each
// aggregation stage must be a non-empty object."; any $out or $merge stage
// → "Aggregation pipeline contains blocked stage."; then the allow-list: a
// stage with several keys, a stage or operator that is not allowed (the
// message names it and the stage), bad stage arguments. Allowed stages:
// $match $group $sort $project $limit $skip $count $unwind $addFields $set
// $unset $replaceRoot $replaceWith $sortByCount $sample $facet; operators:
// see operators.go.
func ValidatePipeline(pipeline any) (Pipeline, error) {
	list, ok := asList(pipeline)
	if !ok {
		if ds, isDocs := pipeline.([]bson.D); isDocs {
			list = make([]any, len(ds))
			for i, d := range ds {
				list[i] = d
			}
		} else {
			return nil, errs.New(errs.Invalid, "Invalid input: expected array, received %s", jsType(pipeline))
		}
	}
	if len(list) == 0 {
		return nil, errs.New(errs.Invalid, "Pipeline must contain at least one stage.")
	}
	stages, err := stageDocs(list)
	if err != nil {
		return nil, err
	}
	for _, d := range stages {
		for _, e := range d {
			if blockedWrites[e.Key] {
				return nil, errs.New(errs.Invalid, "Aggregation pipeline contains blocked stage.")
			}
		}
	}
	return validateStages(stages, false)
}

// stageDocs checks that every stage is a non-empty object.
func stageDocs(list []any) ([]bson.D, error) {
	if len(list) > MaxStages {
		return nil, errs.New(errs.Invalid, "Pipeline may have at most %d stages.", MaxStages)
	}
	out := make([]bson.D, 0, len(list))
	for _, s := range list {
		d, ok := asDoc(s)
		if !ok || len(d) == 0 {
			return nil, errs.New(errs.Invalid, "Each aggregation stage must be a non-empty object.")
		}
		out = append(out, d)
	}
	return out, nil
}

func validateStages(stages []bson.D, inFacet bool) (Pipeline, error) {
	out := make(Pipeline, 0, len(stages))
	for i, d := range stages {
		if len(d) != 1 {
			return nil, errs.New(errs.Invalid, "Each aggregation stage must have exactly one stage name, such as {\"$match\": {…}}; stage %d has %d.", i+1, len(d))
		}
		name := d[0].Key
		if !slices.Contains(stageNames, name) || (inFacet && notInFacet[name]) {
			where := ""
			if inFacet {
				where = " inside $facet"
			}
			return nil, errs.New(errs.Invalid, "Aggregation stage %s is not allowed%s; allowed stages are %s.", quote(name), where, strings.Join(stageNames, ", "))
		}
		spec, err := checkStage(name, d[0].Value)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.D{{Key: name, Value: spec}})
	}
	return out, nil
}

// checkStage validates the argument of one stage and returns it in the
// form to send.
func checkStage(name string, spec any) (any, error) {
	c := checker{stage: name}
	switch name {
	case "$match":
		d, ok := asDoc(spec)
		if !ok {
			return nil, c.fail("$match needs an object")
		}
		return d, c.query(d, 0)
	case "$group":
		return c.group(spec)
	case "$sort":
		return c.sort(spec)
	case "$project", "$addFields", "$set":
		d, ok := asDoc(spec)
		if !ok || len(d) == 0 {
			return nil, c.fail("%s needs a non-empty object", name)
		}
		for _, e := range d {
			if err := ValidatePath(e.Key); err != nil {
				return nil, c.fail("%s", strings.TrimSuffix(errs.ClientMessage(err), "."))
			}
		}
		return d, c.expr(d, 0)
	case "$unset":
		names := []any{spec}
		if l, ok := asList(spec); ok && len(l) > 0 {
			names = l
		}
		for _, n := range names {
			s, ok := n.(string)
			if !ok || ValidatePath(s) != nil {
				return nil, c.fail("$unset needs a field name or an array of field names")
			}
		}
		return spec, nil
	case "$limit", "$skip":
		n, ok := toInt64(spec)
		if !ok || n < 0 || (name == "$limit" && n == 0) {
			return nil, c.fail("%s needs a non-negative whole number (positive for $limit)", name)
		}
		return n, nil
	case "$count":
		s, ok := spec.(string)
		if !ok || strings.Contains(s, ".") || ValidatePath(s) != nil {
			return nil, c.fail("$count needs a field name without \"$\" or \".\"")
		}
		return s, nil
	case "$unwind":
		return c.unwind(spec)
	case "$replaceRoot":
		d, ok := asDoc(spec)
		if !ok || len(d) != 1 || d[0].Key != "newRoot" {
			return nil, c.fail("$replaceRoot needs {\"newRoot\": <expression>}")
		}
		return d, c.expr(d[0].Value, 0)
	case "$replaceWith", "$sortByCount":
		return spec, c.expr(spec, 0)
	case "$sample":
		d, ok := asDoc(spec)
		if ok && len(d) == 1 && d[0].Key == "size" {
			if n, ok := toInt64(d[0].Value); ok && n > 0 {
				return bson.D{{Key: "size", Value: n}}, nil
			}
		}
		return nil, c.fail("$sample needs {\"size\": <positive whole number>}")
	case "$facet":
		return c.facet(spec)
	}
	return nil, errs.New(errs.Internal, "query: stage %s is allowed but not checked", name)
}

func (c checker) group(spec any) (any, error) {
	d, ok := asDoc(spec)
	if !ok {
		return nil, c.fail("$group needs an object")
	}
	if !slices.ContainsFunc(d, func(e bson.E) bool { return e.Key == "_id" }) {
		return nil, c.fail("$group needs an _id (use null to group every document)")
	}
	for _, e := range d {
		if e.Key == "_id" {
			if err := c.expr(e.Value, 0); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") || ValidatePath(e.Key) != nil {
			return nil, c.fail("Invalid $group field name %s", quote(e.Key))
		}
		acc, ok := asDoc(e.Value)
		if !ok || len(acc) != 1 || !strings.HasPrefix(acc[0].Key, "$") {
			return nil, c.fail("$group field %s needs one accumulator such as {\"$sum\": 1}", quote(e.Key))
		}
		if !accumulators[acc[0].Key] {
			return nil, c.fail("Accumulator %s is not allowed", quote(acc[0].Key))
		}
		if err := c.expr(acc[0].Value, 1); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (c checker) sort(spec any) (any, error) {
	if m, isMap := spec.(map[string]any); isMap && len(m) > 1 {
		return nil, errs.New(errs.Internal, "query: $sort given as a map loses its key order; decode with DecodeJSON")
	}
	d, ok := asDoc(spec)
	if !ok || len(d) == 0 {
		return nil, c.fail("$sort needs a non-empty object such as {\"createdAt\": -1}")
	}
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if err := ValidatePath(e.Key); err != nil {
			return nil, c.fail("%s", strings.TrimSuffix(errs.ClientMessage(err), "."))
		}
		n, ok := toInt64(e.Value)
		if !ok || (n != 1 && n != -1) {
			return nil, c.fail("Sort direction of %s must be 1 or -1", quote(e.Key))
		}
		out = append(out, bson.E{Key: e.Key, Value: int32(n)})
	}
	return out, nil
}

func (c checker) unwind(spec any) (any, error) {
	path := func(v any) bool {
		s, ok := v.(string)
		rest, had := strings.CutPrefix(s, "$")
		return ok && had && ValidatePath(rest) == nil
	}
	if path(spec) {
		return spec, nil
	}
	d, ok := asDoc(spec)
	if !ok {
		return nil, c.fail("$unwind needs a field path such as \"$tags\"")
	}
	hasPath := false
	for _, e := range d {
		switch e.Key {
		case "path":
			if !path(e.Value) {
				return nil, c.fail("$unwind path must be a field path such as \"$tags\"")
			}
			hasPath = true
		case "includeArrayIndex":
			s, ok := e.Value.(string)
			if !ok || ValidatePath(s) != nil {
				return nil, c.fail("$unwind includeArrayIndex must be a field name")
			}
		case "preserveNullAndEmptyArrays":
			if _, ok := e.Value.(bool); !ok {
				return nil, c.fail("$unwind preserveNullAndEmptyArrays must be true or false")
			}
		default:
			return nil, c.fail("Unknown $unwind option %s", quote(e.Key))
		}
	}
	if !hasPath {
		return nil, c.fail("$unwind needs a path")
	}
	return d, nil
}

func (c checker) facet(spec any) (any, error) {
	d, ok := asDoc(spec)
	if !ok || len(d) == 0 {
		return nil, c.fail("$facet needs a non-empty object of named pipelines")
	}
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") || ValidatePath(e.Key) != nil {
			return nil, c.fail("Invalid $facet output name %s", quote(e.Key))
		}
		l, ok := asList(e.Value)
		if !ok || len(l) == 0 {
			return nil, c.fail("$facet output %s needs a non-empty array of stages", quote(e.Key))
		}
		docs, err := stageDocs(l)
		if err != nil {
			return nil, err
		}
		sub, err := validateStages(docs, true)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: e.Key, Value: []bson.D(sub)})
	}
	return out, nil
}

// toInt64 converts a JSON number that is a whole number.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	}
	return 0, false
}

// jsType names the JSON type of v as the original's validator does.
func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "undefined"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, float32, int, int32, int64:
		return "number"
	}
	return "object"
}
