package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
)

// gridfsOf returns a database's GridFS collections without creating
// anything (for reads).
func (s *Service) gridfsOf(db *mongo.Database) *gridfs {
	b := db.GridFSBucket()
	return &gridfs{files: b.GetFilesCollection(), chunks: b.GetChunksCollection()}
}

// Delete removes one file of the caller's project (contract/REST.md §6.5)
// and reports whether there was one; a missing file is not an error.
// Errors: Forbidden (not a secret key; path outside the project), Invalid
// (no path), Internal "File deletion failed".
func (s *Service) Delete(ctx context.Context, c *principal.Caller, path string) (bool, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return false, err
	}
	if path == "" {
		return false, errs.New(errs.Invalid, MsgPathRequired)
	}
	pid, db := projectOf(c)
	p, err := Confine(pid.Hex(), path)
	if err != nil {
		return false, err
	}
	g := s.gridfsOf(db)
	d, ok, err := g.find(ctx, p)
	if err != nil {
		return false, internal(err, MsgDeleteFailed, "delete")
	}
	if !ok || d.Metadata.ProjectID != pid.Hex() {
		return false, nil
	}
	if err := g.remove(context.WithoutCancel(ctx), d); err != nil {
		return false, internal(err, MsgDeleteFailed, "delete")
	}
	return true, nil
}

// DeleteAll removes every file of the caller's project, confirmed or not,
// and returns how many (contract/REST.md §6.6). Errors: Forbidden (not a
// secret key), Internal "Failed to delete files".
func (s *Service) DeleteAll(ctx context.Context, c *principal.Caller) (int64, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return 0, err
	}
	pid, db := projectOf(c)
	g := s.gridfsOf(db)
	cur, err := g.files.Find(ctx, bson.D{{Key: "metadata.projectId", Value: pid.Hex()}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "length", Value: 1}, {Key: "chunkSize", Value: 1}, {Key: "filename", Value: 1}, {Key: "metadata", Value: 1}}))
	if err != nil {
		return 0, internal(err, MsgDeleteAllFailed, "list files")
	}
	var docs []fileDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, internal(err, MsgDeleteAllFailed, "list files")
	}
	ctx = context.WithoutCancel(ctx)
	var n int64
	for i := range docs {
		if err := g.remove(ctx, &docs[i]); err != nil {
			return n, internal(err, MsgDeleteAllFailed, "delete all")
		}
		n++
	}
	return n, nil
}

// Download is an open public file: its description and its content,
// which supports seeking (ranges start at the chunk that holds them).
// Close it.
type Download struct {
	File    *File
	Content io.ReadSeekCloser
}

// Open opens a confirmed file of a project for reading (public links).
// Errors: NotFound "File not found.", Internal.
func (s *Service) Open(ctx context.Context, projectID bson.ObjectID, path string) (*Download, error) {
	if !strings.HasPrefix(path, projectID.Hex()+"/") {
		return nil, errs.New(errs.NotFound, MsgFileNotFound)
	}
	snap, err := s.snapshot(ctx, projectID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.New(errs.NotFound, MsgFileNotFound)
		}
		return nil, err
	}
	g := s.gridfsOf(snap.DB)
	d, ok, err := g.find(ctx, path)
	if err != nil {
		return nil, internal(err, "Could not read the file.", "open")
	}
	if !ok || d.Metadata.ProjectID != projectID.Hex() || !d.Metadata.Confirmed {
		return nil, errs.New(errs.NotFound, MsgFileNotFound)
	}
	return &Download{File: d.file(), Content: newReader(ctx, g, d)}, nil
}

// Usage returns a project's storage use: the bytes and number of its
// confirmed files, added up from GridFS. Errors: NotFound, Internal.
func (s *Service) Usage(ctx context.Context, projectID bson.ObjectID) (Usage, error) {
	snap, err := s.snapshot(ctx, projectID)
	if err != nil {
		return Usage{}, err
	}
	return s.usage(ctx, s.gridfsOf(snap.DB), projectID)
}

// UsageOf is Usage for a project already loaded. Errors: Internal.
func (s *Service) UsageOf(ctx context.Context, snap *catalog.Snapshot) (Usage, error) {
	return s.usage(ctx, s.gridfsOf(snap.DB), snap.Project.ID)
}

// usage adds up a project's confirmed files. It groups by length with one
// $sum (the embedded engine computes only the first of several $sum
// accumulators) and multiplies here.
func (s *Service) usage(ctx context.Context, g *gridfs, pid bson.ObjectID) (Usage, error) {
	cur, err := g.files.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "metadata.projectId", Value: pid.Hex()}, {Key: "metadata.confirmed", Value: true}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$length"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return Usage{}, fmt.Errorf("storage usage of %s: %w", pid.Hex(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var u Usage
	for cur.Next(ctx) {
		length, ok1 := cur.Current.Lookup("_id").AsInt64OK()
		n, ok2 := cur.Current.Lookup("n").AsInt64OK()
		if !ok1 || !ok2 {
			return Usage{}, fmt.Errorf("storage usage of %s: unexpected group %s", pid.Hex(), cur.Current)
		}
		u.Bytes += length * n
		u.Files += n
	}
	if err := cur.Err(); err != nil {
		return Usage{}, fmt.Errorf("storage usage of %s: %w", pid.Hex(), err)
	}
	return u, nil
}

// leaseTTL bounds how long a crashed holder blocks a project's quota
// checks; leaseWait is how long a request waits for the lease.
const (
	leaseTTL  = 30 * time.Second
	leaseWait = 10 * time.Second
)

// withLease runs fn holding the project's quota lease: a document in the
// platform database with the project's id, which one request on one
// instance holds at a time. Taking it is an insert (a unique _id is atomic
// on every engine; the embedded one's findAndModify is not); a lease left
// by a crashed holder is removed once it has run out.
// Errors: Unavailable when the lease stays taken, Internal, fn's errors.
func (s *Service) withLease(ctx context.Context, pid bson.ObjectID, failed string, fn func(context.Context) error) error {
	owner := secret.Token(12)
	deadline := time.Now().Add(leaseWait)
	wait := 2 * time.Millisecond
	for {
		ok, err := s.tryLease(ctx, pid, owner)
		if err != nil {
			return internal(err, failed, "take storage lease of %s", pid.Hex())
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return errs.New(errs.Unavailable, MsgBusy)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return internal(ctx.Err(), failed, "wait for storage lease")
		case <-t.C:
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: pid}, {Key: "owner", Value: owner}}); err != nil {
			s.logger.Warn("release storage lease", "project", pid.Hex(), "err", err)
		}
	}()
	return fn(ctx)
}

func (s *Service) tryLease(ctx context.Context, pid bson.ObjectID, owner string) (bool, error) {
	now := s.now3()
	_, err := s.locks.InsertOne(ctx, bson.D{{Key: "_id", Value: pid}, {Key: "until", Value: now.Add(leaseTTL)}, {Key: "owner", Value: owner}})
	if err == nil {
		return true, nil
	}
	if !dbpool.IsDuplicateKey(err) {
		return false, err
	}
	// Taken: remove it only when it ran out (its holder crashed).
	var cur struct {
		Until time.Time `bson:"until"`
		Owner string    `bson:"owner"`
	}
	err = s.locks.FindOne(ctx, bson.D{{Key: "_id", Value: pid}}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil // released meanwhile: retry
	}
	if err != nil {
		return false, err
	}
	if cur.Until.Before(now) {
		s.logger.Warn("removing a storage lease that ran out", "project", pid.Hex())
		if _, err := s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: pid}, {Key: "owner", Value: cur.Owner}}); err != nil {
			return false, err
		}
	}
	return false, nil
}
