// Package analytics counts each project's traffic in memory, per second,
// and flushes per-minute buckets to the platform database: no database
// write per request. Live figures of every instance are merged through a
// small per-second document each instance writes for its active projects.
package analytics

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Door is how a request came in.
type Door string

// The doors.
const (
	REST      Door = "rest"
	GraphQL   Door = "graphql"
	Websocket Door = "websocket"
	Storage   Door = "storage"
	Auth      Door = "auth"
)

// Request is one finished request of a project.
type Request struct {
	Project  bson.ObjectID
	Door     Door
	Method   string
	Route    string // the route pattern, e.g. "/api/data/{collection}/{id}"
	Path     string // the path without its query string (never keys)
	Status   int
	Latency  time.Duration
	BytesIn  int64
	BytesOut int64
	At       time.Time
}

// Counts are the figures of a span of time. They add up across seconds
// and instances.
type Counts struct {
	Requests uint64            `bson:"requests"`
	Errors   uint64            `bson:"errors"`
	Status   map[string]uint64 `bson:"status"` // "2xx" → n
	Doors    map[string]uint64 `bson:"doors"`
	Methods  map[string]uint64 `bson:"methods"`
	BytesIn  uint64            `bson:"bytesIn"`
	BytesOut uint64            `bson:"bytesOut"`
	Latency  Histogram         `bson:"latency"`
	Routes   map[string]*Route `bson:"routes"` // "GET /api/data/{collection}" → figures
}

// Route are one route's figures.
type Route struct {
	Count     uint64  `bson:"count"`
	Errors    uint64  `bson:"errors"`
	LatencyMs float64 `bson:"latencyMs"` // sum, for the mean
}

func newCounts() *Counts {
	return &Counts{Status: map[string]uint64{}, Doors: map[string]uint64{}, Methods: map[string]uint64{}, Latency: newHistogram(), Routes: map[string]*Route{}}
}

// maxRoutes bounds the distinct routes kept per bucket.
const maxRoutes = 200

func (c *Counts) add(r Request) {
	c.Requests++
	if r.Status >= 400 {
		c.Errors++
	}
	c.Status[statusClass(r.Status)]++
	c.Doors[string(r.Door)]++
	c.Methods[r.Method]++
	if r.BytesIn > 0 {
		c.BytesIn += uint64(r.BytesIn)
	}
	if r.BytesOut > 0 {
		c.BytesOut += uint64(r.BytesOut)
	}
	c.Latency.observe(r.Latency)
	route := r.Route
	if route == "" {
		route = "(unmatched)"
	}
	// Stored as a document key: no dots, no leading $.
	key := r.Method + " " + strings.TrimLeft(strings.ReplaceAll(route, ".", "_"), "$")
	rt := c.Routes[key]
	if rt == nil {
		if len(c.Routes) >= maxRoutes {
			key = r.Method + " (other)"
			rt = c.Routes[key]
		}
		if rt == nil {
			rt = &Route{}
			c.Routes[key] = rt
		}
	}
	rt.Count++
	if r.Status >= 400 {
		rt.Errors++
	}
	rt.LatencyMs += float64(r.Latency) / float64(time.Millisecond)
}

// Merge adds o into c.
func (c *Counts) Merge(o *Counts) {
	if o == nil {
		return
	}
	c.Requests += o.Requests
	c.Errors += o.Errors
	for k, v := range o.Status {
		c.Status[k] += v
	}
	for k, v := range o.Doors {
		c.Doors[k] += v
	}
	for k, v := range o.Methods {
		c.Methods[k] += v
	}
	c.BytesIn += o.BytesIn
	c.BytesOut += o.BytesOut
	if len(o.Latency) > 0 {
		c.Latency.Add(o.Latency)
	}
	for k, v := range o.Routes {
		rt := c.Routes[k]
		if rt == nil {
			rt = &Route{}
			c.Routes[k] = rt
		}
		rt.Count += v.Count
		rt.Errors += v.Errors
		rt.LatencyMs += v.LatencyMs
	}
}

// TopRoutes returns the n busiest routes.
func (c *Counts) TopRoutes(n int) []RouteStat {
	out := make([]RouteStat, 0, len(c.Routes))
	for k, v := range c.Routes {
		method, route, _ := strings.Cut(k, " ")
		s := RouteStat{Method: method, Route: route, Count: v.Count, Errors: v.Errors}
		if v.Count > 0 {
			s.AvgLatencyMs = v.LatencyMs / float64(v.Count)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Method+out[i].Route < out[j].Method+out[j].Route
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// RouteStat is one line of the top routes.
type RouteStat struct {
	Method, Route string
	Count, Errors uint64
	AvgLatencyMs  float64
}

func statusClass(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return string(rune('0'+s/100)) + "xx"
}

// LogEntry is one line of the recent-requests log: never keys, tokens,
// query strings or bodies.
type LogEntry struct {
	Method    string    `bson:"method"`
	Path      string    `bson:"path"`
	Status    int       `bson:"status"`
	LatencyMs float64   `bson:"latencyMs"`
	At        time.Time `bson:"at"`
}

// recentCap is the size of each project's recent-requests log.
const recentCap = 200

// project is one project's live state in this instance.
type project struct {
	second    int64   // unix second of cur
	cur       *Counts // the second being counted
	last      *Counts // the last complete second
	lastAt    int64
	minute    int64 // unix minute of min
	min       *Counts
	recent    []LogEntry // ring
	recentPos int
}

// Recorder counts requests. It is safe for concurrent use.
type Recorder struct {
	now func() time.Time
	mu  sync.Mutex
	ps  map[bson.ObjectID]*project
	// all counts every request of every project since start (for
	// /metrics).
	all *Counts
	// done holds finished minutes waiting to be flushed.
	done []minuteBucket
}

type minuteBucket struct {
	project bson.ObjectID
	minute  int64
	counts  *Counts
}

// NewRecorder returns an empty recorder.
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, ps: map[bson.ObjectID]*project{}, all: newCounts()}
}

// Record counts one request.
func (r *Recorder) Record(req Request) {
	if req.At.IsZero() {
		req.At = r.now()
	}
	sec := req.At.Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.ps[req.Project]
	if p == nil {
		p = &project{second: sec, cur: newCounts(), minute: sec / 60, min: newCounts(), recent: make([]LogEntry, 0, 16)}
		r.ps[req.Project] = p
	}
	r.roll(req.Project, p, sec)
	p.cur.add(req)
	p.min.add(req)
	r.all.Requests++
	if req.Status >= 400 {
		r.all.Errors++
	}
	r.all.Status[statusClass(req.Status)]++
	r.all.Doors[string(req.Door)]++
	r.all.Latency.observe(req.Latency)
	r.all.BytesIn += uint64(max(req.BytesIn, 0))
	r.all.BytesOut += uint64(max(req.BytesOut, 0))
	e := LogEntry{Method: req.Method, Path: req.Path, Status: req.Status, LatencyMs: float64(req.Latency.Microseconds()) / 1000, At: req.At.UTC()}
	if len(p.recent) < recentCap {
		p.recent = append(p.recent, e)
	} else {
		p.recent[p.recentPos] = e
		p.recentPos = (p.recentPos + 1) % recentCap
	}
}

// roll moves p's buckets forward to second sec (with r.mu held).
func (r *Recorder) roll(id bson.ObjectID, p *project, sec int64) {
	if sec > p.second {
		if sec == p.second+1 {
			p.last, p.lastAt = p.cur, p.second
		} else {
			p.last, p.lastAt = newCounts(), sec-1
		}
		p.cur, p.second = newCounts(), sec
	}
	if m := sec / 60; m > p.minute {
		if p.min.Requests > 0 {
			r.done = append(r.done, minuteBucket{project: id, minute: p.minute, counts: p.min})
		}
		p.min, p.minute = newCounts(), m
	}
}

// LastSecond returns the counts of the last complete second of a project
// in this instance (empty when it had no traffic).
func (r *Recorder) LastSecond(id bson.ObjectID) *Counts {
	sec := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := newCounts()
	p := r.ps[id]
	if p == nil {
		return out
	}
	r.roll(id, p, sec)
	if p.lastAt == sec-1 && p.last != nil {
		out.Merge(p.last)
	}
	return out
}

// Pending returns the counts of a project's current, not yet flushed
// minute in this instance.
func (r *Recorder) Pending(id bson.ObjectID) *Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := newCounts()
	if p := r.ps[id]; p != nil {
		out.Merge(p.min)
	}
	return out
}

// Recent returns a project's recent requests in this instance, newest
// first.
func (r *Recorder) Recent(id bson.ObjectID, n int) []LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.ps[id]
	if p == nil {
		return nil
	}
	out := make([]LogEntry, 0, len(p.recent))
	for i := range p.recent {
		idx := (p.recentPos - 1 - i + 2*len(p.recent)) % len(p.recent)
		out = append(out, p.recent[idx])
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// takeDone returns the finished minutes and, when all is true, the
// current ones too (on shutdown).
func (r *Recorder) takeDone(all bool) []minuteBucket {
	sec := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.ps {
		r.roll(id, p, sec)
		if all && p.min.Requests > 0 {
			r.done = append(r.done, minuteBucket{project: id, minute: p.minute, counts: p.min})
			p.min = newCounts()
		}
	}
	out := r.done
	r.done = nil
	return out
}

// Totals returns the counts of every request since start (routes not
// kept), and how many projects had traffic.
func (r *Recorder) Totals() (*Counts, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := newCounts()
	out.Merge(r.all)
	return out, len(r.ps)
}

// Bounds are the histogram's upper bounds in milliseconds.
func Bounds() []float64 { return bounds }

// projects lists the projects with live state.
func (r *Recorder) projects() []bson.ObjectID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]bson.ObjectID, 0, len(r.ps))
	for id := range r.ps {
		out = append(out, id)
	}
	return out
}

// Slot carries, through one request, the project the request turned out
// to belong to; the transport that resolves the key fills it in.
type Slot struct {
	mu      sync.Mutex
	project bson.ObjectID
}

type slotKey struct{}

// WithSlot returns a context with an empty slot.
func WithSlot(ctx context.Context) (context.Context, *Slot) {
	s := &Slot{}
	return context.WithValue(ctx, slotKey{}, s), s
}

// SetProject records which project a request belongs to, when the context
// has a slot.
func SetProject(ctx context.Context, id bson.ObjectID) {
	if s, ok := ctx.Value(slotKey{}).(*Slot); ok {
		s.mu.Lock()
		s.project = id
		s.mu.Unlock()
	}
}

// Project returns the recorded project, if any.
func (s *Slot) Project() (bson.ObjectID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.project, !s.project.IsZero()
}
