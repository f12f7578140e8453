package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/events"
)

const (
	cursorID = "cursor" // the dispatcher's cursor document in webhook_state
	// tailBatch bounds the events read per query.
	tailBatch = 500
	// leaseMargin is added to the attempt timeout for a claim's lease:
	// an instance that dies mid-attempt gives the delivery back after it.
	leaseMargin = 30 * time.Second
	// claimRetention is how long claim documents are kept; a claim only
	// has to outlive the reads that could still race for it.
	claimRetention = time.Hour
	sweepEvery     = time.Minute
	recordTimeout  = 10 * time.Second
)

var _ data.Emitter = (*Service)(nil)

// Emit wakes the dispatcher after a committed write on this instance; the
// event itself is read from the events log, so register Emit after the
// events bus.
func (s *Service) Emit(context.Context, data.Event) { poke(s.wakeTail) }

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sleep waits for d, a wake-up or the end of ctx; it reports false at the
// end of ctx.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// Run is the dispatcher. Until ctx is done it reads the events log from a
// cursor kept in the platform database and queues one delivery per
// matching webhook and event, and it claims due deliveries and sends
// them. Any number of instances may run it on one platform database:
// each delivery is queued once and each attempt is sent once. When ctx is
// done it waits for the attempts in flight, handing back those that were
// cut short.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.runTail(ctx)
	}()
	go func() {
		defer wg.Done()
		s.runQueue(ctx)
	}()
	wg.Wait()
	s.client.CloseIdleConnections()
}

// tail is where the dispatcher stands in the events log.
type tail struct {
	cursor   int64          // every event up to it is queued (or skipped)
	seen     map[int64]bool // events above the cursor already queued
	gapSeq   int64          // the missing number being waited for
	gapSince time.Time
}

func (s *Service) runTail(ctx context.Context) {
	var t *tail
	for {
		if t == nil {
			c, err := s.loadCursor(ctx)
			if err == nil {
				t = &tail{cursor: c, seen: map[int64]bool{}}
			} else if ctx.Err() == nil {
				s.logger.Warn("webhooks: read the events cursor", "err", err)
			}
		}
		if t != nil {
			if err := s.tailOnce(ctx, t); err != nil && ctx.Err() == nil {
				s.logger.Warn("webhooks: queue deliveries", "err", err)
			}
		}
		if !sleep(ctx, s.opts.PollInterval, s.wakeTail) {
			return
		}
	}
}

// loadCursor reads the shared cursor, creating it on first start: at the
// last event, or before the oldest webhook's first event if that is
// earlier.
func (s *Service) loadCursor(ctx context.Context) (int64, error) {
	var st struct {
		Seq int64 `bson:"seq"`
	}
	err := s.state.FindOne(ctx, bson.D{{Key: "_id", Value: cursorID}}).Decode(&st)
	if err == nil {
		return st.Seq, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	start, err := s.log.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	var w Webhook
	err = s.hooks.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "fromSeq", Value: 1}})).Decode(&w)
	switch {
	case err == nil:
		start = min(start, w.FromSeq)
	case !errors.Is(err, mongo.ErrNoDocuments):
		return 0, fmt.Errorf("find oldest webhook: %w", err)
	}
	if _, err := s.state.InsertOne(ctx, bson.D{{Key: "_id", Value: cursorID}, {Key: "seq", Value: start}}); err != nil {
		if dbpool.IsDuplicateKey(err) { // another instance was first
			return s.loadCursor(ctx)
		}
		return 0, fmt.Errorf("create cursor: %w", err)
	}
	return start, nil
}

func (s *Service) saveCursor(ctx context.Context, seq int64) error {
	_, err := s.state.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: cursorID}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: seq}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: seq}}}})
	if err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// enabledHooks returns the enabled webhooks by project.
func (s *Service) enabledHooks(ctx context.Context) (map[bson.ObjectID][]*Webhook, error) {
	cur, err := s.hooks.Find(ctx, bson.D{{Key: "enabled", Value: true}}, options.Find().SetProjection(bson.D{{Key: "secret", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("find webhooks: %w", err)
	}
	var ws []*Webhook
	if err := cur.All(ctx, &ws); err != nil {
		return nil, fmt.Errorf("read webhooks: %w", err)
	}
	out := map[bson.ObjectID][]*Webhook{}
	for _, w := range ws {
		out[w.ProjectID] = append(out[w.ProjectID], w)
	}
	return out, nil
}

// tailOnce queues the deliveries of the events after the cursor.
func (s *Service) tailOnce(ctx context.Context, t *tail) error {
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	if last <= t.cursor {
		return nil
	}
	hooks, err := s.enabledHooks(ctx)
	if err != nil {
		return err
	}
	if len(hooks) == 0 {
		// Nothing to deliver. A webhook created from now on starts after
		// last (LastSeq was read before the webhooks).
		t.cursor, t.seen, t.gapSince = last, map[int64]bool{}, time.Time{}
		return s.saveCursor(ctx, last)
	}
	for {
		evs, err := s.log.Since(ctx, t.cursor, tailBatch)
		if err != nil {
			return err
		}
		var ds []any
		var read []int64
		for i := range evs {
			ev := &evs[i]
			if t.seen[ev.Seq] {
				continue
			}
			read = append(read, ev.Seq)
			var payload []byte
			for _, w := range hooks[ev.ProjectID] {
				if ev.Seq <= w.FromSeq || !matches(w.Events, ev.Collection, ev.Op) {
					continue
				}
				if payload == nil {
					if payload, err = eventBody(ev); err != nil {
						s.logger.Error("webhooks: encode event; skipped", "seq", ev.Seq, "err", err)
						break
					}
				}
				ds = append(ds, s.newDelivery(w, ev, payload))
			}
		}
		n, err := s.enqueue(ctx, ds)
		if err != nil {
			return err
		}
		if n > 0 {
			poke(s.wakeQueue)
		}
		for _, seq := range read {
			t.seen[seq] = true
		}
		before := t.cursor
		s.advance(t)
		if t.cursor != before {
			if err := s.saveCursor(ctx, t.cursor); err != nil {
				return err
			}
		}
		if len(evs) < tailBatch || t.cursor == before {
			return nil
		}
	}
}

// advance moves the cursor over the queued events that follow it. A
// missing number with later events already read is waited for GapWait
// (its write may still be in flight), then skipped.
func (s *Service) advance(t *tail) {
	for {
		for t.seen[t.cursor+1] {
			delete(t.seen, t.cursor+1)
			t.cursor++
		}
		if len(t.seen) == 0 {
			t.gapSince = time.Time{}
			return
		}
		now := s.opts.Now()
		if t.gapSince.IsZero() || t.gapSeq != t.cursor+1 {
			t.gapSeq, t.gapSince = t.cursor+1, now
			return
		}
		if now.Sub(t.gapSince) < s.opts.GapWait {
			return
		}
		lo := int64(-1)
		for seq := range t.seen {
			if lo < 0 || seq < lo {
				lo = seq
			}
		}
		t.cursor, t.gapSince = lo-1, time.Time{}
	}
}

func (s *Service) newDelivery(w *Webhook, ev *events.Event, payload []byte) *Delivery {
	now := s.timestamp()
	return &Delivery{
		ID:        eventDeliveryID(w.ID, ev.Seq),
		WebhookID: w.ID,
		ProjectID: w.ProjectID,
		Event:     ev.Collection + "." + ev.Op,
		Seq:       ev.Seq,
		Payload:   string(payload),
		Status:    StatusPending,
		CreatedAt: now,
		Next:      now,
		History:   []Attempt{},
	}
}

// queue is the attempts in flight on this instance.
type queue struct {
	busy  map[bson.ObjectID]int // attempts in flight per webhook
	total int
	done  chan bson.ObjectID // a finished attempt's webhook
}

func (q *queue) release(id bson.ObjectID) {
	q.total--
	if q.busy[id]--; q.busy[id] <= 0 {
		delete(q.busy, id)
	}
}

func (q *queue) full(perWebhook int) bson.A {
	var out bson.A
	for id, n := range q.busy {
		if n >= perWebhook {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) runQueue(ctx context.Context) {
	q := &queue{busy: map[bson.ObjectID]int{}, done: make(chan bson.ObjectID)}
	var lastSweep time.Time
	for {
		if err := s.claimDue(ctx, q); err != nil && ctx.Err() == nil {
			s.logger.Warn("webhooks: claim deliveries", "err", err)
		}
		wait := s.opts.PollInterval
		if next, ok, err := s.nextDue(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("webhooks: find the next delivery", "err", err)
		} else if ok {
			if d := next.Sub(s.opts.Now()); d > 0 && d < wait {
				wait = d
			}
		}
		if now := s.opts.Now(); now.Sub(lastSweep) > sweepEvery {
			lastSweep = now
			if _, err := s.claims.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-claimRetention)}}}}); err != nil && ctx.Err() == nil {
				s.logger.Warn("webhooks: sweep claims", "err", err)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			for q.total > 0 {
				q.release(<-q.done)
			}
			return
		case <-s.wakeQueue:
		case id := <-q.done:
			q.release(id)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// claimDue claims due deliveries and starts their attempts, within the
// instance's and each webhook's concurrency.
func (s *Service) claimDue(ctx context.Context, q *queue) error {
	for q.total < s.opts.Concurrency {
		now := s.timestamp()
		filter := bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "status", Value: StatusPending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
			bson.D{{Key: "status", Value: StatusDelivering}, {Key: "leaseUntil", Value: bson.D{{Key: "$lte", Value: now}}}},
		}}}
		if full := q.full(s.opts.PerWebhook); len(full) > 0 {
			filter = append(filter, bson.E{Key: "webhookId", Value: bson.D{{Key: "$nin", Value: full}}})
		}
		cur, err := s.deliveries.Find(ctx, filter, options.Find().
			SetSort(bson.D{{Key: "nextAttemptAt", Value: 1}}).
			SetLimit(int64(s.opts.Concurrency-q.total)).
			SetProjection(bson.D{{Key: "history", Value: 0}}))
		if err != nil {
			return fmt.Errorf("find due deliveries: %w", err)
		}
		var ds []*Delivery
		if err := cur.All(ctx, &ds); err != nil {
			return fmt.Errorf("read due deliveries: %w", err)
		}
		started := 0
		for _, d := range ds {
			if q.total >= s.opts.Concurrency {
				break
			}
			if q.busy[d.WebhookID] >= s.opts.PerWebhook {
				continue
			}
			ok, err := s.claim(ctx, d)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			q.busy[d.WebhookID]++
			q.total++
			started++
			go func() {
				s.deliver(ctx, d)
				q.done <- d.WebhookID
			}()
		}
		if started == 0 {
			return nil
		}
	}
	return nil
}

// claim makes this instance the one that sends the delivery's next
// attempt. The arbiter is the unique _id of a claim document per delivery
// state (insert is atomic on every engine; findAndModify is not on the
// embedded one). It reports false when another instance got there first.
func (s *Service) claim(ctx context.Context, d *Delivery) (bool, error) {
	now := s.timestamp()
	claimID := d.ID + "@" + strconv.FormatInt(d.Gen, 10)
	if _, err := s.claims.InsertOne(ctx, bson.D{{Key: "_id", Value: claimID}, {Key: "at", Value: now}}); err != nil {
		if dbpool.IsDuplicateKey(err) {
			return false, nil
		}
		return false, fmt.Errorf("claim delivery %s: %w", d.ID, err)
	}
	lease := bson.NewObjectID().Hex()
	until := now.Add(s.opts.AttemptTimeout + leaseMargin)
	res, err := s.deliveries.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "gen", Value: d.Gen}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: StatusDelivering}, {Key: "lease", Value: lease}, {Key: "leaseUntil", Value: until}}},
			{Key: "$inc", Value: bson.D{{Key: "gen", Value: int64(1)}}},
		})
	if err != nil || res.MatchedCount == 0 {
		// Give the claim back so the delivery is not stuck behind it.
		if _, derr := s.claims.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: claimID}}); derr != nil {
			s.logger.Warn("webhooks: give back a claim", "delivery", d.ID, "err", derr)
		}
		if err != nil {
			return false, fmt.Errorf("lease delivery %s: %w", d.ID, err)
		}
		return false, nil
	}
	d.Status, d.Lease, d.LeaseUntil, d.Gen = StatusDelivering, lease, &until, d.Gen+1
	return true, nil
}

// nextDue returns when the earliest pending delivery is due.
func (s *Service) nextDue(ctx context.Context) (time.Time, bool, error) {
	var d struct {
		Next time.Time `bson:"nextAttemptAt"`
	}
	err := s.deliveries.FindOne(ctx, bson.D{{Key: "status", Value: StatusPending}},
		options.FindOne().SetSort(bson.D{{Key: "nextAttemptAt", Value: 1}}).SetProjection(bson.D{{Key: "nextAttemptAt", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery: %w", err)
	}
	return d.Next, true, nil
}

// deliver makes one attempt of a claimed delivery and records it.
func (s *Service) deliver(ctx context.Context, d *Delivery) {
	w, err := s.hookByID(ctx, d.WebhookID)
	switch {
	case errs.Is(err, errs.NotFound):
		s.record(ctx, d, outcome{at: s.timestamp(), err: "Webhook disabled or not found"}, true)
		return
	case err != nil:
		if ctx.Err() == nil {
			s.logger.Warn("webhooks: load webhook", "webhook", d.WebhookID.Hex(), "err", err)
		}
		s.release(d, s.opts.PollInterval)
		return
	case !w.Enabled:
		s.record(ctx, d, outcome{at: s.timestamp(), err: "Webhook disabled or not found"}, true)
		return
	}
	sec, err := s.openSecret(w)
	if err != nil {
		s.logger.Error("webhooks: open the signing secret", "webhook", w.ID.Hex(), "err", err)
		s.record(ctx, d, outcome{at: s.timestamp(), err: "Cannot read the webhook secret (was UB_MASTER_KEY changed?)"}, true)
		return
	}
	o := s.post(ctx, w.URL, sec, d, s.opts.AttemptTimeout)
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short, not answered.
		s.release(d, 0)
		return
	}
	s.record(ctx, d, o, false)
}

func (s *Service) hookByID(ctx context.Context, id bson.ObjectID) (*Webhook, error) {
	var w Webhook
	err := s.hooks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "webhook %s not found", id.Hex())
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook %s: %w", id.Hex(), err)
	}
	return &w, nil
}

// record stores an attempt and the delivery's next state: delivered on
// 2xx; failed on 4xx, when final, or after the last attempt; otherwise
// pending until the next retry of the schedule.
func (s *Service) record(ctx context.Context, d *Delivery, o outcome, final bool) {
	n := d.Attempts + 1
	code, msg := o.summary()
	set := bson.D{{Key: "attempts", Value: n}, {Key: "lastAttemptAt", Value: o.at}, {Key: "responseCode", Value: code}, {Key: "error", Value: msg}}
	status := StatusPending
	switch {
	case o.success():
		status = StatusDelivered
	case final, o.final(), n > len(s.opts.RetrySchedule):
		status = StatusFailed
	default:
		set = append(set, bson.E{Key: "nextAttemptAt", Value: o.at.Add(s.opts.RetrySchedule[n-1])})
	}
	set = append(set, bson.E{Key: "status", Value: status})
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	res, err := s.deliveries.UpdateOne(rctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "lease", Value: d.Lease}},
		bson.D{
			{Key: "$set", Value: set},
			{Key: "$unset", Value: bson.D{{Key: "lease", Value: ""}, {Key: "leaseUntil", Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "gen", Value: int64(1)}}},
			{Key: "$push", Value: bson.D{{Key: "history", Value: o.attempt(n)}}},
		})
	switch {
	case err != nil:
		s.logger.Warn("webhooks: record attempt", "delivery", d.ID, "err", err)
		return
	case res.MatchedCount == 0: // deleted with its webhook, or the lease ran out and was taken over
		s.logger.Info("webhooks: attempt not recorded: the delivery was deleted or taken over", "delivery", d.ID)
		return
	}
	attrs := []any{"delivery", d.ID, "webhook", d.WebhookID.Hex(), "event", d.Event, "attempt", n, "status", status, "code", o.code}
	if o.err != "" {
		attrs = append(attrs, "err", o.err)
	}
	if status == StatusFailed {
		s.logger.Warn("webhook delivery failed", attrs...)
	} else {
		s.logger.Debug("webhook delivery attempt", attrs...)
	}
	if status != StatusPending {
		s.finished(rctx, d.WebhookID)
	}
}

// release hands a claimed delivery back, due after the given wait,
// without counting an attempt.
func (s *Service) release(d *Delivery, after time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	_, err := s.deliveries.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "lease", Value: d.Lease}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: StatusPending}, {Key: "nextAttemptAt", Value: s.timestamp().Add(after)}}},
			{Key: "$unset", Value: bson.D{{Key: "lease", Value: ""}, {Key: "leaseUntil", Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "gen", Value: int64(1)}}},
		})
	if err != nil {
		s.logger.Warn("webhooks: hand back a delivery", "delivery", d.ID, "err", err)
	}
}
