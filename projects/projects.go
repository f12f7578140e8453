// Package projects stores projects: their keys, settings, auth settings and
// where their data lives.
package projects

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/secret"
)

// Key prefixes.
const (
	PublishablePrefix = "pk_live_"
	SecretPrefix      = "sk_live_"
)

// KeyKind names one of a project's two keys.
type KeyKind string

// The two key kinds.
const (
	Publishable KeyKind = "publishable"
	Secret      KeyKind = "secret"
)

// Project is a tenant: its keys, settings and the location of its data.
// Fields holding secrets are sealed with the master key and never leave the
// server.
type Project struct {
	ID             bson.ObjectID `bson:"_id"`
	OwnerID        bson.ObjectID `bson:"ownerId"`
	Name           string        `bson:"name"`
	Description    string        `bson:"description,omitempty"`
	SiteURL        string        `bson:"siteUrl,omitempty"`
	AllowedOrigins []string      `bson:"allowedOrigins"`
	PublishableKey string        `bson:"publishableKey"`
	SecretKeyHash  string        `bson:"secretKeyHash"`
	JWTSecret      string        `bson:"jwtSecret"`             // sealed
	DatabaseURI    string        `bson:"databaseUri,omitempty"` // sealed; empty: platform cluster
	DatabaseName   string        `bson:"databaseName"`
	Auth           AuthSettings  `bson:"auth"`
	// MailFrom is the sender of the project's e-mails ("Name <a@b.c>").
	MailFrom  string    `bson:"mailFrom,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// ExternalDatabase reports whether the project's data lives in a MongoDB
// that the project brought.
func (p *Project) ExternalDatabase() bool { return p.DatabaseURI != "" }

// CollectionStore is what projects needs of the collections package:
// creating a project's unique indexes in a database before the project
// switches to it, and removing its definitions when it is deleted.
type CollectionStore interface {
	SyncIndexes(ctx context.Context, p *Project, db *mongo.Database) error
	DeleteAll(ctx context.Context, projectID bson.ObjectID) error
}

// Invalidator is told after every change to a project, so caches of it
// can be dropped (the catalog package implements it).
type Invalidator interface {
	Invalidate(ctx context.Context, projectID bson.ObjectID)
}

// Service stores projects in the platform database.
type Service struct {
	inval    Invalidator
	coll     *mongo.Collection
	platform *mongo.Client
	pool     *dbpool.Pool
	box      *secret.Box
	now      func() time.Time
	colls    CollectionStore
}

// New returns a Service. platformDB holds the projects; projects without
// their own database keep their data on platformDB's cluster.
func New(platformDB *mongo.Database, pool *dbpool.Pool, box *secret.Box, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{coll: platformDB.Collection("projects"), platform: platformDB.Client(), pool: pool, box: box, now: now}
}

// SetInvalidator wires the cache that must hear of every change.
func (s *Service) SetInvalidator(inv Invalidator) { s.inval = inv }

func (s *Service) changed(ctx context.Context, id bson.ObjectID) {
	if s.inval != nil {
		s.inval.Invalidate(ctx, id)
	}
}

// SetCollectionStore wires the collections service in (the two services
// need each other); see CollectionStore.
func (s *Service) SetCollectionStore(c CollectionStore) { s.colls = c }

// EnsureIndexes creates the indexes projects need.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return dbpool.EnsureIndexes(ctx, s.coll,
		mongo.IndexModel{Keys: bson.D{{Key: "ownerId", Value: 1}}, Options: options.Index().SetName("ub_owner")},
		mongo.IndexModel{Keys: bson.D{{Key: "publishableKey", Value: 1}}, Options: options.Index().SetUnique(true).SetName("ub_unique_pk")},
		mongo.IndexModel{Keys: bson.D{{Key: "secretKeyHash", Value: 1}}, Options: options.Index().SetUnique(true).SetName("ub_unique_sk")},
	)
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func jwtLabel(id bson.ObjectID) string { return "project:" + id.Hex() + ":jwt" }
func dbLabel(id bson.ObjectID) string  { return "project:" + id.Hex() + ":database" }
func oauthLabel(id bson.ObjectID, provider string) string {
	return "project:" + id.Hex() + ":oauth:" + provider
}

// NewPublishableKey returns a fresh publishable key.
func NewPublishableKey() string { return PublishablePrefix + secret.Token(32) }

// NewSecretKey returns a fresh secret key.
func NewSecretKey() string { return SecretPrefix + secret.Token(32) }

// CreateInput describes a new project.
type CreateInput struct {
	Name           string
	Description    string
	SiteURL        string
	AllowedOrigins []string // nil: ["*"]
	DatabaseURI    string   // empty: the platform cluster
	MailFrom       string   // empty: the server's default sender
}

// Create makes a project owned by owner and returns it with its secret key,
// which is not stored and cannot be shown again.
// Errors: Invalid (name, URLs, origins, connection string), Unavailable
// (the database it brought does not answer).
func (s *Service) Create(ctx context.Context, owner bson.ObjectID, in CreateInput) (*Project, string, error) {
	name, err := validName(in.Name)
	if err != nil {
		return nil, "", err
	}
	desc, err := validDescription(in.Description)
	if err != nil {
		return nil, "", err
	}
	site, err := ValidateSiteURL(in.SiteURL)
	if err != nil {
		return nil, "", err
	}
	from, err := ValidateMailFrom(in.MailFrom)
	if err != nil {
		return nil, "", err
	}
	origins := []string{"*"}
	if in.AllowedOrigins != nil {
		if origins, err = ValidateOrigins(in.AllowedOrigins); err != nil {
			return nil, "", err
		}
	}
	now := s.timestamp()
	p := &Project{
		ID:             bson.NewObjectID(),
		OwnerID:        owner,
		Name:           name,
		Description:    desc,
		SiteURL:        site,
		AllowedOrigins: origins,
		MailFrom:       from,
		PublishableKey: NewPublishableKey(),
		Auth:           AuthSettings{Enabled: true, AllowPublicSignups: true},
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := s.setDatabase(ctx, p, in.DatabaseURI); err != nil {
		return nil, "", err
	}
	sk := NewSecretKey()
	p.SecretKeyHash = secret.Hash(sk)
	p.JWTSecret = s.box.Seal(secret.Token(48), jwtLabel(p.ID))
	if _, err := s.coll.InsertOne(ctx, p); err != nil {
		return nil, "", fmt.Errorf("insert project: %w", err)
	}
	return p, sk, nil
}

// setDatabase checks uri (empty: platform cluster) and points p at it.
func (s *Service) setDatabase(ctx context.Context, p *Project, uri string) error {
	if uri == "" {
		p.DatabaseURI = ""
		p.DatabaseName = DefaultDatabaseName(p.ID)
		return nil
	}
	name, err := dbpool.ParseURI(uri)
	if err != nil {
		return err
	}
	if err := s.pool.Check(ctx, uri); err != nil {
		// The connection string is the client's input: refusing it is a
		// bad request, whatever the reason it does not answer.
		return errs.Wrap(errs.Invalid, err, "databaseUri: "+errs.ClientMessage(err))
	}
	if name == "" {
		name = DefaultDatabaseName(p.ID)
	}
	p.DatabaseURI = s.box.Seal(uri, dbLabel(p.ID))
	p.DatabaseName = name
	return nil
}

// DefaultDatabaseName is the database that holds a project's data when its
// connection string names none.
func DefaultDatabaseName(id bson.ObjectID) string { return "ub_" + id.Hex() }

// List returns owner's projects, oldest first.
func (s *Service) List(ctx context.Context, owner bson.ObjectID) ([]*Project, error) {
	cur, err := s.coll.Find(ctx, bson.D{{Key: "ownerId", Value: owner}})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	var out []*Project
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	sortByCreated(out)
	return out, nil
}

// Get loads a project that owner owns. Errors: NotFound (also when another
// admin owns it).
func (s *Service) Get(ctx context.Context, owner, id bson.ObjectID) (*Project, error) {
	var p Project
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "ownerId", Value: owner}}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "project not found")
	}
	if err != nil {
		return nil, fmt.Errorf("load project %s: %w", id.Hex(), err)
	}
	return &p, nil
}

// ByID loads any project, whoever owns it; for internal callers that
// authenticated the request otherwise. Errors: NotFound.
func (s *Service) ByID(ctx context.Context, id bson.ObjectID) (*Project, error) {
	var p Project
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "project not found")
	}
	if err != nil {
		return nil, fmt.Errorf("load project %s: %w", id.Hex(), err)
	}
	return &p, nil
}

// UpdateInput changes a project; nil fields stay as they are. An empty
// DatabaseURI moves the project back to the platform cluster.
type UpdateInput struct {
	Name           *string
	Description    *string
	SiteURL        *string
	AllowedOrigins []string // nil: unchanged
	DatabaseURI    *string
	MailFrom       *string
}

// Update changes a project. Changing the database does not copy data: the
// project starts reading and writing the new one, after its unique indexes
// were created there. Errors: NotFound, Invalid, Unavailable.
func (s *Service) Update(ctx context.Context, owner, id bson.ObjectID, in UpdateInput) (*Project, error) {
	p, err := s.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	set := bson.D{}
	if in.Name != nil {
		if p.Name, err = validName(*in.Name); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "name", Value: p.Name})
	}
	if in.Description != nil {
		if p.Description, err = validDescription(*in.Description); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "description", Value: p.Description})
	}
	if in.MailFrom != nil {
		if p.MailFrom, err = ValidateMailFrom(*in.MailFrom); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "mailFrom", Value: p.MailFrom})
	}
	if in.SiteURL != nil {
		if p.SiteURL, err = ValidateSiteURL(*in.SiteURL); err != nil {
			return nil, err
		}
		if p.SiteURL == "" && (p.Auth.GitHub.Enabled || p.Auth.Google.Enabled) {
			return nil, errs.New(errs.Invalid, "siteUrl cannot be removed while GitHub or Google sign-in is enabled: users are sent back to <siteUrl>/auth/callback")
		}
		set = append(set, bson.E{Key: "siteUrl", Value: p.SiteURL})
	}
	if in.AllowedOrigins != nil {
		if p.AllowedOrigins, err = ValidateOrigins(in.AllowedOrigins); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "allowedOrigins", Value: p.AllowedOrigins})
	}
	if in.DatabaseURI != nil {
		if err := s.setDatabase(ctx, p, *in.DatabaseURI); err != nil {
			return nil, err
		}
		db, err := s.Database(ctx, p)
		if err != nil {
			return nil, err
		}
		if err := s.colls.SyncIndexes(ctx, p, db); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "databaseUri", Value: p.DatabaseURI}, bson.E{Key: "databaseName", Value: p.DatabaseName})
	}
	p.UpdatedAt = s.timestamp()
	set = append(set, bson.E{Key: "updatedAt", Value: p.UpdatedAt})
	if err := s.update(ctx, p.ID, bson.D{{Key: "$set", Value: set}}); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) update(ctx context.Context, id bson.ObjectID, update bson.D) error {
	res, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return fmt.Errorf("update project %s: %w", id.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return errs.New(errs.NotFound, "project not found")
	}
	s.changed(ctx, id)
	return nil
}

// Delete removes a project and its collection definitions. Data on the
// platform cluster is dropped with it; a database the project brought is
// left as it is (your database, your data). Errors: NotFound.
func (s *Service) Delete(ctx context.Context, owner, id bson.ObjectID) error {
	p, err := s.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	if !p.ExternalDatabase() {
		if err := s.platform.Database(p.DatabaseName).Drop(ctx); err != nil {
			return fmt.Errorf("drop project database: %w", err)
		}
	}
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "ownerId", Value: owner}})
	if err != nil {
		return fmt.Errorf("delete project %s: %w", id.Hex(), err)
	}
	if res.DeletedCount == 0 {
		return errs.New(errs.NotFound, "project not found")
	}
	s.changed(ctx, id)
	// The project is gone, so its definitions are unreachable; removing
	// them is housekeeping and a failure here loses nothing.
	if err := s.colls.DeleteAll(ctx, id); err != nil {
		return err
	}
	return nil
}

// RotateKey replaces one key and returns the new one. The old key stops
// working at once. Errors: NotFound, Invalid (kind).
func (s *Service) RotateKey(ctx context.Context, owner, id bson.ObjectID, kind KeyKind) (string, error) {
	if _, err := s.Get(ctx, owner, id); err != nil {
		return "", err
	}
	var key string
	var set bson.D
	switch kind {
	case Publishable:
		key = NewPublishableKey()
		set = bson.D{{Key: "publishableKey", Value: key}}
	case Secret:
		key = NewSecretKey()
		set = bson.D{{Key: "secretKeyHash", Value: secret.Hash(key)}}
	default:
		return "", errs.New(errs.Invalid, "unknown key kind %q", kind)
	}
	set = append(set, bson.E{Key: "updatedAt", Value: s.timestamp()})
	if err := s.update(ctx, id, bson.D{{Key: "$set", Value: set}}); err != nil {
		return "", err
	}
	return key, nil
}

// Database returns the database that holds p's documents, users and files.
// Errors: Unavailable when a brought database does not answer.
func (s *Service) Database(ctx context.Context, p *Project) (*mongo.Database, error) {
	if !p.ExternalDatabase() {
		return s.platform.Database(p.DatabaseName), nil
	}
	uri, err := s.box.Open(p.DatabaseURI, dbLabel(p.ID))
	if err != nil {
		return nil, fmt.Errorf("open database uri of project %s: %w", p.ID.Hex(), err)
	}
	c, err := s.pool.Client(ctx, uri)
	if err != nil {
		return nil, err
	}
	return c.Database(p.DatabaseName), nil
}

// JWTSecret returns the key that signs p's end-user tokens.
func (s *Service) JWTSecret(p *Project) ([]byte, error) {
	v, err := s.box.Open(p.JWTSecret, jwtLabel(p.ID))
	if err != nil {
		return nil, fmt.Errorf("open jwt secret of project %s: %w", p.ID.Hex(), err)
	}
	return []byte(v), nil
}
