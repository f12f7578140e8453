// Package data is the operations layer for project documents: list, count,
// get, insert, bulk insert, update, delete and aggregate. Every operation
// takes the caller, applies policy (through the policy package) itself,
// validates, writes and emits an event; transports only decode and encode.
package data

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
)

// Op is the kind of a committed write.
type Op string

// The write ops.
const (
	OpInsert Op = "insert"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Event is a committed write: for inserts and updates the document after
// the write, for deletes the document as it was.
type Event struct {
	ProjectID  bson.ObjectID
	Collection string
	Op         Op
	ID         bson.ObjectID
	Doc        Doc
}

// Emitter receives every committed write (realtime, webhooks).
type Emitter interface {
	Emit(ctx context.Context, e Event)
}

// Service runs data operations.
type Service struct {
	emitters []Emitter
	logger   *slog.Logger
	now      func() time.Time
	// QueryTimeout bounds one read or aggregation.
	QueryTimeout time.Duration
	// Engine tells the embedded database apart (nil: assume MongoDB).
	Engine EngineInfo
}

// New returns a Service.
func New(logger *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{logger: logger, now: now, QueryTimeout: 10 * time.Second}
}

// AddEmitter registers a receiver of committed writes.
func (s *Service) AddEmitter(e Emitter) { s.emitters = append(s.emitters, e) }

func (s *Service) emit(ctx context.Context, c *principal.Caller, coll string, op Op, id bson.ObjectID, doc Doc) {
	for _, e := range s.emitters {
		e.Emit(context.WithoutCancel(ctx), Event{ProjectID: c.Snapshot.Project.ID, Collection: coll, Op: op, ID: id, Doc: doc})
	}
}

func (s *Service) timestamp() bson.DateTime {
	return bson.NewDateTimeFromTime(s.now().UTC().Truncate(time.Millisecond))
}

// target checks the users block and finds the collection.
// Errors: Forbidden (users), NotFound ("Collection not found").
func target(c *principal.Caller, name string) (*collections.Collection, error) {
	if err := policy.CheckCollectionName(name); err != nil {
		return nil, err
	}
	return c.Snapshot.Collection(name)
}

func (s *Service) coll(c *principal.Caller, name string) *mongo.Collection {
	return c.Snapshot.DB.Collection(name)
}

// readFilter is the RLS read filter for the caller, or nil.
// Errors: as policy.Read.
func readFilter(c *principal.Caller, col *collections.Collection) (bson.D, error) {
	of, err := policy.Read(c.Policy(), col)
	if err != nil {
		return nil, err
	}
	if of.IsZero() {
		return nil, nil
	}
	return of.BSON(), nil
}

func and(filters ...bson.D) bson.D {
	var parts bson.A
	for _, f := range filters {
		if len(f) > 0 {
			parts = append(parts, f)
		}
	}
	switch len(parts) {
	case 0:
		return bson.D{}
	case 1:
		return parts[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: parts}}
}

// writeErr maps a driver error of a write: duplicate keys (on both
// engines) to the contract's Conflict.
func writeErr(err error, generic string) error {
	if dbpool.IsDuplicateKey(err) {
		return errs.Wrap(errs.Conflict, err, "Duplicate value violates unique constraint.")
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return errs.Wrap(errs.Internal, err, generic)
}

func readErr(err error, generic string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(errs.Unavailable, err, "The query took too long.")
	}
	return errs.Wrap(errs.Internal, err, generic)
}
