package events

import (
	"sync"
	"time"
)

// lateWindow is how long a skipped sequence number is still accepted (and
// then delivered out of order) should its event turn up after all; maxLate
// bounds how many such numbers are remembered.
const (
	lateWindow = 30 * time.Second
	maxLate    = 1000
)

// sequencer puts the events of all instances into sequence order before
// they are delivered, and delivers each once.
//
// Local events are offered once, by Emit, right after their insert; the
// poller never reads this instance's own events back. Remote events are
// offered by the poller, possibly many times (it rereads everything above
// last while a gap is open), so they are deduplicated by number. An event
// is released when every lower number is released or skipped; a missing
// number is skipped once higher ones have waited GapWait.
type sequencer struct {
	mu      sync.Mutex
	started bool                // last is known; before, events go straight out
	last    int64               // every number up to last is delivered or skipped
	pending map[int64]waiting   // known events above a missing number
	claimed map[int64]struct{}  // numbers this instance holds and has not offered yet
	late    map[int64]time.Time // skipped numbers still welcome, and when skipped

	outbox   []Event // released, in order, to be fanned out
	spare    []Event
	draining bool // one goroutine at a time fans out, so order holds
}

type waiting struct {
	ev Event
	at time.Time // when it became known
}

type gap struct{ from, to int64 }

func newSequencer() sequencer {
	return sequencer{pending: map[int64]waiting{}, claimed: map[int64]struct{}{}, late: map[int64]time.Time{}}
}

// start sets the position from which events are sequenced, once per Run.
func (q *sequencer) start(last int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started {
		q.started, q.last = true, last
	}
}

// stop releases everything pending in order, gaps or not: without a
// poller no gap can close. Later local events go straight out.
func (q *sequencer) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) > 0 {
		q.last = q.lowestLocked() - 1
		q.releaseLocked()
	}
	q.started = false
	clear(q.late)
}

func (q *sequencer) claimRange(lo, hi int64) {
	q.mu.Lock()
	for s := lo; s <= hi; s++ {
		q.claimed[s] = struct{}{}
	}
	q.mu.Unlock()
}

func (q *sequencer) unclaim(seq int64) {
	q.mu.Lock()
	delete(q.claimed, seq)
	q.mu.Unlock()
}

// offerLocal queues an event emitted here. It reports whether the poller
// should look now: the event waits on a number this instance does not
// hold.
func (q *sequencer) offerLocal(ev Event, now time.Time) (poll bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if ev.Seq == 0 || !q.started || ev.Seq <= q.last {
		// Unnumbered, before Run, or skipped while its insert was slow:
		// deliver now rather than never.
		if ev.Seq != 0 {
			delete(q.claimed, ev.Seq)
			delete(q.late, ev.Seq)
		}
		q.outbox = append(q.outbox, ev)
		return false
	}
	delete(q.claimed, ev.Seq)
	if _, ok := q.pending[ev.Seq]; ok {
		// A remote event holds this number: our insert failed, and
		// someone else's with the same number did not. Ours is real too.
		q.outbox = append(q.outbox, ev)
		return false
	}
	q.pending[ev.Seq] = waiting{ev: ev, at: now}
	q.releaseLocked()
	if len(q.pending) == 0 {
		return false
	}
	_, mine := q.claimed[q.last+1]
	return !mine
}

// offerRemote queues events read from the log and returns how many of
// them arrived after their number was skipped (those go out now, out of
// order).
func (q *sequencer) offerRemote(evs []Event, now time.Time) (late int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, ev := range evs {
		if ev.Seq <= q.last {
			if _, ok := q.late[ev.Seq]; ok {
				delete(q.late, ev.Seq)
				q.outbox = append(q.outbox, ev)
				late++
			}
			continue
		}
		if _, ok := q.pending[ev.Seq]; ok {
			continue
		}
		q.pending[ev.Seq] = waiting{ev: ev, at: now}
	}
	q.releaseLocked()
	return late
}

// plan tells the poller where to read from: above last, plus the skipped
// numbers still welcome. It reports whether there is anything to read at
// all given the counter's value: some number up to it that is neither
// known nor held by this instance, or a skipped one.
func (q *sequencer) plan(counter int64) (need bool, last int64, late []int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started {
		return false, 0, nil
	}
	for s := range q.late {
		late = append(late, s)
	}
	need = len(late) > 0
	for s := q.last + 1; !need && s <= counter; s++ {
		_, known := q.pending[s]
		_, mine := q.claimed[s]
		need = !known && !mine
	}
	return need, q.last, late
}

// skipGaps skips missing numbers that higher known events have waited on
// for at least wait, and forgets skipped numbers older than lateWindow.
func (q *sequencer) skipGaps(now time.Time, wait time.Duration) []gap {
	q.mu.Lock()
	defer q.mu.Unlock()
	var skipped []gap
	for len(q.pending) > 0 {
		// We have known that last+1 is missing since the earliest of
		// the events above it arrived.
		oldest := now
		for _, w := range q.pending {
			if w.at.Before(oldest) {
				oldest = w.at
			}
		}
		if now.Sub(oldest) < wait {
			break
		}
		low := q.lowestLocked()
		skipped = append(skipped, gap{q.last + 1, low - 1})
		for s := q.last + 1; s < low && len(q.late) < maxLate; s++ {
			q.late[s] = now
		}
		q.last = low - 1
		q.releaseLocked()
	}
	for s, at := range q.late {
		if now.Sub(at) > lateWindow {
			delete(q.late, s)
		}
	}
	return skipped
}

func (q *sequencer) lowestLocked() int64 {
	first, low := true, int64(0)
	for s := range q.pending {
		if first || s < low {
			first, low = false, s
		}
	}
	return low
}

func (q *sequencer) releaseLocked() {
	for {
		w, ok := q.pending[q.last+1]
		if !ok {
			return
		}
		delete(q.pending, q.last+1)
		q.outbox = append(q.outbox, w.ev)
		q.last++
	}
}

// drain fans out released events in order. Whoever finds the outbox
// unattended drains it, so there is no delivery goroutine and Emit
// usually delivers its own event before it returns; the others append and
// leave.
func (b *Bus) drain() {
	q := &b.seq
	q.mu.Lock()
	if q.draining {
		q.mu.Unlock()
		return
	}
	q.draining = true
	for len(q.outbox) > 0 {
		batch := q.outbox
		q.outbox, q.spare = q.spare[:0], nil
		q.mu.Unlock()
		for i := range batch {
			b.fanout(&batch[i])
			batch[i] = Event{}
		}
		q.mu.Lock()
		q.spare = batch[:0]
	}
	q.draining = false
	q.mu.Unlock()
}
