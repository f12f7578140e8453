package data

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// EngineInfo tells whether a database is served by the embedded FerretDB,
// whose aggregation has known wrong answers (dbpool implements it).
type EngineInfo interface {
	IsFerretDB(ctx context.Context, db *mongo.Database) bool
}

// Aggregate runs an allow-listed pipeline, with the caller's RLS filter as
// its first stage. On the embedded database a pipeline it would answer
// wrongly (a $group with several accumulators, $avg, $max) is refused
// rather than answered with wrong numbers.
// Errors: Forbidden, NotFound, Unauthenticated, Invalid.
func (s *Service) Aggregate(ctx context.Context, c *principal.Caller, name string, pipeline any) ([]Doc, error) {
	col, err := target(c, name)
	if err != nil {
		return nil, err
	}
	of, err := policy.Read(c.Policy(), col)
	if err != nil {
		return nil, err
	}
	p, err := query.ValidatePipeline(pipeline)
	if err != nil {
		return nil, err
	}
	if !of.IsZero() {
		p = p.WithMatch(of.BSON())
	}
	if s.Engine != nil && s.Engine.IsFerretDB(ctx, c.Snapshot.DB) {
		if p.MultiAccumulatorGroup() || p.Uses("$avg") || p.Uses("$max") {
			return nil, errs.New(errs.Invalid, "This aggregation is not supported by the embedded database: use one accumulator per $group and no $avg or $max (or run on MongoDB).")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	defer cancel()
	cur, err := s.coll(c, name).Aggregate(ctx, mongo.Pipeline(p))
	if err != nil {
		return nil, readErr(err, "Aggregation failed.")
	}
	var out []bson.D
	if err := cur.All(ctx, &out); err != nil {
		return nil, readErr(err, "Aggregation failed.")
	}
	docs := make([]Doc, len(out))
	for i, d := range out {
		docs[i] = Doc(d)
	}
	return docs, nil
}
