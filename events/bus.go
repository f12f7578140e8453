package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
)

// Defaults of Options.
const (
	DefaultPollInterval  = 200 * time.Millisecond
	DefaultRetention     = time.Hour
	DefaultGapWait       = 2 * time.Second
	DefaultSweepInterval = time.Minute
	DefaultBatchSize     = 1000
	// DefaultBuffer is the channel buffer of a subscription created with
	// buffer <= 0.
	DefaultBuffer = 16
)

const (
	counterID = "events" // the counter document's _id in "counters"
	// storeTimeout bounds Emit's database work; the write it reports has
	// already committed, so Emit must return.
	storeTimeout = 10 * time.Second
	// maxStoreAttempts bounds the retries when a sequence number turns out
	// to be taken (the embedded database's counter update is not atomic).
	maxStoreAttempts = 50
	// maxSince bounds one Since page.
	maxSince = 1000
)

// Options tunes a Bus; a zero field means its default.
type Options struct {
	// PollInterval is how often the log is read for other instances'
	// events (default 200ms).
	PollInterval time.Duration
	// Retention is how long events stay in the log (default 1h).
	Retention time.Duration
	// GapWait is how long a missing sequence number, with higher ones
	// already known, is waited for before it is skipped (default 2s).
	GapWait time.Duration
	// InstanceID names this instance in the log (default random). Two
	// running instances must never share one.
	InstanceID string
	// SweepInterval is how often expired events are deleted (default 1m).
	SweepInterval time.Duration
	// BatchSize bounds the events read from the log per query (default
	// 1000).
	BatchSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.GapWait <= 0 {
		o.GapWait = DefaultGapWait
	}
	if o.InstanceID == "" {
		o.InstanceID = bson.NewObjectID().Hex()
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Bus numbers, stores and delivers events. Create it with New, call
// EnsureIndexes once at start-up and Run for the life of the server.
type Bus struct {
	log      *mongo.Collection // the events: {_id: seq, projectId, collection, op, id, doc, at, origin}
	counters *mongo.Collection // {_id: "events", seq}
	logger   *slog.Logger
	opts     Options
	wake     chan struct{} // asks Run to poll now (a local event waits on a gap)
	ready    chan struct{} // closed when Run first knows where the log stands
	once     sync.Once

	reg   registry
	seq   sequencer
	alloc allocator

	collisions atomic.Int64 // numbers found taken at insert, for tests

	lastSweep time.Time // Run's goroutine only
}

var _ data.Emitter = (*Bus)(nil)

// New returns a Bus whose log and counter live in platformDB.
func New(platformDB *mongo.Database, logger *slog.Logger, opts Options) *Bus {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	return &Bus{
		log:      platformDB.Collection("events"),
		counters: platformDB.Collection("counters"),
		logger:   logger,
		opts:     opts,
		wake:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
		reg:      registry{topics: map[topicKey]*topic{}},
		seq:      newSequencer(),
	}
}

// InstanceID is the origin this instance writes into the log.
func (b *Bus) InstanceID() string { return b.opts.InstanceID }

// EnsureIndexes creates the index the sweeper uses (the pollers read by
// _id, which is always indexed).
func (b *Bus) EnsureIndexes(ctx context.Context) error {
	return dbpool.EnsureIndexes(ctx, b.log, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("ub_at")})
}

// Emit records a committed write and delivers it: to this instance's
// subscribers at once (once every lower number is delivered, which takes
// a poll when another instance holds one, at most GapWait), and through
// the log to the other instances'. It returns after the log write (two
// round trips; concurrent Emits share the counter's). It never fails the
// write: when the log cannot be written it logs the error and still
// delivers locally.
func (b *Bus) Emit(ctx context.Context, de data.Event) {
	ev := Event{
		ProjectID:  de.ProjectID,
		Collection: de.Collection,
		Op:         string(de.Op),
		ID:         de.ID,
		Doc:        bson.D(de.Doc),
		At:         b.opts.Now().UTC().Truncate(time.Millisecond),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	seq, err := b.store(ctx, &ev)
	cancel()
	if err != nil {
		b.logger.Error("record event; other instances will not see it", "project", ev.ProjectID.Hex(), "collection", ev.Collection, "op", ev.Op, "id", ev.ID.Hex(), "seq", seq, "err", err)
	}
	ev.Seq = seq
	if b.seq.offerLocal(ev, b.opts.Now()) {
		b.poke()
	}
	b.drain()
}

// store numbers the event and appends it to the log. It returns the
// number the event holds: 0 when none could be had, otherwise the number
// even when the insert failed (this instance then still delivers it in
// order; the others skip it after GapWait).
func (b *Bus) store(ctx context.Context, ev *Event) (int64, error) {
	for attempt := 1; ; attempt++ {
		seq, err := b.nextSeq(ctx)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		ev.Seq = seq
		_, err = b.log.InsertOne(ctx, toRecord(ev, b.opts.InstanceID))
		if err == nil {
			if d := time.Since(start); d > b.opts.GapWait {
				b.logger.Warn("event stored later than the gap wait; other instances may have skipped it", "seq", seq, "took", d)
			}
			return seq, nil
		}
		if !dbpool.IsDuplicateKey(err) {
			return seq, fmt.Errorf("insert event %d: %w", seq, err)
		}
		// The number was handed out twice: on the embedded database the
		// counter update reads and writes in two steps, so two instances
		// can get the same number. The log's _id decided against us;
		// take another.
		b.seq.unclaim(seq)
		b.collisions.Add(1)
		if attempt >= maxStoreAttempts {
			return 0, fmt.Errorf("insert event: %d sequence numbers in a row were taken: %w", attempt, err)
		}
	}
}

// nextSeq hands out the next sequence number, claimed for this instance.
// One counter update runs at a time per instance and serves everyone who
// queued meanwhile ($inc by their number), so concurrent writers here
// cost one round trip between them and never collide with each other.
func (b *Bus) nextSeq(ctx context.Context) (int64, error) {
	a := &b.alloc
	ch := make(chan allocation, 1)
	a.mu.Lock()
	a.queue = append(a.queue, ch)
	a.mu.Unlock()

	a.inc.Lock()
	a.mu.Lock()
	batch := a.queue
	a.queue = nil
	a.mu.Unlock()
	if len(batch) > 0 { // else a previous holder served us
		hi, err := b.incCounter(ctx, len(batch))
		lo := hi - int64(len(batch)) + 1
		if err == nil {
			b.seq.claimRange(lo, hi)
		}
		for i, w := range batch {
			w <- allocation{seq: lo + int64(i), err: err}
		}
	}
	a.inc.Unlock()
	r := <-ch
	return r.seq, r.err
}

// allocator batches counter updates.
type allocator struct {
	inc   sync.Mutex // held during a counter update
	mu    sync.Mutex // guards queue
	queue []chan allocation
}

type allocation struct {
	seq int64
	err error
}

// incCounter adds n to the counter and returns its new value.
func (b *Bus) incCounter(ctx context.Context, n int) (int64, error) {
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var err error
	for range 5 {
		var c struct {
			Seq int64 `bson:"seq"`
		}
		err = b.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: counterID}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(n)}}}}, opts).Decode(&c)
		if err == nil {
			return c.Seq, nil
		}
		// Two first upserts race to create the counter; the loser retries.
		if !dbpool.IsDuplicateKey(err) {
			break
		}
	}
	return 0, fmt.Errorf("next event sequence: %w", err)
}

// LastSeq returns the highest sequence number handed out so far (0 when
// none). Events up to it may still be in flight; Since from it misses
// none that are committed later. Errors: Internal.
func (b *Bus) LastSeq(ctx context.Context) (int64, error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	err := b.counters.FindOne(ctx, bson.D{{Key: "_id", Value: counterID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, errs.Wrap(errs.Internal, fmt.Errorf("read event sequence: %w", err), "Failed to read events.")
	}
	return c.Seq, nil
}

// Since returns up to limit stored events (at most 1000; limit <= 0 means
// 1000) with sequence numbers above seq, ascending. Events expire after
// Retention; a number missing from the answer was skipped, has expired or
// is still in flight. Errors: Internal.
func (b *Bus) Since(ctx context.Context, seq int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > maxSince {
		limit = maxSince
	}
	recs, err := b.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: seq}}}}, limit)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to read events.")
	}
	out := make([]Event, len(recs))
	for i := range recs {
		out[i] = recs[i].event()
	}
	return out, nil
}

func (b *Bus) find(ctx context.Context, filter bson.D, limit int) ([]record, error) {
	cur, err := b.log.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	var recs []record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return recs, nil
}

// poke asks Run to poll now, without waiting.
func (b *Bus) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}
