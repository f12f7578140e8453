package analytics

import (
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestHistogramQuantiles(t *testing.T) {
	h := newHistogram()
	for i := 1; i <= 100; i++ {
		h.observe(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q      float64
		lo, hi float64
	}{{0.5, 50, 56}, {0.99, 99, 111}, {0.01, 1, 1.12}} {
		if got := h.Quantile(tc.q); got < tc.lo || got > tc.hi {
			t.Errorf("Quantile(%v) = %v, want in [%v, %v]", tc.q, got, tc.lo, tc.hi)
		}
	}
	if got := newHistogram().Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}

func TestRecorderSecondsMinutesAndLog(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 10, 0, 10, 0, time.UTC)}
	r := NewRecorder(c.now)
	p := bson.NewObjectID()
	for i := range 10 {
		status := 200
		if i%5 == 0 {
			status = 404
		}
		r.Record(Request{Project: p, Door: REST, Method: "GET", Route: "/api/data/{collection}", Path: "/api/data/posts", Status: status, Latency: time.Duration(i+1) * time.Millisecond})
	}
	if got := r.LastSecond(p); got.Requests != 0 {
		t.Errorf("last second before the second ended: %d requests, want 0", got.Requests)
	}
	c.t = c.t.Add(time.Second)
	last := r.LastSecond(p)
	if last.Requests != 10 || last.Errors != 2 || last.Status["2xx"] != 8 || last.Status["4xx"] != 2 || last.Doors["rest"] != 10 {
		t.Errorf("last second: %+v", last)
	}
	if top := last.TopRoutes(5); len(top) != 1 || top[0].Count != 10 || top[0].Route != "/api/data/{collection}" {
		t.Errorf("top routes: %+v", top)
	}
	c.t = c.t.Add(2 * time.Second)
	if got := r.LastSecond(p); got.Requests != 0 {
		t.Errorf("an idle second shows %d requests", got.Requests)
	}
	recent := r.Recent(p, 3)
	if len(recent) != 3 || recent[0].LatencyMs != 10 || recent[0].Path != "/api/data/posts" {
		t.Errorf("recent: %+v", recent)
	}
	c.t = c.t.Add(time.Minute)
	done := r.takeDone(false)
	if len(done) != 1 || done[0].counts.Requests != 10 {
		t.Errorf("finished minutes: %+v", done)
	}
}

func TestStoreMergesInstances(t *testing.T) {
	db := testdb.Client(t).Database(testdb.Name(t))
	c := &clock{t: time.Date(2026, 1, 1, 10, 0, 10, 0, time.UTC)}
	p := bson.NewObjectID()
	ra, rb := NewRecorder(c.now), NewRecorder(c.now)
	sa, sb := NewStore(db, ra, nil, c.now), NewStore(db, rb, nil, c.now)
	ctx := context.Background()
	if err := sa.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ra.Record(Request{Project: p, Door: REST, Method: "GET", Route: "/x", Status: 200, Latency: time.Millisecond})
	}
	for range 5 {
		rb.Record(Request{Project: p, Door: GraphQL, Method: "POST", Route: "/graphql", Status: 500, Latency: 20 * time.Millisecond})
	}
	c.t = c.t.Add(time.Second)
	for _, s := range []*Store{sa, sb} {
		if err := s.Flush(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	live, recent, err := sa.Live(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if live.Requests != 8 || live.Errors != 5 || live.Doors["graphql"] != 5 || len(recent) != 8 {
		t.Errorf("merged live: %d requests, %d errors, doors %v, %d recent; want 8, 5, graphql 5, 8", live.Requests, live.Errors, live.Doors, len(recent))
	}
	if q := live.Latency.Quantile(0.99); q < 20 || q > 23 {
		t.Errorf("merged p99 = %v ms, want about 20", q)
	}
	// The minute documents add up too, and flushing twice counts once.
	for _, s := range []*Store{sa, sb, sa} {
		if err := s.Flush(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	total, err := sa.Total(ctx, p, c.t.Add(-time.Hour), c.t.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if total.Requests != 8 {
		t.Errorf("total = %d, want 8", total.Requests)
	}
	hist, err := sa.History(ctx, p, c.t.Add(-2*time.Minute), c.t.Add(time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, b := range hist {
		sum += b.Counts.Requests
	}
	// 09:58, 09:59, 10:00 (the traffic) and 10:01 (until 10:01:11).
	if len(hist) != 4 || sum != 8 || hist[2].Counts.Requests != 8 || !hist[2].Start.Equal(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("history: %d spans, %d requests, third %+v; want 4, 8, 8 at 10:00", len(hist), sum, hist[2])
	}
}

func BenchmarkRecord(b *testing.B) {
	r := NewRecorder(nil)
	p := bson.NewObjectID()
	req := Request{Project: p, Door: REST, Method: "GET", Route: "/api/data/{collection}/{id}", Path: "/api/data/posts/1", Status: 200, Latency: 3 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		r.Record(req)
	}
}
