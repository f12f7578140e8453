// Package catalog resolves API keys to project snapshots (the project, its
// collection definitions, its JWT secret and database) from an in-memory
// cache, so a warm key costs no database round trip. Changes made by this
// instance evict at once; changes made by other instances sharing the
// platform database arrive through an invalidation log polled every
// PollInterval.
package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/secret"
)

// PollInterval is how often other instances' changes are picked up.
const PollInterval = 500 * time.Millisecond

// keep is how long invalidation records are kept; pollers look back a
// little further than their last poll to absorb clock skew between
// instances.
const (
	keep     = time.Hour
	lookBack = 5 * time.Second
)

// Snapshot is what a request needs to know about its project. It is
// immutable; a change produces a new snapshot.
type Snapshot struct {
	Project     *projects.Project
	Collections map[string]*collections.Collection
	JWTSecret   []byte
	DB          *mongo.Database
}

// Collection returns a definition by exact name. Errors: NotFound with the
// contract's message.
func (s *Snapshot) Collection(name string) (*collections.Collection, error) {
	c, ok := s.Collections[name]
	if !ok {
		return nil, errs.New(errs.NotFound, "Collection not found")
	}
	return c, nil
}

type entry struct {
	snap *Snapshot
	kind projects.KeyKind
}

// Catalog is the cache.
type Catalog struct {
	projects *projects.Service
	colls    *collections.Service
	log      *mongo.Collection
	logger   *slog.Logger
	now      func() time.Time

	mu     sync.RWMutex
	byHash map[string]entry            // sha256(key) → entry
	hashes map[bson.ObjectID][]string  // project → its cached key hashes
	byID   map[bson.ObjectID]*Snapshot // project → snapshot
	gen    map[bson.ObjectID]uint64    // bumped on eviction, to drop stale loads
	seen   map[bson.ObjectID]time.Time // invalidation records already applied
}

// New returns a Catalog. platformDB holds the invalidation log.
func New(platformDB *mongo.Database, ps *projects.Service, cs *collections.Service, logger *slog.Logger, now func() time.Time) *Catalog {
	if now == nil {
		now = time.Now
	}
	return &Catalog{
		projects: ps,
		colls:    cs,
		log:      platformDB.Collection("invalidations"),
		logger:   logger,
		now:      now,
		byHash:   map[string]entry{},
		hashes:   map[bson.ObjectID][]string{},
		byID:     map[bson.ObjectID]*Snapshot{},
		gen:      map[bson.ObjectID]uint64{},
		seen:     map[bson.ObjectID]time.Time{},
	}
}

// EnsureIndexes creates the index the pollers use.
func (c *Catalog) EnsureIndexes(ctx context.Context) error {
	return dbpool.EnsureIndexes(ctx, c.log, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("ub_at")})
}

// ByKey returns the snapshot of the project an API key belongs to, and the
// key's kind. Errors: Unauthenticated (contract messages), Unavailable.
func (c *Catalog) ByKey(ctx context.Context, key string) (*Snapshot, projects.KeyKind, error) {
	if key == "" {
		return nil, "", errs.New(errs.Unauthenticated, "API key not found")
	}
	h := secret.Hash(key)
	c.mu.RLock()
	e, ok := c.byHash[h]
	c.mu.RUnlock()
	if ok {
		return e.snap, e.kind, nil
	}
	p, kind, err := c.projects.Authenticate(ctx, key)
	if err != nil {
		return nil, "", err
	}
	c.mu.RLock()
	gen := c.gen[p.ID]
	c.mu.RUnlock()
	snap, err := c.load(ctx, p)
	if err != nil {
		return nil, "", err
	}
	c.mu.Lock()
	if c.gen[p.ID] == gen { // not invalidated while loading
		c.byHash[h] = entry{snap: snap, kind: kind}
		c.hashes[p.ID] = append(c.hashes[p.ID], h)
		c.byID[p.ID] = snap
	}
	c.mu.Unlock()
	return snap, kind, nil
}

// ByID returns a project's snapshot (for connections authenticated
// earlier, such as subscriptions). Errors: NotFound.
func (c *Catalog) ByID(ctx context.Context, id bson.ObjectID) (*Snapshot, error) {
	c.mu.RLock()
	snap, ok := c.byID[id]
	gen := c.gen[id]
	c.mu.RUnlock()
	if ok {
		return snap, nil
	}
	p, err := c.projects.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	snap, err = c.load(ctx, p)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen[id] == gen {
		c.byID[id] = snap
	}
	c.mu.Unlock()
	return snap, nil
}

func (c *Catalog) load(ctx context.Context, p *projects.Project) (*Snapshot, error) {
	list, err := c.colls.List(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	js, err := c.projects.JWTSecret(p)
	if err != nil {
		return nil, err
	}
	db, err := c.projects.Database(ctx, p)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*collections.Collection, len(list))
	for _, col := range list {
		m[col.Name] = col
	}
	return &Snapshot{Project: p, Collections: m, JWTSecret: js, DB: db}, nil
}

// Invalidate drops a project's cached snapshot here at once and records the
// change for the other instances. It implements the hook that projects and
// collections call after every change.
func (c *Catalog) Invalidate(ctx context.Context, projectID bson.ObjectID) {
	c.evict(projectID)
	_, err := c.log.InsertOne(context.WithoutCancel(ctx), bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "projectId", Value: projectID},
		{Key: "at", Value: c.now().UTC()},
	})
	if err != nil {
		// Other instances then see the change only when their entry is
		// evicted otherwise; say so loudly.
		c.logger.Error("record cache invalidation", "project", projectID.Hex(), "err", err)
	}
}

func (c *Catalog) evict(id bson.ObjectID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.hashes[id] {
		delete(c.byHash, h)
	}
	delete(c.hashes, id)
	delete(c.byID, id)
	c.gen[id]++
}

// Run polls the invalidation log until ctx is done, evicting what other
// instances changed, and removes records older than an hour.
func (c *Catalog) Run(ctx context.Context) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	since := c.now().UTC()
	lastSweep := since
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := c.poll(ctx, since)
		if err != nil {
			if ctx.Err() == nil {
				c.logger.Warn("poll cache invalidations", "err", err)
			}
			continue
		}
		since = next
		if c.now().Sub(lastSweep) > time.Minute {
			lastSweep = c.now()
			if _, err := c.log.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: c.now().UTC().Add(-keep)}}}}); err != nil && ctx.Err() == nil {
				c.logger.Warn("sweep cache invalidations", "err", err)
			}
		}
	}
}

// poll evicts every project changed since since (minus lookBack) and
// returns the time to poll from next.
func (c *Catalog) poll(ctx context.Context, since time.Time) (time.Time, error) {
	start := c.now().UTC()
	cur, err := c.log.Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since.Add(-lookBack)}}}})
	if err != nil {
		return since, fmt.Errorf("find invalidations: %w", err)
	}
	var recs []struct {
		ID        bson.ObjectID `bson:"_id"`
		ProjectID bson.ObjectID `bson:"projectId"`
	}
	if err := cur.All(ctx, &recs); err != nil {
		return since, fmt.Errorf("read invalidations: %w", err)
	}
	for _, r := range recs {
		// Records come back for lookBack more polls; apply each once.
		if _, done := c.seen[r.ID]; done {
			continue
		}
		c.seen[r.ID] = start
		c.evict(r.ProjectID)
	}
	for id, at := range c.seen {
		if start.Sub(at) > 2*lookBack {
			delete(c.seen, id)
		}
	}
	return start, nil
}
