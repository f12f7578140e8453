package events

import (
	"runtime"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/data"
)

func TestSlowConsumerIsClosed(t *testing.T) {
	b, logs := newBus(t, platformDB(t), Options{})
	p := bson.NewObjectID()
	slow := b.Subscribe(p, "posts", 2)
	fast := b.Subscribe(p, "posts", 64)
	for range 5 {
		emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil) // never blocks
	}
	for want := int64(1); want <= 5; want++ {
		if got := recv(t, fast); got.Seq != want {
			t.Fatalf("fast got seq %d, want %d", got.Seq, want)
		}
	}
	var got []int64
	for ev := range slow.C() { // ends: the bus closed it
		got = append(got, ev.Seq)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("slow got %v, want the 2 events its buffer held", got)
	}
	if slow.Err() != ErrSlowConsumer {
		t.Errorf("slow.Err() = %v, want ErrSlowConsumer", slow.Err())
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("Subscribers() = %d, want 1", n)
	}
	if !logs.contains("closed slow subscribers") {
		t.Error("the closing was not logged")
	}
	slow.Close() // harmless afterwards
	if slow.Err() != ErrSlowConsumer {
		t.Errorf("after Close, Err() = %v, want ErrSlowConsumer still", slow.Err())
	}

	// The others keep receiving.
	emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	if got := recv(t, fast); got.Seq != 6 {
		t.Errorf("fast got seq %d, want 6", got.Seq)
	}
	if fast.Err() != nil {
		t.Errorf("fast.Err() = %v, want nil", fast.Err())
	}
}

func TestCloseUnregisters(t *testing.T) {
	b, _ := newBus(t, platformDB(t), Options{})
	p := bson.NewObjectID()
	emit(b, p, "warm-up", data.OpInsert, bson.NewObjectID(), nil) // the driver's connections exist now

	before := runtime.NumGoroutine()
	const n = 1000
	subs := make([]*Subscription, n)
	for i := range subs {
		coll := "posts"
		if i%2 == 1 {
			coll = "comments"
		}
		subs[i] = b.Subscribe(p, coll, 0)
	}
	emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	if d := runtime.NumGoroutine() - before; d > 5 {
		t.Errorf("%d subscriptions added %d goroutines, want none", n, d)
	}
	if got := b.Subscribers(); got != n {
		t.Fatalf("Subscribers() = %d, want %d", got, n)
	}
	// Close in an order that moves subscriptions around in their topic.
	for i := 0; i < n; i += 3 {
		subs[i].Close()
	}
	for i := range subs {
		subs[i].Close()
		subs[i].Close() // twice is fine
	}
	for i, s := range subs {
		if i%2 == 0 {
			if ev, ok := <-s.C(); !ok || ev.Collection != "posts" {
				t.Fatalf("subscription %d: got %+v, %v; want its buffered event", i, ev, ok)
			}
		}
		if _, ok := <-s.C(); ok {
			t.Fatalf("subscription %d still open", i)
		}
		if s.Err() != nil {
			t.Fatalf("subscription %d: Err() = %v, want nil", i, s.Err())
		}
	}
	if got := b.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d, want 0", got)
	}
	b.reg.mu.RLock()
	topics := len(b.reg.topics)
	b.reg.mu.RUnlock()
	if topics != 0 {
		t.Errorf("%d topics remain, want 0", topics)
	}
	// Publishing to nobody is fine.
	emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	if d := runtime.NumGoroutine() - before; d > 5 {
		t.Errorf("%d goroutines more than before", d)
	}
}

// TestCloseDuringFanout closes and subscribes while events are fanned out
// (run with -race).
func TestCloseDuringFanout(t *testing.T) {
	b, _ := newBus(t, platformDB(t), Options{})
	p := bson.NewObjectID()
	keep := b.Subscribe(p, "posts", 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			s := b.Subscribe(p, "posts", 1)
			s.Close()
		}
	}()
	for i := range 50 {
		b.fanoutEvent(Event{Seq: int64(i + 1), ProjectID: p, Collection: "posts"})
	}
	<-done
	for want := int64(1); want <= 50; want++ {
		if got := recv(t, keep); got.Seq != want {
			t.Fatalf("got seq %d, want %d", got.Seq, want)
		}
	}
	keep.Close()
	if b.Subscribers() != 0 {
		t.Errorf("Subscribers() = %d, want 0", b.Subscribers())
	}
}

// fanoutEvent delivers an event without the database, as drain does.
func (b *Bus) fanoutEvent(ev Event) {
	b.seq.mu.Lock()
	b.seq.outbox = append(b.seq.outbox, ev)
	b.seq.mu.Unlock()
	b.drain()
}
