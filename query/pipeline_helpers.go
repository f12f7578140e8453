package query

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// WithMatch returns a new pipeline that starts with {"$match": filter},
// followed by p: how the RLS read filter of §2.6 row 6 is applied to an
// aggregation (stages of p cannot read other collections, so they cannot
// escape it). An empty filter returns p unchanged.
func (p Pipeline) WithMatch(filter bson.D) Pipeline {
	if len(filter) == 0 {
		return p
	}
	out := make(Pipeline, 0, len(p)+1)
	out = append(out, bson.D{{Key: "$match", Value: filter}})
	return append(out, p...)
}

// Uses reports whether name, a stage or operator such as "$avg", appears
// as a key anywhere in p. Callers on the embedded FerretDB use it to
// refuse what that engine lacks ($avg and $max in $group) with a clear
// error instead of a failed or wrong result.
func (p Pipeline) Uses(name string) bool {
	for _, d := range p {
		if usesKey(d, name) {
			return true
		}
	}
	return false
}

func usesKey(v any, name string) bool {
	if d, ok := asDoc(v); ok {
		for _, e := range d {
			if e.Key == name || usesKey(e.Value, name) {
				return true
			}
		}
		return false
	}
	if l, ok := asList(v); ok {
		for _, e := range l {
			if usesKey(e, name) {
				return true
			}
		}
		return false
	}
	if ds, ok := v.([]bson.D); ok {
		for _, d := range ds {
			if usesKey(d, name) {
				return true
			}
		}
	}
	return false
}

// GroupAccumulators returns how many accumulators (fields other than _id)
// a {"$group": …} stage computes, or 0 when stage is not a $group.
func GroupAccumulators(stage bson.D) int {
	if len(stage) != 1 || stage[0].Key != "$group" {
		return 0
	}
	spec, ok := asDoc(stage[0].Value)
	if !ok {
		return 0
	}
	n := 0
	for _, e := range spec {
		if e.Key != "_id" {
			n++
		}
	}
	return n
}

// MultiAccumulatorGroup reports whether any $group of p, including those
// inside $facet, computes more than one accumulator. The embedded
// FerretDB computes only the first of several $sum accumulators and
// returns 0 for the others; a caller on that engine must refuse or split
// such a pipeline rather than return wrong numbers.
func (p Pipeline) MultiAccumulatorGroup() bool {
	for _, stage := range p {
		if GroupAccumulators(stage) > 1 {
			return true
		}
		if len(stage) != 1 || stage[0].Key != "$facet" {
			continue
		}
		facets, _ := asDoc(stage[0].Value)
		for _, f := range facets {
			if sub, ok := f.Value.([]bson.D); ok && Pipeline(sub).MultiAccumulatorGroup() {
				return true
			}
		}
	}
	return false
}
