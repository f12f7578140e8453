// Package ratelimit counts requests in fixed one-minute windows per key (a
// client address, a project). It is a safety net against runaway clients,
// kept in memory per instance.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter allows Limit requests per key per Window. A zero Limit allows
// everything.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	start time.Time
	n     int
}

// New returns a limiter of limit requests per window (0: unlimited).
func New(limit int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: window, now: now, buckets: map[string]*bucket{}}
}

// Decision is the outcome of one request.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// Reset is the time until the window ends.
	Reset time.Duration
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.limit > 0 }

// Window is the length of a window.
func (l *Limiter) Window() time.Duration { return l.window }

// Allow counts one request for key.
func (l *Limiter) Allow(key string) Decision {
	if !l.Enabled() {
		return Decision{Allowed: true}
	}
	now := l.now()
	start := now.Truncate(l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || !b.start.Equal(start) {
		if len(l.buckets) > 100_000 {
			l.sweep(start)
		}
		b = &bucket{start: start}
		l.buckets[key] = b
	}
	b.n++
	d := Decision{Limit: l.limit, Reset: start.Add(l.window).Sub(now)}
	if b.n > l.limit {
		return d
	}
	d.Allowed = true
	d.Remaining = l.limit - b.n
	return d
}

func (l *Limiter) sweep(current time.Time) {
	for k, b := range l.buckets {
		if !b.start.Equal(current) {
			delete(l.buckets, k)
		}
	}
}
