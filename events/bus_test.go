package events

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/testdb"
)

func TestEmitDeliversLocally(t *testing.T) {
	clk := newClock()
	b, _ := newBus(t, platformDB(t), Options{Now: clk.Now})
	p, p2 := bson.NewObjectID(), bson.NewObjectID()
	posts := b.Subscribe(p, "posts", 0)
	comments := b.Subscribe(p, "comments", 0)
	otherProject := b.Subscribe(p2, "posts", 0)

	id := bson.NewObjectID()
	when := bson.NewDateTimeFromTime(clk.Now())
	doc := bson.D{{Key: "_id", Value: id}, {Key: "title", Value: "hello"}, {Key: "n", Value: int32(7)}, {Key: "at", Value: when}}
	emit(b, p, "posts", data.OpInsert, id, doc)

	got := recv(t, posts)
	want := Event{Seq: 1, ProjectID: p, Collection: "posts", Op: "insert", ID: id, Doc: doc, At: clk.Now()}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	cid := bson.NewObjectID()
	emit(b, p, "comments", data.OpDelete, cid, bson.D{{Key: "_id", Value: cid}})
	if got := recv(t, comments); got.Seq != 2 || got.Op != "delete" || got.ID != cid {
		t.Fatalf("comments got %+v, want seq 2 delete of %s", got, cid.Hex())
	}
	expectNone(t, posts)
	expectNone(t, otherProject)

	// The log holds both, as stored.
	evs, err := b.Since(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("Since(0) returned %d events, want 2", len(evs))
	}
	if !reflect.DeepEqual(evs[0], want) {
		t.Errorf("stored event %+v, want %+v", evs[0], want)
	}
	if evs, err := b.Since(context.Background(), 1, 10); err != nil || len(evs) != 1 || evs[0].Seq != 2 {
		t.Errorf("Since(1) = %+v, %v; want the event 2", evs, err)
	}
	if last, err := b.LastSeq(context.Background()); err != nil || last != 2 {
		t.Errorf("LastSeq = %d, %v; want 2", last, err)
	}
}

func TestEmitSurvivesLogFailure(t *testing.T) {
	c, err := mongo.Connect(options.Client().ApplyURI(testdb.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	logger, logs := newLogger(t)
	b := New(c.Database(testdb.Name(t)), logger, Options{})
	p := bson.NewObjectID()
	s := b.Subscribe(p, "posts", 0)
	id := bson.NewObjectID()
	emit(b, p, "posts", data.OpUpdate, id, bson.D{{Key: "_id", Value: id}})
	got := recv(t, s)
	if got.Seq != 0 || got.ID != id || got.Op != "update" {
		t.Errorf("got %+v, want the update of %s without a number", got, id.Hex())
	}
	if !logs.contains("record event") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
}

// TestOneInstanceOrder emits concurrently on one running bus: every
// subscriber sees every event once, numbered without holes, ascending.
func TestOneInstanceOrder(t *testing.T) {
	b, _ := newBus(t, platformDB(t), Options{PollInterval: 10 * time.Millisecond, GapWait: time.Minute})
	runBus(t, b)
	p := bson.NewObjectID()
	subs := []*Subscription{b.Subscribe(p, "posts", 1000), b.Subscribe(p, "posts", 1000)}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := bson.NewObjectID()
				emit(b, p, "posts", data.OpInsert, id, bson.D{{Key: "w", Value: w}, {Key: "i", Value: i}})
			}
		})
	}
	wg.Wait()
	for _, s := range subs {
		for want := int64(1); want <= workers*each; want++ {
			if got := recv(t, s); got.Seq != want {
				t.Fatalf("got seq %d, want %d", got.Seq, want)
			}
		}
		expectNone(t, s)
	}
}

// TestTwoInstancesShareLog runs two buses on one platform database with
// concurrent emits on both: every subscriber on either sees every event
// of both exactly once, in ascending sequence order.
func TestTwoInstancesShareLog(t *testing.T) {
	db := platformDB(t)
	opts := Options{PollInterval: 10 * time.Millisecond, GapWait: time.Minute}
	opts.InstanceID = "a"
	a, _ := newBus(t, db, opts)
	opts.InstanceID = "b"
	bb, _ := newBus(t, db, opts)
	runBus(t, a)
	runBus(t, bb)

	p := bson.NewObjectID()
	const workers, each = 6, 30
	const total = 2 * workers * each
	subs := map[string]*Subscription{
		"a1": a.Subscribe(p, "posts", total), "a2": a.Subscribe(p, "posts", total),
		"b1": bb.Subscribe(p, "posts", total), "b2": bb.Subscribe(p, "posts", total),
	}
	other := a.Subscribe(p, "other", total)

	var mu sync.Mutex
	emitted := map[bson.ObjectID]bool{}
	var wg sync.WaitGroup
	for _, bus := range []*Bus{a, bb} {
		for range workers {
			wg.Go(func() {
				for range each {
					id := bson.NewObjectID()
					mu.Lock()
					emitted[id] = true
					mu.Unlock()
					emit(bus, p, "posts", data.OpInsert, id, bson.D{{Key: "_id", Value: id}})
				}
			})
		}
	}
	wg.Wait()

	var order []int64
	for name, s := range subs {
		seen := map[bson.ObjectID]bool{}
		var prev int64
		var seqs []int64
		for range total {
			ev := recv(t, s)
			if ev.Seq <= prev {
				t.Fatalf("%s: seq %d after %d", name, ev.Seq, prev)
			}
			prev = ev.Seq
			if !emitted[ev.ID] || seen[ev.ID] {
				t.Fatalf("%s: event %s (seq %d) unknown or repeated", name, ev.ID.Hex(), ev.Seq)
			}
			seen[ev.ID] = true
			seqs = append(seqs, ev.Seq)
		}
		expectNone(t, s)
		if order == nil {
			order = seqs
		} else if !reflect.DeepEqual(seqs, order) {
			t.Errorf("%s saw a different order", name)
		}
	}
	expectNone(t, other)
	stored, err := a.Since(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != total {
		t.Errorf("the log holds %d events, want %d", len(stored), total)
	}
	last, _ := a.LastSeq(context.Background())
	t.Logf("%d events, last sequence number %d, numbers found taken and retried: %d", total, last, a.collisions.Load()+bb.collisions.Load())
}

func TestGapWaitsThenSkips(t *testing.T) {
	clk := newClock()
	b, logs := newBus(t, platformDB(t), Options{Now: clk.Now, GapWait: 2 * time.Second, InstanceID: "me"})
	startBus(t, b)
	ctx := context.Background()
	p := bson.NewObjectID()
	s := b.Subscribe(p, "posts", 0)
	step := func() { b.step(ctx) }
	expect := func(seqs ...int64) {
		t.Helper()
		for _, want := range seqs {
			if got := recv(t, s); got.Seq != want {
				t.Fatalf("got seq %d, want %d", got.Seq, want)
			}
		}
		expectNone(t, s)
	}

	t.Run("higher first, lower within GapWait", func(t *testing.T) {
		n := takeNumbers(t, b, 2) // 1, 2
		insertRemote(t, b, n[1], p, "posts", clk.Now())
		step()
		expect()
		clk.Advance(time.Second)
		step()
		expect()
		insertRemote(t, b, n[0], p, "posts", clk.Now())
		step()
		expect(n[0], n[1])
	})

	t.Run("never arrives: skipped after GapWait", func(t *testing.T) {
		n := takeNumbers(t, b, 2) // 3, 4
		insertRemote(t, b, n[1], p, "posts", clk.Now())
		step()
		expect()
		clk.Advance(2*time.Second - time.Millisecond)
		step()
		expect()
		clk.Advance(time.Millisecond)
		step()
		expect(n[1])
		if !logs.contains("skipped") {
			t.Errorf("the skip was not logged")
		}

		// It turns up after all, within the late window: delivered
		// once, out of order, rather than lost.
		insertRemote(t, b, n[0], p, "posts", clk.Now())
		step()
		expect(n[0])
		step()
		expect()
	})

	t.Run("local event waits for a lower remote one", func(t *testing.T) {
		n := takeNumbers(t, b, 1) // 5, in flight elsewhere
		id := bson.NewObjectID()
		emit(b, p, "posts", data.OpInsert, id, bson.D{{Key: "_id", Value: id}}) // 6
		expect()
		select {
		case <-b.wake:
		default:
			t.Fatal("the poller was not asked to look now")
		}
		insertRemote(t, b, n[0], p, "posts", clk.Now())
		step()
		expect(n[0], n[0]+1)
	})

	t.Run("own events are not read back", func(t *testing.T) {
		id := bson.NewObjectID()
		emit(b, p, "posts", data.OpInsert, id, bson.D{{Key: "_id", Value: id}})
		got := recv(t, s)
		step()
		expect()
		if got.ID != id {
			t.Fatalf("got %s, want %s", got.ID.Hex(), id.Hex())
		}
	})

	t.Run("stop releases what waits", func(t *testing.T) {
		n := takeNumbers(t, b, 2)
		insertRemote(t, b, n[1], p, "posts", clk.Now())
		step()
		expect()
		b.seq.stop()
		b.drain()
		expect(n[1])
	})
}

func TestSweepDeletesExpired(t *testing.T) {
	clk := newClock()
	b, _ := newBus(t, platformDB(t), Options{Now: clk.Now, Retention: time.Hour, SweepInterval: time.Minute})
	startBus(t, b)
	p := bson.NewObjectID()
	for range 3 {
		emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	}
	clk.Advance(40 * time.Minute)
	for range 2 {
		emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	}
	b.step(context.Background()) // 40 min since the last sweep: sweeps, nothing is old enough
	if evs, err := b.Since(context.Background(), 0, 0); err != nil || len(evs) != 5 {
		t.Fatalf("before expiry: %d events, %v; want 5", len(evs), err)
	}
	clk.Advance(21 * time.Minute)
	b.step(context.Background())
	evs, err := b.Since(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range evs {
		seqs = append(seqs, e.Seq)
	}
	if want := []int64{4, 5}; !reflect.DeepEqual(seqs, want) {
		t.Errorf("after expiry the log holds %v, want %v", seqs, want)
	}
	// Numbering continues after a sweep.
	if last, err := b.LastSeq(context.Background()); err != nil || last != 5 {
		t.Errorf("LastSeq = %d, %v; want 5", last, err)
	}
}

func TestSinceLimit(t *testing.T) {
	b, _ := newBus(t, platformDB(t), Options{})
	p := bson.NewObjectID()
	for range 5 {
		emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	}
	evs, err := b.Since(context.Background(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Seq != 2 || evs[1].Seq != 3 {
		t.Errorf("Since(1, 2) = %v, want events 2 and 3", evs)
	}
}

func TestRunReturnsOnCancel(t *testing.T) {
	b, _ := newBus(t, platformDB(t), Options{PollInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	<-b.ready
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	// Afterwards local events still reach subscribers.
	p := bson.NewObjectID()
	s := b.Subscribe(p, "posts", 0)
	emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	if got := recv(t, s); got.Seq == 0 {
		t.Errorf("got %+v, want a numbered event", got)
	}
}

func ExampleBus_Subscribe() {
	// A transport subscribes for one connection and unregisters when the
	// connection ends; Err tells a slow reader why it was cut off.
	var b *Bus // from New, wired by the server
	if b == nil {
		return
	}
	ctx := context.Background()
	s := b.Subscribe(bson.NewObjectID(), "posts", 0)
	defer s.Close()
	for {
		select {
		case ev, ok := <-s.C():
			if !ok {
				if errors.Is(s.Err(), ErrSlowConsumer) {
					fmt.Println("reconnect and catch up")
				}
				return
			}
			fmt.Println(ev.Seq, ev.Op)
		case <-ctx.Done():
			return
		}
	}
}

// TestIdlePollReadsOnlyCounter: while every number is known here (one
// instance), a poll is one point read of the counter; the log is queried
// only when another instance has written.
func TestIdlePollReadsOnlyCounter(t *testing.T) {
	var mu sync.Mutex
	finds := 0
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" {
			if v, err := e.Command.LookupErr("find"); err == nil && v.StringValue() == "events" {
				mu.Lock()
				finds++
				mu.Unlock()
			}
		}
	}}
	c, err := mongo.Connect(options.Client().ApplyURI(testdb.URI(t)).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	b, _ := newBus(t, c.Database(testdb.Name(t)), Options{InstanceID: "me"})
	startBus(t, b)
	p := bson.NewObjectID()
	s := b.Subscribe(p, "posts", 100)
	for range 20 {
		emit(b, p, "posts", data.OpInsert, bson.NewObjectID(), nil)
	}
	for range 5 {
		b.step(context.Background())
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return finds }
	if n := count(); n != 0 {
		t.Errorf("idle polls queried the log %d times, want 0", n)
	}
	for want := int64(1); want <= 20; want++ {
		if got := recv(t, s); got.Seq != want {
			t.Fatalf("got seq %d, want %d", got.Seq, want)
		}
	}
	n := takeNumbers(t, b, 1)
	insertRemote(t, b, n[0], p, "posts", time.Now())
	b.step(context.Background())
	if got := recv(t, s); got.Seq != 21 {
		t.Errorf("got seq %d, want the remote 21", got.Seq)
	}
	if n := count(); n != 1 {
		t.Errorf("the log was queried %d times, want 1", n)
	}
}
