package auth

import (
	"sync"
	"time"
)

// throttle counts events per key in fixed windows, in memory: failed
// logins and codes per account and per address, refresh attempts. It is
// per instance, like the original's counters.
type throttle struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*window
}

type window struct {
	start  time.Time
	length time.Duration
	n      int
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, m: map[string]*window{}}
}

func (t *throttle) get(key string, length time.Duration) *window {
	now := t.now()
	w := t.m[key]
	if w == nil || now.Sub(w.start) >= w.length {
		w = &window{start: now, length: length}
		t.m[key] = w
	}
	return w
}

// limited counts one attempt and reports whether it is over limit.
func (t *throttle) limited(key string, limit int, length time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.get(key, length)
	w.n++
	return w.n > limit
}

// limitedFor is limited that also returns the time left in the window.
func (t *throttle) limitedFor(key string, limit int, length time.Duration) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.get(key, length)
	w.n++
	return w.start.Add(w.length).Sub(t.now()), w.n > limit
}

// blocked reports whether key already has limit failures.
func (t *throttle) blocked(key string, limit int, length time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(key, length).n >= limit
}

// fail counts one failure.
func (t *throttle) fail(key string, length time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(key, length).n++
}

// reset forgets key (after a success).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *throttle) sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for k, w := range t.m {
		if now.Sub(w.start) >= w.length {
			delete(t.m, k)
		}
	}
}
