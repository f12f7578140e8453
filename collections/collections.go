// Package collections stores collection definitions (fields, row-level
// security), validates them, and keeps each project's unique indexes in step.
package collections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/projects"
)

// RLS modes.
const (
	PublicRead     = "public-read"
	Private        = "private"
	OwnerWriteOnly = "owner-write-only"
)

// RLS is a collection's row-level security.
type RLS struct {
	Enabled             bool   `bson:"enabled" json:"enabled"`
	Mode                string `bson:"mode" json:"mode"`
	OwnerField          string `bson:"ownerField" json:"ownerField"`
	RequireAuthForWrite bool   `bson:"requireAuthForWrite" json:"requireAuthForWrite"`
}

// DefaultRLS is the security of a new collection: disabled (publishable keys
// may read, not write), public-read, owned through userId.
func DefaultRLS() RLS {
	return RLS{Mode: PublicRead, OwnerField: "userId", RequireAuthForWrite: true}
}

// Collection is a collection definition. A collection with no fields is
// flexible: any JSON document is accepted.
type Collection struct {
	ID        bson.ObjectID `bson:"_id"`
	ProjectID bson.ObjectID `bson:"projectId"`
	Name      string        `bson:"name"`
	Fields    []Field       `bson:"fields"`
	RLS       RLS           `bson:"rls"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

// Databases gives a project's data database.
type Databases interface {
	Database(ctx context.Context, p *projects.Project) (*mongo.Database, error)
}

// Service stores definitions in the platform database.
type Service struct {
	inval projects.Invalidator
	coll  *mongo.Collection
	dbs   Databases
	now   func() time.Time
}

// New returns a Service storing definitions in platformDB.collections.
func New(platformDB *mongo.Database, dbs Databases, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{coll: platformDB.Collection("collections"), dbs: dbs, now: now}
}

// SetInvalidator wires the cache that must hear of every change.
func (s *Service) SetInvalidator(inv projects.Invalidator) { s.inval = inv }

func (s *Service) changed(ctx context.Context, id bson.ObjectID) {
	if s.inval != nil {
		s.inval.Invalidate(ctx, id)
	}
}

// EnsureIndexes creates the unique (project, name) index.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "projectId", Value: 1}, {Key: "name", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("ub_unique_project_name"),
	})
	if err != nil {
		return fmt.Errorf("create collections index: %w", err)
	}
	return nil
}

// List returns a project's definitions sorted by name.
func (s *Service) List(ctx context.Context, projectID bson.ObjectID) ([]*Collection, error) {
	cur, err := s.coll.Find(ctx, bson.D{{Key: "projectId", Value: projectID}})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	var out []*Collection
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	slices.SortFunc(out, func(a, b *Collection) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Get returns one definition. Errors: NotFound.
func (s *Service) Get(ctx context.Context, projectID bson.ObjectID, name string) (*Collection, error) {
	var c Collection
	err := s.coll.FindOne(ctx, bson.D{{Key: "projectId", Value: projectID}, {Key: "name", Value: name}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "collection %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("load collection %s: %w", name, err)
	}
	return &c, nil
}

// Definition is what Define takes. A nil RLS keeps the current one (or the
// default for a new collection).
type Definition struct {
	Name   string
	Fields []Field
	RLS    *RLS
	// CreateOnly refuses to replace an existing collection.
	CreateOnly bool
}

// Define creates a collection or replaces its definition. Unique fields get
// a unique index in the project's database; when existing documents hold
// duplicates, nothing changes. Errors: Invalid, Unavailable.
func (s *Service) Define(ctx context.Context, p *projects.Project, def Definition) (*Collection, error) {
	def.Name = strings.TrimSpace(def.Name)
	if err := ValidateName(def.Name); err != nil {
		return nil, err
	}
	if def.Fields == nil {
		def.Fields = []Field{}
	}
	if err := validateFields(def.Fields, 1, "", map[string]string{}); err != nil {
		return nil, err
	}
	others, err := s.List(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var existing *Collection
	names := map[string]bool{def.Name: true, UsersCollection: true}
	for _, o := range others {
		names[o.Name] = true
		if o.Name == def.Name {
			existing = o
		}
	}
	if existing != nil && def.CreateOnly {
		return nil, errs.New(errs.Invalid, "Collection/Schema already exists")
	}
	for path, target := range refTargets(def.Fields) {
		if !names[target] {
			return nil, errs.New(errs.Invalid, "field %q: ref %q is not a collection of this project", path, target)
		}
	}
	if err := checkGraphQLNames(def.Name, def.Fields, others); err != nil {
		return nil, err
	}
	rls := DefaultRLS()
	if existing != nil {
		rls = existing.RLS
	}
	if def.RLS != nil {
		if rls, err = validateRLS(*def.RLS, def.Fields); err != nil {
			return nil, err
		}
	}

	db, err := s.dbs.Database(ctx, p)
	if err != nil {
		return nil, err
	}
	dataColl := db.Collection(def.Name)
	if err := ensureCollection(ctx, db, def.Name); err != nil {
		return nil, err
	}
	created, err := createUniqueIndexes(ctx, dataColl, uniqueKeys(def.Fields))
	if err != nil {
		return nil, err
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	c := &Collection{ID: bson.NewObjectID(), ProjectID: p.ID, Name: def.Name, Fields: def.Fields, RLS: rls, CreatedAt: now, UpdatedAt: now}
	if existing != nil {
		c.ID, c.CreatedAt = existing.ID, existing.CreatedAt
	}
	_, err = s.coll.ReplaceOne(ctx, bson.D{{Key: "projectId", Value: p.ID}, {Key: "name", Value: def.Name}}, c, options.Replace().SetUpsert(true))
	if err != nil {
		dropIndexes(ctx, dataColl, created)
		if dbpool.IsDuplicateKey(err) {
			return nil, errs.New(errs.Conflict, "collection %q was defined at the same time by another request; try again", def.Name)
		}
		return nil, fmt.Errorf("save collection %s: %w", def.Name, err)
	}
	// The definition is saved: indexes for fields that are no longer
	// unique go now. A failure here leaves a stricter index, never a
	// missing one, and the next Define or SyncIndexes removes it.
	s.changed(ctx, p.ID)
	if err := dropStaleUniqueIndexes(ctx, dataColl, uniqueKeys(def.Fields)); err != nil {
		return nil, err
	}
	return c, nil
}

func validateRLS(in RLS, fields []Field) (RLS, error) {
	out := in
	if out.Mode == "" {
		out.Mode = PublicRead
	}
	if !slices.Contains([]string{PublicRead, Private, OwnerWriteOnly}, out.Mode) {
		return RLS{}, errs.New(errs.Invalid, "rls.mode must be public-read, private or owner-write-only")
	}
	out.OwnerField = strings.TrimSpace(out.OwnerField)
	if out.OwnerField == "" {
		out.OwnerField = "userId"
	}
	if out.OwnerField == "_id" {
		return RLS{}, errs.New(errs.Invalid, "rls.ownerField cannot be _id on a data collection")
	}
	if !fieldKeyRE.MatchString(out.OwnerField) {
		return RLS{}, errs.New(errs.Invalid, "rls.ownerField %q is not a valid top-level field name", out.OwnerField)
	}
	for _, f := range fields {
		if f.Key == out.OwnerField && f.Type != String && !(f.Type == Ref && f.Ref == UsersCollection) {
			return RLS{}, errs.New(errs.Invalid, "rls.ownerField %q must be a String field or a Ref to users, not %s", f.Key, f.Type)
		}
	}
	return out, nil
}

// Drop removes a collection's definition and all its documents.
// Errors: NotFound, Conflict (another collection refers to it).
func (s *Service) Drop(ctx context.Context, p *projects.Project, name string) error {
	all, err := s.List(ctx, p.ID)
	if err != nil {
		return err
	}
	found := false
	for _, c := range all {
		if c.Name == name {
			found = true
			continue
		}
		for path, target := range refTargets(c.Fields) {
			if target == name {
				return errs.New(errs.Conflict, "collection %q is referenced by %s.%s; change or drop that collection first", name, c.Name, path)
			}
		}
	}
	if !found {
		return errs.New(errs.NotFound, "collection %q not found", name)
	}
	db, err := s.dbs.Database(ctx, p)
	if err != nil {
		return err
	}
	// Data first: if removing the definition then fails, a retry finishes
	// the job; the other order could leave invisible documents behind.
	if err := db.Collection(name).Drop(ctx); err != nil {
		return fmt.Errorf("drop collection %s: %w", name, err)
	}
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "projectId", Value: p.ID}, {Key: "name", Value: name}}); err != nil {
		return fmt.Errorf("delete collection definition %s: %w", name, err)
	}
	s.changed(ctx, p.ID)
	return nil
}

// DeleteAll removes every definition of a project (its data goes with the
// project's database).
func (s *Service) DeleteAll(ctx context.Context, projectID bson.ObjectID) error {
	if _, err := s.coll.DeleteMany(ctx, bson.D{{Key: "projectId", Value: projectID}}); err != nil {
		return fmt.Errorf("delete collection definitions: %w", err)
	}
	return nil
}

// Count returns the number of documents in a collection.
func (s *Service) Count(ctx context.Context, p *projects.Project, name string) (int64, error) {
	db, err := s.dbs.Database(ctx, p)
	if err != nil {
		return 0, err
	}
	n, err := db.Collection(name).CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", name, err)
	}
	return n, nil
}

// SyncIndexes creates every unique index of p's collections in db. It
// implements projects.IndexSyncer. Errors: Invalid (duplicates in db).
func (s *Service) SyncIndexes(ctx context.Context, p *projects.Project, db *mongo.Database) error {
	all, err := s.List(ctx, p.ID)
	if err != nil {
		return err
	}
	type made struct {
		coll  *mongo.Collection
		names []string
	}
	var done []made
	for _, c := range all {
		coll := db.Collection(c.Name)
		created, err := createUniqueIndexes(ctx, coll, uniqueKeys(c.Fields))
		if err != nil {
			for _, d := range done {
				dropIndexes(ctx, d.coll, d.names)
			}
			return err
		}
		done = append(done, made{coll, created})
	}
	return nil
}

var _ projects.CollectionStore = (*Service)(nil)
