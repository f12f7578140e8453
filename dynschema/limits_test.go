package dynschema

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/projects"
)

// fakeSnapshots answers ByID from a map; a missing project is NotFound,
// unless down is set.
type fakeSnapshots struct {
	mu    sync.Mutex
	snaps map[bson.ObjectID]*catalog.Snapshot
	down  bool
}

func (f *fakeSnapshots) ByID(_ context.Context, id bson.ObjectID) (*catalog.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errs.New(errs.Unavailable, "database unavailable")
	}
	if s, ok := f.snaps[id]; ok {
		return s, nil
	}
	return nil, errs.New(errs.NotFound, "project not found")
}

func (f *fakeSnapshots) set(s *catalog.Snapshot) {
	f.mu.Lock()
	f.snaps[s.Project.ID] = s
	f.mu.Unlock()
}

func TestHandlerSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &fakeSnapshots{snaps: map[bson.ObjectID]*catalog.Snapshot{}}
	h := NewHandler(Options{
		Deps: Deps{Data: &fakeData{}, Auth: fakeAuth{}, Snapshots: src},
		Now:  func() time.Time { return now },
	})
	project := func(fields ...F) *catalog.Snapshot {
		s := snapshot(coll("notes", fields...))
		s.Project = &projects.Project{ID: bson.NewObjectID()}
		return s
	}
	build := func(s *catalog.Snapshot) {
		t.Helper()
		src.set(s)
		if _, err := h.server(s); err != nil {
			t.Fatal(err)
		}
	}
	cached := func(s *catalog.Snapshot) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.projects[s.Project.ID] != nil
	}

	kept, changed, renamed, deleted := project(), project(), project(), project()
	for _, s := range []*catalog.Snapshot{kept, changed, renamed, deleted} {
		build(s)
	}
	// changed: a new snapshot with the same collections (a rotated key):
	// the server stays. renamed: its collections changed: it goes.
	same := *changed
	src.set(&same)
	other := project(F{Key: "title", Type: collections.String})
	other.Project = renamed.Project
	src.set(other)
	src.mu.Lock()
	delete(src.snaps, deleted.Project.ID)
	src.mu.Unlock()

	h.Sweep(context.Background())
	if !cached(kept) || !cached(changed) || cached(renamed) || cached(deleted) {
		t.Errorf("after the sweep: kept %v, same collections %v, changed collections %v, deleted %v; want true true false false",
			cached(kept), cached(changed), cached(renamed), cached(deleted))
	}

	// While the catalog cannot answer, nothing is dropped.
	src.mu.Lock()
	src.down = true
	delete(src.snaps, kept.Project.ID)
	src.mu.Unlock()
	h.Sweep(context.Background())
	if !cached(kept) {
		t.Error("dropped while the catalog was unavailable")
	}
	src.mu.Lock()
	src.down = false
	src.snaps[kept.Project.ID] = kept
	src.mu.Unlock()

	// Unused servers go after IdleTTL; a used one stays.
	now = now.Add(DefaultIdleTTL / 2)
	build(kept)
	now = now.Add(DefaultIdleTTL/2 + time.Second)
	h.Sweep(context.Background())
	if !cached(kept) || cached(changed) {
		t.Errorf("idle sweep: used %v, unused %v; want true false", cached(kept), cached(changed))
	}

	h.Evict(kept.Project.ID)
	if s := h.Stats(); s.Projects != 0 {
		t.Errorf("after Evict: %d cached, want 0", s.Projects)
	}
}

func TestWebsocketCounters(t *testing.T) {
	h := NewHandler(Options{MaxSubscriptionsPerConnection: 2, MaxConnectionsPerProject: 1})
	p, q := bson.NewObjectID(), bson.NewObjectID()
	a, b, c := &wsConn{h: h}, &wsConn{h: h}, &wsConn{h: h}
	if err := a.acquire(p); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(p); !errs.Is(err, errs.RateLimited) || errs.ClientMessage(err) != "Too many websocket connections for this project (limit 1)." {
		t.Fatalf("second connection: %v", err)
	}
	if err := c.acquire(q); err != nil {
		t.Fatalf("another project: %v", err)
	}
	if s := h.Stats(); s.Websockets != 2 {
		t.Errorf("%d websockets, want 2", s.Websockets)
	}
	a.release()
	a.release() // twice is harmless
	if err := b.acquire(p); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	b.release()
	c.release()
	if s := h.Stats(); s.Websockets != 0 || len(h.conns) != 0 {
		t.Errorf("after all releases: %+v, %v", s, h.conns)
	}

	end1, err := a.startSubscription()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.startSubscription(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.startSubscription(); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("third subscription: %v", err)
	}
	end1()
	end1() // once only
	if _, err := a.startSubscription(); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	if _, err := a.startSubscription(); !errs.Is(err, errs.RateLimited) {
		t.Fatalf("ending one twice freed two places: %v", err)
	}
}
