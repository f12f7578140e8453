package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/errs"
)

// sweepBatch is how many expired uploads one round handles; sweepLease is
// how long an instance owns an expired upload while it cleans it up.
// sweepGrace is how long past its expiry an upload is left alone, so a
// transfer that started just before its URL expired has recorded itself.
const (
	sweepBatch = 100
	sweepLease = 5 * time.Minute
	sweepGrace = time.Minute
)

// Sweep removes expired pending uploads every interval until ctx is done.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := s.SweepOnce(ctx)
			if err != nil && ctx.Err() == nil {
				s.logger.Warn("sweep expired uploads", "err", err)
			}
			if err != nil || n < sweepBatch {
				break
			}
		}
	}
}

// SweepOnce cleans up to one batch of expired pending uploads: an upload
// URL that was never used, a file that was never confirmed (removed with
// its chunks), a transfer that died half way (its chunks removed). It
// returns how many it handled. Safe to run on several instances at once.
func (s *Service) SweepOnce(ctx context.Context) (int, error) {
	now := s.now3()
	cur, err := s.uploads.Find(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now.Add(-sweepGrace)}}}},
		options.Find().SetLimit(sweepBatch))
	if err != nil {
		return 0, fmt.Errorf("find expired uploads: %w", err)
	}
	var recs []upload
	if err := cur.All(ctx, &recs); err != nil {
		return 0, fmt.Errorf("find expired uploads: %w", err)
	}
	n := 0
	for _, rec := range recs {
		lease := now.Add(sweepLease)
		err := s.uploads.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: rec.ID}, {Key: "expiresAt", Value: rec.ExpiresAt}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: lease}}}}).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // another instance, or the upload moved on
		}
		if err != nil {
			return n, fmt.Errorf("claim expired upload %s: %w", rec.ID, err)
		}
		if err := s.cleanup(ctx, &rec); err != nil {
			// The lease runs out and a later round retries.
			s.logger.Warn("clean up expired upload", "upload", rec.ID, "path", rec.Path, "err", err)
			continue
		}
		if _, err := s.uploads.DeleteOne(ctx, bson.D{{Key: "_id", Value: rec.ID}, {Key: "expiresAt", Value: lease}}); err != nil {
			return n, fmt.Errorf("remove expired upload %s: %w", rec.ID, err)
		}
		if _, err := s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: rec.ID}}); err != nil {
			return n, fmt.Errorf("remove claim of expired upload %s: %w", rec.ID, err)
		}
		n++
	}
	return n, nil
}

// cleanup removes what an expired upload left: the file when it is still
// unconfirmed, or the chunks of a transfer that never finished.
func (s *Service) cleanup(ctx context.Context, rec *upload) error {
	if rec.State == stateDone {
		return nil
	}
	snap, err := s.snapshot(ctx, rec.ProjectID)
	if errs.Is(err, errs.NotFound) {
		return nil // the project is gone, and its database with it
	}
	if err != nil {
		return err
	}
	g := s.gridfsOf(snap.DB)
	d, ok, err := g.find(ctx, rec.Path)
	if err != nil {
		return err
	}
	if ok {
		if d.Metadata.Confirmed {
			return nil
		}
		// Only while unconfirmed: a confirmation that wins the race keeps
		// the file.
		res, err := g.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "metadata.confirmed", Value: false}})
		if err != nil {
			return fmt.Errorf("remove unconfirmed file %s: %w", rec.Path, err)
		}
		if res.DeletedCount == 0 {
			return nil
		}
		return g.deleteChunks(ctx, d.ID, d.numChunks())
	}
	if rec.State == stateIssued {
		return nil
	}
	size := max(rec.Size, s.cfg.MaxFileBytes)
	return g.deleteChunks(ctx, fileID(rec.Path), (size+chunkSize-1)/chunkSize+1)
}
