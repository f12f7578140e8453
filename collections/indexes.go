package collections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
)

const uniqueIndexPrefix = "ub_unique_"

// The unique indexes are sparse: on MongoDB several documents may then
// leave an optional unique field out (the embedded FerretDB allows that
// anyway, as SQLite's unique indexes ignore missing values).
func uniqueIndexName(key string) string { return uniqueIndexPrefix + key }

func existingIndexes(ctx context.Context, coll *mongo.Collection) ([]string, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "NamespaceNotFound") || strings.Contains(err.Error(), "ns does not exist") {
			return nil, nil
		}
		return nil, fmt.Errorf("list indexes of %s: %w", coll.Name(), err)
	}
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name)
	}
	return names, nil
}

// createUniqueIndexes makes the missing unique indexes for keys and returns
// the names it made. On failure it removes what it made.
func createUniqueIndexes(ctx context.Context, coll *mongo.Collection, keys []string) ([]string, error) {
	have, err := existingIndexes(ctx, coll)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, k := range keys {
		name := uniqueIndexName(k)
		if slices.Contains(have, name) {
			continue
		}
		_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: k, Value: 1}},
			Options: options.Index().SetUnique(true).SetSparse(true).SetName(name),
		})
		if err != nil {
			dropIndexes(ctx, coll, created)
			if dbpool.IsDuplicateKey(err) {
				return nil, errs.Wrap(errs.Invalid, err, fmt.Sprintf("Cannot create unique index on '%s'. Existing documents in %s have duplicate values for it; remove the duplicates first.", k, coll.Name()))
			}
			return nil, fmt.Errorf("create unique index on %s.%s: %w", coll.Name(), k, err)
		}
		created = append(created, name)
	}
	return created, nil
}

func dropIndexes(ctx context.Context, coll *mongo.Collection, names []string) {
	for _, n := range names {
		_ = coll.Indexes().DropOne(context.WithoutCancel(ctx), n)
	}
}

func dropStaleUniqueIndexes(ctx context.Context, coll *mongo.Collection, keep []string) error {
	have, err := existingIndexes(ctx, coll)
	if err != nil {
		return err
	}
	for _, n := range have {
		k, ok := strings.CutPrefix(n, uniqueIndexPrefix)
		if !ok || slices.Contains(keep, k) {
			continue
		}
		if err := coll.Indexes().DropOne(ctx, n); err != nil {
			return fmt.Errorf("drop index %s: %w", n, err)
		}
	}
	return nil
}

// ensureCollection creates the collection when it does not exist yet, so
// that it is listed even before its first document.
func ensureCollection(ctx context.Context, db *mongo.Database, name string) error {
	err := db.CreateCollection(ctx, name)
	if err == nil {
		return nil
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists") {
		return nil
	}
	if strings.Contains(err.Error(), "already exists") {
		return nil
	}
	return fmt.Errorf("create collection %s: %w", name, err)
}
