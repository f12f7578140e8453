// Package files is the operations layer of project file storage
// (contract/REST.md §6): files live in a GridFS bucket ("fs") in the
// project's own database — the database the project brought, when it
// brought one — under paths "<projectId>/<uuid>_<name>".
//
// Three ways in: a direct upload (Upload, the multipart route), and the
// SDK's three steps — RequestUpload mints a signed, single-use, expiring
// upload token; PutUpload streams the raw bytes for it; ConfirmUpload
// checks size and quota and makes the file count. List, Delete, DeleteAll,
// Open (public links, URL) and Usage complete it; Sweep removes uploads
// that were never confirmed.
//
// Accounting is computed, not counted: a project's usage is the sum of
// the lengths of its confirmed GridFS files, aggregated when needed, so it
// cannot drift whatever fails or crashes. The quota is enforced when a
// file becomes confirmed, under a short per-project lease in the platform
// database, so concurrent confirmations on any number of instances cannot
// together exceed it.
package files

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
)

// DefaultMaxFileBytes is the per-file limit of contract/REST.md §6.1.
const DefaultMaxFileBytes = 10 << 20

// Client-visible messages (contract/REST.md §6).
const (
	MsgFileTooLarge     = "File size exceeds limit."
	MsgNoFile           = "No file uploaded."
	MsgAccessDenied     = "Access denied."
	MsgRequestInvalid   = "filename, contentType, and size are required."
	MsgConfirmInvalid   = "filePath and size are required."
	MsgPathRequired     = "File path is required."
	MsgNotReady         = "Uploaded file is not visible yet. Please retry confirmation."
	MsgSizeMismatch     = "Declared file size does not match uploaded file size."
	MsgQuotaUpload      = "Storage limit exceeded. Please upgrade your plan or delete some files."
	MsgQuotaInternal    = "Internal storage limit exceeded."
	MsgUploadFailed     = "File upload failed"
	MsgPresignFailed    = "Could not generate upload URL"
	MsgConfirmFailed    = "Upload confirmation failed"
	MsgDeleteFailed     = "File deletion failed"
	MsgDeleteAllFailed  = "Failed to delete files"
	MsgFileNotFound     = "File not found."
	MsgUploadURLInvalid = "Invalid upload URL."
	MsgUploadURLExpired = "Upload URL has expired."
	MsgUploadURLUsed    = "Upload URL has already been used."
	MsgTypeMismatch     = "Content-Type does not match the upload request."
	MsgPutTooLarge      = "File size exceeds the declared size."
	MsgPutTooSmall      = "Uploaded file size does not match the declared size."
	MsgReadFailed       = "Could not read the uploaded file."
	MsgBusy             = "Storage is busy. Please retry."
)

// Config holds the limits. A zero field means its default.
type Config struct {
	// MaxFileBytes is the largest file accepted (default 10 MiB).
	MaxFileBytes int64
	// QuotaBytes is the per-project storage quota; 0 turns it off.
	QuotaBytes int64
	// UploadTTL is how long an upload URL may be used, and then how long
	// an uploaded file waits for its confirmation (default 10 minutes).
	UploadTTL time.Duration
	// TransferTimeout bounds one upload's transfer (default 15 minutes).
	TransferTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.QuotaBytes < 0 {
		c.QuotaBytes = 0
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = 10 * time.Minute
	}
	if c.TransferTimeout <= 0 {
		c.TransferTimeout = 15 * time.Minute
	}
}

// Projects finds a project's snapshot (its database) by id; the catalog
// implements it.
type Projects interface {
	ByID(ctx context.Context, id bson.ObjectID) (*catalog.Snapshot, error)
}

var _ Projects = (*catalog.Catalog)(nil)

// Service runs file operations.
type Service struct {
	cfg      Config
	projects Projects
	uploads  *mongo.Collection // pending uploads (platform database)
	claims   *mongo.Collection // upload tokens in use or used (platform database)
	locks    *mongo.Collection // per-project quota leases (platform database)
	key      []byte            // signs upload tokens
	logger   *slog.Logger
	now      func() time.Time

	indexed sync.Map // GridFS indexes ensured, by client and database
}

// New returns a Service. platform holds the pending uploads and quota
// leases; key signs upload tokens.
func New(platform *mongo.Database, projects Projects, key []byte, cfg Config, logger *slog.Logger, now func() time.Time) *Service {
	cfg.setDefaults()
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{
		cfg:      cfg,
		projects: projects,
		uploads:  platform.Collection("storage_uploads"),
		claims:   platform.Collection("storage_upload_claims"),
		locks:    platform.Collection("storage_locks"),
		key:      key,
		logger:   logger,
		now:      now,
	}
}

// Config returns the limits in effect.
func (s *Service) Config() Config { return s.cfg }

// EnsureIndexes creates the platform indexes (the sweeper's).
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return dbpool.EnsureIndexes(ctx, s.uploads,
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName("ub_expiresAt")},
		mongo.IndexModel{Keys: bson.D{{Key: "projectId", Value: 1}, {Key: "path", Value: 1}}, Options: options.Index().SetName("ub_project_path")},
	)
}

// File is a stored file as clients see it.
type File struct {
	// Path is "<projectId>/<uuid>_<name>".
	Path string
	// Name is the file name the uploader gave (sanitized).
	Name        string
	ContentType string
	Size        int64
	UploadedAt  time.Time
	// ETag is a strong validator (quoted).
	ETag string
}

// Usage is a project's storage use: confirmed files only.
type Usage struct {
	Bytes int64
	Files int64
}

func (s *Service) now3() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// bucket returns a database's GridFS collections, ensuring the standard
// GridFS indexes once per process and database.
func (s *Service) bucket(ctx context.Context, db *mongo.Database) (*gridfs, error) {
	b := db.GridFSBucket()
	g := &gridfs{files: b.GetFilesCollection(), chunks: b.GetChunksCollection()}
	key := fmt.Sprintf("%p/%s", db.Client(), db.Name())
	if _, ok := s.indexed.Load(key); ok {
		return g, nil
	}
	if err := g.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	s.indexed.Store(key, true)
	return g, nil
}

// snapshot loads a project by id. Errors: NotFound, Internal.
func (s *Service) snapshot(ctx context.Context, id bson.ObjectID) (*catalog.Snapshot, error) {
	snap, err := s.projects.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func projectOf(c *principal.Caller) (bson.ObjectID, *mongo.Database) {
	return c.Snapshot.Project.ID, c.Snapshot.DB
}

// internal wraps a cause as an Internal error with a client message.
func internal(err error, msg, format string, args ...any) error {
	if errs.KindOf(err) != errs.Internal {
		return err
	}
	return errs.Wrap(errs.Internal, fmt.Errorf(format+": %w", append(args, err)...), msg)
}
