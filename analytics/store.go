package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/secret"
)

// Store persists what a Recorder counts: every second, for each project
// with traffic, the current minute's counts (replacing the instance's own
// minute document, so a crash loses at most a second) and the last
// second's counts and recent requests (the live document every instance
// reads to merge ticks).
type Store struct {
	rec      *Recorder
	minutes  *mongo.Collection
	live     *mongo.Collection
	instance string
	logger   *slog.Logger
	now      func() time.Time
	// Retention is how long minute buckets are kept (default 90 days).
	Retention time.Duration
}

// NewStore returns a Store writing rec's counts to platformDB.
func NewStore(platformDB *mongo.Database, rec *Recorder, logger *slog.Logger, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		rec: rec, minutes: platformDB.Collection("analytics_minutes"), live: platformDB.Collection("analytics_live"),
		instance: secret.Token(9), logger: logger, now: now, Retention: 90 * 24 * time.Hour,
	}
}

// EnsureIndexes creates the indexes the queries use.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := dbpool.EnsureIndexes(ctx, s.minutes, mongo.IndexModel{Keys: bson.D{{Key: "project", Value: 1}, {Key: "minute", Value: 1}}, Options: options.Index().SetName("ub_project_minute")}); err != nil {
		return err
	}
	return dbpool.EnsureIndexes(ctx, s.live, mongo.IndexModel{Keys: bson.D{{Key: "project", Value: 1}}, Options: options.Index().SetName("ub_project")})
}

type minuteDoc struct {
	ID       string        `bson:"_id"`
	Project  bson.ObjectID `bson:"project"`
	Minute   time.Time     `bson:"minute"`
	Instance string        `bson:"instance"`
	Counts   *Counts       `bson:"counts"`
}

type liveDoc struct {
	ID       string        `bson:"_id"`
	Project  bson.ObjectID `bson:"project"`
	Instance string        `bson:"instance"`
	Second   int64         `bson:"second"`
	Counts   *Counts       `bson:"counts"`
	Recent   []LogEntry    `bson:"recent"`
	At       time.Time     `bson:"at"`
}

// Run flushes every second until ctx is done, then once more.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastSweep := s.now()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.Flush(fctx, true); err != nil {
				s.logger.Warn("final analytics flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
		}
		if err := s.Flush(ctx, false); err != nil && ctx.Err() == nil {
			s.logger.Warn("flush analytics", "err", err)
		}
		if s.now().Sub(lastSweep) > time.Hour {
			lastSweep = s.now()
			_, _ = s.minutes.DeleteMany(ctx, bson.D{{Key: "minute", Value: bson.D{{Key: "$lt", Value: s.now().Add(-s.Retention)}}}})
			_, _ = s.live.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: s.now().Add(-time.Hour)}}}})
		}
	}
}

// Flush writes finished minutes, the current minute and the live
// documents of every project with state.
func (s *Store) Flush(ctx context.Context, final bool) error {
	upsert := options.Replace().SetUpsert(true)
	for _, b := range s.rec.takeDone(final) {
		if err := s.writeMinute(ctx, b.project, b.minute, b.counts, upsert); err != nil {
			return err
		}
	}
	if final {
		return nil
	}
	now := s.now()
	for _, id := range s.rec.projects() {
		s.rec.mu.Lock()
		p := s.rec.ps[id]
		minute, pending := p.minute, newCounts()
		pending.Merge(p.min)
		idle := p.second < now.Unix()-120 && pending.Requests == 0
		s.rec.mu.Unlock()
		if idle {
			continue
		}
		if pending.Requests > 0 {
			if err := s.writeMinute(ctx, id, minute, pending, upsert); err != nil {
				return err
			}
		}
		last := s.rec.LastSecond(id)
		doc := liveDoc{ID: id.Hex() + ":" + s.instance, Project: id, Instance: s.instance, Second: now.Unix() - 1, Counts: last, Recent: s.rec.Recent(id, 50), At: now.UTC()}
		if _, err := s.live.ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc, upsert); err != nil {
			return fmt.Errorf("write live analytics: %w", err)
		}
	}
	return nil
}

func (s *Store) writeMinute(ctx context.Context, id bson.ObjectID, minute int64, c *Counts, upsert *options.ReplaceOptionsBuilder) error {
	doc := minuteDoc{ID: fmt.Sprintf("%s:%d:%s", id.Hex(), minute, s.instance), Project: id, Minute: time.Unix(minute*60, 0).UTC(), Instance: s.instance, Counts: c}
	if _, err := s.minutes.ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc, upsert); err != nil {
		return fmt.Errorf("write analytics minute: %w", err)
	}
	return nil
}

// Live merges the last complete second of every instance for a project,
// and the recent requests of all of them, newest first.
func (s *Store) Live(ctx context.Context, id bson.ObjectID) (*Counts, []LogEntry, error) {
	second := s.now().Unix() - 1
	cur, err := s.live.Find(ctx, bson.D{{Key: "project", Value: id}})
	if err != nil {
		return nil, nil, fmt.Errorf("read live analytics: %w", err)
	}
	var docs []liveDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, fmt.Errorf("read live analytics: %w", err)
	}
	out := newCounts()
	var recent []LogEntry
	for _, d := range docs {
		// This instance's own figures are fresher in memory.
		if d.Instance == s.instance {
			continue
		}
		if d.Second == second || d.Second == second+1 {
			out.Merge(d.Counts)
		}
		recent = append(recent, d.Recent...)
	}
	out.Merge(s.rec.LastSecond(id))
	recent = append(recent, s.rec.Recent(id, 50)...)
	slices.SortFunc(recent, func(a, b LogEntry) int { return b.At.Compare(a.At) })
	if len(recent) > 50 {
		recent = recent[:50]
	}
	return out, recent, nil
}

// Bucket is the merged counts of one span of a history.
type Bucket struct {
	Start  time.Time
	Counts *Counts
}

// History merges the minute buckets of every instance between from and to
// into spans of res (a minute, an hour or a day), oldest first. Spans
// without traffic are included, so a chart has no holes (at most 10,000).
func (s *Store) History(ctx context.Context, id bson.ObjectID, from, to time.Time, res time.Duration) ([]Bucket, error) {
	if res < time.Minute {
		res = time.Minute
	}
	from, to = from.UTC().Truncate(res), to.UTC()
	if n := to.Sub(from) / res; n > 10_000 {
		return nil, fmt.Errorf("history too long: %d spans", n)
	}
	cur, err := s.minutes.Find(ctx, bson.D{{Key: "project", Value: id}, {Key: "minute", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}})
	if err != nil {
		return nil, fmt.Errorf("read analytics history: %w", err)
	}
	var docs []minuteDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read analytics history: %w", err)
	}
	var out []Bucket
	index := map[int64]int{}
	for t := from; t.Before(to); t = t.Add(res) {
		index[t.Unix()] = len(out)
		out = append(out, Bucket{Start: t, Counts: newCounts()})
	}
	for _, d := range docs {
		if i, ok := index[d.Minute.Truncate(res).Unix()]; ok {
			out[i].Counts.Merge(d.Counts)
		}
	}
	return out, nil
}

// Total merges every minute bucket between from and to.
func (s *Store) Total(ctx context.Context, id bson.ObjectID, from, to time.Time) (*Counts, error) {
	cur, err := s.minutes.Find(ctx, bson.D{{Key: "project", Value: id}, {Key: "minute", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}})
	if err != nil {
		return nil, fmt.Errorf("read analytics: %w", err)
	}
	var docs []minuteDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read analytics: %w", err)
	}
	out := newCounts()
	for _, d := range docs {
		out.Merge(d.Counts)
	}
	return out, nil
}
