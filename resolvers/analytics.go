package resolvers

import (
	"context"
	"time"

	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/graph/model"
	"github.com/urbackend/urbackend/projects"
)

// Usage reports a project's current totals for analytics ticks.
type Usage interface {
	// Usage returns stored file bytes, documents (users excluded) and end
	// users.
	Usage(ctx context.Context, p *projects.Project) (storageBytes, documents, users int64, err error)
	// Subscriptions counts the project's live subscriptions here.
	Subscriptions(p *projects.Project) int
}

func spanOf(r model.AnalyticsResolution) time.Duration {
	switch r {
	case model.AnalyticsResolutionHour:
		return time.Hour
	case model.AnalyticsResolutionDay:
		return 24 * time.Hour
	}
	return time.Minute
}

func bucketOut(b analytics.Bucket) *model.AnalyticsBucket {
	c := b.Counts
	return &model.AnalyticsBucket{
		Start: b.Start, Requests: int(c.Requests), Errors: int(c.Errors),
		P50Ms: c.Latency.Quantile(0.5), P95Ms: c.Latency.Quantile(0.95), P99Ms: c.Latency.Quantile(0.99),
		BytesIn: int(c.BytesIn), BytesOut: int(c.BytesOut),
	}
}

func checkRange(from, to time.Time) error {
	if !to.After(from) {
		return errs.New(errs.Invalid, "to must be after from")
	}
	return nil
}

// ticks streams one AnalyticsTick per second while the project has
// traffic (merged across instances), and at least one every 5 seconds.
func (r *Resolver) ticks(ctx context.Context, p *projects.Project) <-chan *model.AnalyticsTick {
	out := make(chan *model.AnalyticsTick, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastSent, usageAt time.Time
		var storage, docs, users int64
		for {
			now := time.Now()
			if now.Sub(usageAt) >= 5*time.Second && r.Usage != nil {
				if s, d, u, err := r.Usage.Usage(ctx, p); err == nil {
					storage, docs, users, usageAt = s, d, u, now
				} else if ctx.Err() == nil {
					r.Logger.Warn("analytics usage", "project", p.ID.Hex(), "err", err)
				}
			}
			live, _, err := r.AnalyticsStore.Live(ctx, p.ID)
			if err != nil && ctx.Err() == nil {
				r.Logger.Warn("live analytics", "project", p.ID.Hex(), "err", err)
			}
			if err == nil && (live.Requests > 0 || now.Sub(lastSent) >= 5*time.Second) {
				midnight := now.UTC().Truncate(24 * time.Hour)
				today, terr := r.AnalyticsStore.Total(ctx, p.ID, midnight, now.Add(time.Minute))
				var todayN int
				if terr == nil {
					todayN = int(today.Requests)
				}
				tick := &model.AnalyticsTick{
					At: now.UTC().Truncate(time.Second), Requests: int(live.Requests), Errors: int(live.Errors),
					P50Ms: live.Latency.Quantile(0.5), P99Ms: live.Latency.Quantile(0.99),
					RequestsToday: todayN, StorageBytes: int(storage), Documents: int(docs), Users: int(users),
					Subscriptions: subscriptions(r.Usage, p),
				}
				select {
				case out <- tick:
					lastSent = now
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func subscriptions(u Usage, p *projects.Project) int {
	if u == nil {
		return 0
	}
	return u.Subscriptions(p)
}
