package events

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxRounds bounds the log queries of one poll when batches come back
// full.
const maxRounds = 10

// Run reads other instances' events from the log until ctx is done,
// skipping numbers that never arrive, and deletes events older than
// Retention. It first reads where the log stands; events emitted here
// before that are delivered here at once, unordered. When Run returns,
// whatever it held back is delivered and local events go straight out
// again.
func (b *Bus) Run(ctx context.Context) {
	t := time.NewTicker(b.opts.PollInterval)
	defer t.Stop()
	for !b.start(ctx) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	defer func() {
		b.seq.stop()
		b.drain()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake:
		}
		b.step(ctx)
	}
}

// start positions the sequencer at the counter's current value.
func (b *Bus) start(ctx context.Context) bool {
	last, err := b.LastSeq(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.logger.Warn("read event sequence", "err", err)
		}
		return false
	}
	b.seq.start(last)
	b.lastSweep = b.opts.Now()
	b.once.Do(func() { close(b.ready) })
	return true
}

// step is one turn of Run: read the log, skip what waited too long,
// deliver, and sweep when due.
func (b *Bus) step(ctx context.Context) {
	if err := b.poll(ctx); err != nil && ctx.Err() == nil {
		b.logger.Warn("poll events", "err", err)
	}
	now := b.opts.Now()
	for _, g := range b.seq.skipGaps(now, b.opts.GapWait) {
		b.logger.Warn("event sequence numbers never arrived; skipped", "from", g.from, "to", g.to, "waited", b.opts.GapWait)
	}
	b.drain()
	if now.Sub(b.lastSweep) >= b.opts.SweepInterval {
		b.lastSweep = now
		if err := b.sweep(ctx); err != nil && ctx.Err() == nil {
			b.logger.Warn("sweep events", "err", err)
		}
	}
}

// poll reads the events of other instances above the last delivered
// number (and any skipped ones still welcome). It first reads the counter,
// a point read: while every number up to it is known here, as on a
// single instance, the log is not queried at all.
func (b *Bus) poll(ctx context.Context) error {
	counter, err := b.LastSeq(ctx)
	if err != nil {
		return err
	}
	for range maxRounds {
		need, last, late := b.seq.plan(counter)
		if !need {
			return nil
		}
		filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: last}}}}
		if len(late) > 0 {
			filter = bson.D{{Key: "$or", Value: bson.A{filter, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: late}}}}}}}
		}
		filter = append(filter, bson.E{Key: "origin", Value: bson.D{{Key: "$ne", Value: b.opts.InstanceID}}})
		recs, err := b.find(ctx, filter, b.opts.BatchSize)
		if err != nil {
			return err
		}
		evs := make([]Event, len(recs))
		for i := range recs {
			evs[i] = recs[i].event()
		}
		if n := b.seq.offerRemote(evs, b.opts.Now()); n > 0 {
			b.logger.Warn("events arrived after their numbers were skipped; delivered out of order", "count", n)
		}
		b.drain()
		if len(recs) < b.opts.BatchSize {
			return nil
		}
		if _, now, _ := b.seq.plan(counter); now == last {
			return nil // a full batch above a gap: wait for the gap
		}
	}
	return nil
}

// sweep deletes the events older than Retention (the embedded database
// has no TTL indexes).
func (b *Bus) sweep(ctx context.Context) error {
	cutoff := b.opts.Now().UTC().Add(-b.opts.Retention)
	_, err := b.log.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	return err
}
