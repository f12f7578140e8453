package events

import (
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Subscription states.
const (
	stateOpen int32 = iota
	stateClosed
	stateSlow
)

// Subscription receives the events of one project's collection.
type Subscription struct {
	ch    chan *Event
	reg   *registry
	t     *topic
	idx   int // position in t.subs, -1 once removed; guarded by t.mu
	state atomic.Int32
}

// C is the channel of events, in sequence order. It is closed by Close,
// or by the bus when the subscriber falls behind (see Err). Every
// subscriber of the collection receives the same *Event: treat it as
// read-only.
func (s *Subscription) C() <-chan *Event { return s.ch }

// Err tells why C was closed: nil after Close (or while open),
// ErrSlowConsumer when its buffer was full as an event arrived.
func (s *Subscription) Err() error {
	if s.state.Load() == stateSlow {
		return ErrSlowConsumer
	}
	return nil
}

// Close unregisters the subscription and closes C. It may be called more
// than once, and after the bus closed it.
func (s *Subscription) Close() {
	t := s.t
	t.mu.Lock()
	if s.state.CompareAndSwap(stateOpen, stateClosed) {
		close(s.ch)
	}
	removed := s.idx >= 0
	if removed {
		t.removeLocked(s)
	}
	empty := len(t.subs) == 0
	t.mu.Unlock()
	if removed {
		s.reg.count.Add(-1)
	}
	if empty {
		s.reg.dropIfEmpty(t)
	}
}

// topicKey names what a subscription listens to.
type topicKey struct {
	project    bson.ObjectID
	collection string
}

// topic holds the subscriptions of one project's collection.
type topic struct {
	key  topicKey
	mu   sync.Mutex
	subs []*Subscription
}

func (t *topic) removeLocked(s *Subscription) {
	i, n := s.idx, len(t.subs)-1
	t.subs[i] = t.subs[n]
	t.subs[i].idx = i
	t.subs[n] = nil
	t.subs = t.subs[:n]
	s.idx = -1
	if n == 0 {
		t.subs = nil // let a once-crowded topic give its memory back
	}
}

// registry finds topics. Lock order: registry.mu, then topic.mu.
type registry struct {
	mu     sync.RWMutex
	topics map[topicKey]*topic
	count  atomic.Int64
}

func (r *registry) dropIfEmpty(t *topic) {
	r.mu.Lock()
	t.mu.Lock()
	if len(t.subs) == 0 && r.topics[t.key] == t {
		delete(r.topics, t.key)
	}
	t.mu.Unlock()
	r.mu.Unlock()
}

// Subscribe returns a subscription to the events of one project's
// collection, with a channel buffer of buffer events (DefaultBuffer when
// buffer <= 0). The caller must read C promptly: when an event finds the
// buffer full, the subscription is closed with ErrSlowConsumer; the bus
// never waits for a subscriber. Policy is the caller's: the subscription
// sees every event of the collection. Close it when done.
func (b *Bus) Subscribe(projectID bson.ObjectID, collection string, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &Subscription{ch: make(chan *Event, buffer), reg: &b.reg}
	key := topicKey{projectID, collection}
	r := &b.reg
	r.mu.Lock()
	t := r.topics[key]
	if t == nil {
		t = &topic{key: key}
		r.topics[key] = t
	}
	t.mu.Lock()
	s.t, s.idx = t, len(t.subs)
	t.subs = append(t.subs, s)
	t.mu.Unlock()
	r.mu.Unlock()
	r.count.Add(1)
	return s
}

// Subscribers returns the number of open subscriptions.
func (b *Bus) Subscribers() int { return int(b.reg.count.Load()) }

// fanout hands ev to every subscription of its collection without
// waiting: O(subscriptions of that collection), no goroutine and no copy
// per subscriber (they all get one shared copy of ev; a channel slot is a
// pointer, so an idle subscriber's buffer stays small). A full buffer
// closes that subscription. Only drain calls it, one goroutine at a time.
func (b *Bus) fanout(ev *Event) {
	r := &b.reg
	r.mu.RLock()
	t := r.topics[topicKey{ev.ProjectID, ev.Collection}]
	r.mu.RUnlock()
	if t == nil {
		return
	}
	shared := new(Event)
	*shared = *ev // ev is the sequencer's, reused after this call
	var slow []*Subscription
	t.mu.Lock()
	for _, s := range t.subs {
		select {
		case s.ch <- shared:
		default:
			// Close under t.mu, as Close does: no send can follow.
			s.state.Store(stateSlow)
			close(s.ch)
			slow = append(slow, s)
		}
	}
	for _, s := range slow {
		t.removeLocked(s)
	}
	empty := len(t.subs) == 0
	t.mu.Unlock()
	if len(slow) == 0 {
		return
	}
	r.count.Add(-int64(len(slow)))
	b.logger.Warn("closed slow subscribers", "project", ev.ProjectID.Hex(), "collection", ev.Collection, "count", len(slow), "seq", ev.Seq)
	if empty {
		r.dropIfEmpty(t)
	}
}

// ProjectSubscribers returns the number of open subscriptions to a
// project's collections in this instance.
func (b *Bus) ProjectSubscribers(projectID bson.ObjectID) int {
	r := &b.reg
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for k, t := range r.topics {
		if k.project != projectID {
			continue
		}
		t.mu.Lock()
		n += len(t.subs)
		t.mu.Unlock()
	}
	return n
}
