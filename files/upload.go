package files

import (
	"context"
	"errors"
	"io"
	"mime"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/secret"
)

// Upload states of a pending upload record.
const (
	stateIssued    = "issued"    // upload URL minted, nothing received
	stateUploading = "uploading" // bytes being received
	stateUploaded  = "uploaded"  // file stored, waiting for confirmation
	stateDone      = "done"      // confirmed or refused; kept so a reused URL says so
)

// upload is a pending upload in the platform database: a minted upload
// URL, or a transfer in progress. It is removed when the file is
// confirmed (or refused); the sweeper removes what expired, with the
// unconfirmed file and any chunks it left.
type upload struct {
	ID          string        `bson:"_id"`
	Kind        string        `bson:"kind"` // "presigned" or "direct"
	ProjectID   bson.ObjectID `bson:"projectId"`
	Path        string        `bson:"path"`
	ContentType string        `bson:"contentType"`
	// Size is the declared size; -1 when unknown (direct uploads).
	Size  int64  `bson:"size"`
	State string `bson:"state"`
	// TokenExpiresAt is when the upload URL stops working.
	TokenExpiresAt time.Time `bson:"tokenExpiresAt"`
	// ExpiresAt is when the sweeper may clean up.
	ExpiresAt time.Time `bson:"expiresAt"`
	CreatedAt time.Time `bson:"createdAt"`
}

// Ticket is a minted upload URL's token and the path it uploads to.
type Ticket struct {
	Token     string
	Path      string
	ExpiresAt time.Time
}

// Upload stores a file sent with the request (the multipart route): size
// is the declared size, or -1 when unknown. The file counts at once.
// Errors: Forbidden (not a secret key; quota), TooLarge, Invalid (the
// body could not be read), Internal "File upload failed".
func (s *Service) Upload(ctx context.Context, c *principal.Caller, name, contentType string, size int64, r io.Reader) (*File, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return nil, err
	}
	if size > s.cfg.MaxFileBytes {
		return nil, errs.New(errs.TooLarge, MsgFileTooLarge)
	}
	pid, db := projectOf(c)
	g, err := s.bucket(ctx, db)
	if err != nil {
		return nil, internal(err, MsgUploadFailed, "prepare bucket")
	}
	if s.cfg.QuotaBytes > 0 {
		u, err := s.usage(ctx, g, pid)
		if err != nil {
			return nil, internal(err, MsgUploadFailed, "storage usage")
		}
		if u.Bytes+max(size, 1) > s.cfg.QuotaBytes {
			return nil, errs.New(errs.Forbidden, MsgQuotaUpload)
		}
	}
	now := s.now3()
	rec := upload{
		ID: secret.Token(18), Kind: "direct", ProjectID: pid, Path: newPath(pid.Hex(), name),
		ContentType: contentType, Size: size, State: stateUploading,
		TokenExpiresAt: now, ExpiresAt: now.Add(s.cfg.TransferTimeout), CreatedAt: now,
	}
	if _, err := s.uploads.InsertOne(ctx, rec); err != nil {
		return nil, internal(err, MsgUploadFailed, "record upload")
	}
	tctx, cancel := context.WithTimeout(ctx, s.cfg.TransferTimeout)
	defer cancel()
	d, leftovers, err := s.store(tctx, g, storeSpec{
		pid: pid, path: rec.Path, contentType: rec.ContentType,
		limit: s.cfg.MaxFileBytes, exact: size, confirmed: s.cfg.QuotaBytes == 0,
		tooLarge: errs.New(errs.TooLarge, MsgFileTooLarge),
		tooSmall: errs.New(errs.Invalid, MsgSizeMismatch),
		failed:   MsgUploadFailed,
	}, r)
	if err != nil {
		if !leftovers {
			s.dropUpload(ctx, rec.ID)
		}
		return nil, err
	}
	if s.cfg.QuotaBytes > 0 {
		if err := s.commit(ctx, g, pid, d, MsgQuotaUpload, MsgUploadFailed); err != nil {
			s.dropUpload(ctx, rec.ID)
			return nil, err
		}
		d.Metadata.Confirmed = true
	}
	s.dropUpload(ctx, rec.ID)
	return d.file(), nil
}

// RequestUpload mints an upload URL token (contract/REST.md §6.3): valid
// for one successful PUT of exactly size bytes of contentType to a new
// path, until Config.UploadTTL has passed. Nothing is charged yet.
// Errors: Forbidden (not a secret key; quota), Invalid, TooLarge,
// Internal "Could not generate upload URL".
func (s *Service) RequestUpload(ctx context.Context, c *principal.Caller, name, contentType string, size int64) (*Ticket, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" || strings.TrimSpace(contentType) == "" || size <= 0 {
		return nil, errs.New(errs.Invalid, MsgRequestInvalid)
	}
	if size > s.cfg.MaxFileBytes {
		return nil, errs.New(errs.TooLarge, MsgFileTooLarge)
	}
	pid, db := projectOf(c)
	if s.cfg.QuotaBytes > 0 {
		u, err := s.usage(ctx, s.gridfsOf(db), pid)
		if err != nil {
			return nil, internal(err, MsgPresignFailed, "storage usage")
		}
		if u.Bytes+size > s.cfg.QuotaBytes {
			return nil, errs.New(errs.Forbidden, MsgQuotaInternal)
		}
	}
	now := s.now3()
	exp := now.Add(s.cfg.UploadTTL).Truncate(time.Second)
	rec := upload{
		ID: secret.Token(18), Kind: "presigned", ProjectID: pid, Path: newPath(pid.Hex(), name),
		ContentType: contentType, Size: size, State: stateIssued,
		TokenExpiresAt: exp, ExpiresAt: exp, CreatedAt: now,
	}
	if _, err := s.uploads.InsertOne(ctx, rec); err != nil {
		return nil, internal(err, MsgPresignFailed, "record upload")
	}
	return &Ticket{Token: s.signToken(rec.ID, exp), Path: rec.Path, ExpiresAt: exp}, nil
}

// PutUpload receives the bytes for an upload token: exactly the declared
// size, with the declared content type (or none). length is the request's
// announced length, -1 when unknown; a wrong one is refused before
// anything is read. The file is stored but does not count until
// ConfirmUpload. A failed transfer leaves nothing behind and the token
// usable again until it expires; a successful one uses it up. Errors:
// Forbidden (invalid, expired or used token), Invalid (content type, too
// few bytes, unreadable body), TooLarge (more bytes than declared),
// Internal "File upload failed".
func (s *Service) PutUpload(ctx context.Context, token, contentType string, length int64, r io.Reader) (*File, error) {
	id, err := s.parseToken(token)
	if err != nil {
		return nil, err
	}
	var rec upload
	err = s.uploads.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.Forbidden, MsgUploadURLInvalid)
	}
	if err != nil {
		return nil, internal(err, MsgUploadFailed, "load upload %s", id)
	}
	if rec.Kind != "presigned" || rec.State != stateIssued {
		return nil, errs.New(errs.Forbidden, MsgUploadURLUsed)
	}
	if !typeMatches(rec.ContentType, contentType) {
		return nil, errs.New(errs.Invalid, MsgTypeMismatch)
	}
	if length > rec.Size {
		return nil, errs.New(errs.TooLarge, MsgPutTooLarge)
	}
	if length >= 0 && length < rec.Size {
		return nil, errs.New(errs.Invalid, MsgPutTooSmall)
	}
	// Claim the token: one transfer at a time, on any instance. An insert
	// with the token's id is the claim, because a unique _id is atomic on
	// every engine (the embedded one's findAndModify is not).
	now := s.now3()
	if _, err := s.claims.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: now}}); err != nil {
		if dbpool.IsDuplicateKey(err) {
			return nil, errs.New(errs.Forbidden, MsgUploadURLUsed)
		}
		return nil, internal(err, MsgUploadFailed, "claim upload %s", id)
	}
	s.setState(ctx, id, stateUploading, now.Add(s.cfg.TransferTimeout))
	// release makes the token usable again after a failed transfer that
	// left nothing behind.
	release := func() {
		s.setState(ctx, id, stateIssued, rec.TokenExpiresAt)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			s.logger.Warn("release upload token", "upload", id, "err", err)
		}
	}
	snap, err := s.snapshot(ctx, rec.ProjectID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			// The project is gone: so is its upload, and the sweeper
			// removes the record and the claim.
			return nil, errs.New(errs.Forbidden, MsgUploadURLInvalid)
		}
		release()
		return nil, internal(err, MsgUploadFailed, "load project %s", rec.ProjectID.Hex())
	}
	g, err := s.bucket(ctx, snap.DB)
	if err != nil {
		release()
		return nil, internal(err, MsgUploadFailed, "prepare bucket")
	}
	tctx, cancel := context.WithTimeout(ctx, s.cfg.TransferTimeout)
	defer cancel()
	d, leftovers, err := s.store(tctx, g, storeSpec{
		pid: rec.ProjectID, path: rec.Path, contentType: rec.ContentType,
		limit: rec.Size, exact: rec.Size,
		tooLarge: errs.New(errs.TooLarge, MsgPutTooLarge),
		tooSmall: errs.New(errs.Invalid, MsgPutTooSmall),
		failed:   MsgUploadFailed,
	}, r)
	if err != nil {
		if !leftovers {
			release()
		}
		return nil, err
	}
	// Should this fail, the record keeps its transfer expiry and the
	// sweeper removes the file then, unless it is confirmed first.
	s.setState(ctx, id, stateUploaded, s.now3().Add(s.cfg.UploadTTL))
	return d.file(), nil
}

// ConfirmUpload makes an uploaded file count (contract/REST.md §6.4). It
// is idempotent: confirming a confirmed file returns it again and charges
// nothing. A file whose size differs from size by more than 64 bytes, or
// that would exceed the quota, is deleted. Errors: Forbidden (not a
// secret key; path outside the project; quota), Invalid, Conflict (not
// uploaded yet), Unavailable, Internal "Upload confirmation failed".
func (s *Service) ConfirmUpload(ctx context.Context, c *principal.Caller, filePath string, size int64) (*File, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return nil, err
	}
	if filePath == "" || size <= 0 {
		return nil, errs.New(errs.Invalid, MsgConfirmInvalid)
	}
	pid, db := projectOf(c)
	path, err := Confine(pid.Hex(), filePath)
	if err != nil {
		return nil, err
	}
	g := s.gridfsOf(db)
	d, ok, err := g.find(ctx, path)
	if err != nil {
		return nil, internal(err, MsgConfirmFailed, "confirm")
	}
	if !ok || d.Metadata.ProjectID != pid.Hex() {
		return nil, errs.New(errs.Conflict, MsgNotReady)
	}
	if d.Metadata.Confirmed {
		return d.file(), nil
	}
	if diff := d.Length - size; diff > 64 || diff < -64 {
		if err := g.remove(context.WithoutCancel(ctx), d); err != nil {
			return nil, internal(err, MsgConfirmFailed, "remove mismatched upload")
		}
		s.finishUploads(ctx, pid, path)
		return nil, errs.New(errs.Invalid, MsgSizeMismatch)
	}
	if err := s.commit(ctx, g, pid, d, MsgQuotaInternal, MsgConfirmFailed); err != nil {
		if errs.Is(err, errs.Forbidden) {
			s.finishUploads(ctx, pid, path)
		}
		return nil, err
	}
	s.finishUploads(ctx, pid, path)
	d.Metadata.Confirmed = true
	return d.file(), nil
}

type storeSpec struct {
	pid         bson.ObjectID
	path        string
	contentType string // as declared
	limit       int64  // most bytes accepted
	exact       int64  // bytes required; -1: any up to limit
	confirmed   bool
	tooLarge    error
	tooSmall    error
	failed      string // client message of internal errors
}

// readErr remembers the error of the reader it wraps, to tell the
// client's failures from the database's.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// store streams r into a new GridFS file. On failure it removes what it
// wrote; leftovers reports that even that failed (the pending upload
// record must then stay for the sweeper).
func (s *Service) store(ctx context.Context, g *gridfs, sp storeSpec, r io.Reader) (d *fileDoc, leftovers bool, err error) {
	w := newWriter(ctx, g, fileID(sp.path))
	src := &readErr{r: io.LimitReader(r, sp.limit+1)}
	fail := func(cause error) (*fileDoc, bool, error) {
		if aerr := w.Abort(); aerr != nil {
			s.logger.Error("remove chunks of a failed upload", "path", sp.path, "err", aerr)
			return nil, true, cause
		}
		return nil, false, cause
	}
	if _, err := io.Copy(w, src); err != nil {
		if src.err != nil {
			return fail(errs.Wrap(errs.Invalid, src.err, MsgReadFailed))
		}
		return fail(internal(err, sp.failed, "store %s", sp.path))
	}
	if w.written > sp.limit {
		return fail(sp.tooLarge)
	}
	if sp.exact >= 0 && w.written != sp.exact {
		return fail(sp.tooSmall)
	}
	d, err = w.Close(sp.path, s.now3(), fileMeta{
		ProjectID: sp.pid.Hex(), ContentType: normalizeType(sp.contentType), Confirmed: sp.confirmed, Size: w.written,
	})
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, derr := g.files.DeleteOne(cctx, bson.D{{Key: "_id", Value: w.id}}); derr != nil {
			s.logger.Error("remove file document of a failed upload", "path", sp.path, "err", derr)
		}
		return fail(internal(err, sp.failed, "store %s", sp.path))
	}
	return d, false, nil
}

// commit makes a stored file count. With a quota it holds the project's
// lease while it adds the usage up and checks the file fits; a file that
// does not fit is deleted.
func (s *Service) commit(ctx context.Context, g *gridfs, pid bson.ObjectID, d *fileDoc, quotaMsg, failed string) error {
	if s.cfg.QuotaBytes <= 0 {
		return s.markConfirmed(ctx, g, d, failed)
	}
	return s.withLease(ctx, pid, failed, func(ctx context.Context) error {
		u, err := s.usage(ctx, g, pid)
		if err != nil {
			return internal(err, failed, "storage usage")
		}
		if u.Bytes+d.Length > s.cfg.QuotaBytes {
			if err := g.remove(context.WithoutCancel(ctx), d); err != nil {
				return internal(err, failed, "remove upload over quota")
			}
			return errs.New(errs.Forbidden, "%s", quotaMsg)
		}
		return s.markConfirmed(ctx, g, d, failed)
	})
}

// markConfirmed flips the file's confirmed flag. When another request
// confirmed it first that is success; when it is gone (swept, deleted) the
// upload is not there.
func (s *Service) markConfirmed(ctx context.Context, g *gridfs, d *fileDoc, failed string) error {
	res, err := g.files.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "metadata.confirmed", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "metadata.confirmed", Value: true}}}})
	if err != nil {
		return internal(err, failed, "confirm %s", d.Filename)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	cur, ok, err := g.find(ctx, d.Filename)
	if err != nil {
		return internal(err, failed, "confirm %s", d.Filename)
	}
	if ok && cur.Metadata.Confirmed {
		return nil
	}
	return errs.New(errs.Conflict, MsgNotReady)
}

func (s *Service) dropUpload(ctx context.Context, id string) {
	if _, err := s.uploads.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: id}}); err != nil {
		s.logger.Warn("remove pending upload", "upload", id, "err", err)
	}
}

// setState records an upload's progress for the sweeper.
func (s *Service) setState(ctx context.Context, id, state string, expires time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.uploads.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: state}, {Key: "expiresAt", Value: expires}}}})
	if err != nil {
		s.logger.Warn("record upload state", "upload", id, "state", state, "err", err)
	}
}

// finishUploads marks the pending uploads of a path done: the file was
// confirmed or refused. The records stay until they expire, so a reused
// upload URL is told it was used.
func (s *Service) finishUploads(ctx context.Context, pid bson.ObjectID, path string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.uploads.UpdateMany(ctx, bson.D{{Key: "projectId", Value: pid}, {Key: "path", Value: path}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: stateDone}}}})
	if err != nil {
		s.logger.Warn("finish pending uploads", "path", path, "err", err)
	}
}

// normalizeType returns a declared content type in canonical form, or
// application/octet-stream when it is not a valid media type.
func normalizeType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	if f := mime.FormatMediaType(mt, params); f != "" {
		return f
	}
	return mt
}

// typeMatches reports whether a PUT's Content-Type is the declared one
// (media types compared without parameters); no header is accepted.
func typeMatches(declared, got string) bool {
	if strings.TrimSpace(got) == "" {
		return true
	}
	dm, _, err1 := mime.ParseMediaType(declared)
	gm, _, err2 := mime.ParseMediaType(got)
	if err1 != nil || err2 != nil {
		return strings.EqualFold(strings.TrimSpace(declared), strings.TrimSpace(got))
	}
	return dm == gm
}
