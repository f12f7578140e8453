package events

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// wait bounds every wait for an event; nothing sleeps.
const wait = 30 * time.Second

// clock is an injected clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects log output for assertions and echoes it to the test log.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   testing.TB
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuf) contains(s string) bool { return strings.Contains(l.String(), s) }

func newLogger(t testing.TB) (*slog.Logger, *logBuf) {
	lb := &logBuf{t: t}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo})), lb
}

func platformDB(t testing.TB) *mongo.Database {
	t.Helper()
	return testdb.Client(t).Database(testdb.Name(t))
}

func newBus(t testing.TB, db *mongo.Database, opts Options) (*Bus, *logBuf) {
	t.Helper()
	logger, lb := newLogger(t)
	b := New(db, logger, opts)
	if err := b.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return b, lb
}

// runBus runs b until the test ends and waits until it knows where the
// log stands.
func runBus(t testing.TB, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-b.ready:
	case <-time.After(wait):
		t.Fatal("bus did not start")
	}
}

// startBus positions b without running its loop; the test drives step.
func startBus(t testing.TB, b *Bus) {
	t.Helper()
	if !b.start(context.Background()) {
		t.Fatal("start failed")
	}
}

func emit(b *Bus, project bson.ObjectID, coll string, op data.Op, id bson.ObjectID, doc bson.D) {
	b.Emit(context.Background(), data.Event{ProjectID: project, Collection: coll, Op: op, ID: id, Doc: data.Doc(doc)})
}

func recv(t testing.TB, s *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription closed (err %v), want an event", s.Err())
		}
		return *ev
	case <-time.After(wait):
		t.Fatal("no event within the deadline")
	}
	return Event{}
}

func expectNone(t testing.TB, s *Subscription) {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		t.Fatalf("got event %+v (open %v), want none", ev, ok)
	default:
	}
}

// takeNumbers takes n numbers from the counter as another instance
// would; the caller inserts the records it chooses with insertRemote.
func takeNumbers(t testing.TB, b *Bus, n int) []int64 {
	t.Helper()
	out := make([]int64, n)
	for i := range out {
		s, err := b.incCounter(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func insertRemote(t testing.TB, b *Bus, seq int64, project bson.ObjectID, coll string, at time.Time) bson.ObjectID {
	t.Helper()
	id := bson.NewObjectID()
	r := record{Seq: seq, ProjectID: project, Collection: coll, Op: "insert", ID: id, Doc: bson.D{{Key: "_id", Value: id}, {Key: "n", Value: seq}}, At: at.UTC().Truncate(time.Millisecond), Origin: "other-instance"}
	if _, err := b.log.InsertOne(context.Background(), r); err != nil {
		t.Fatalf("insert remote event %d: %v", seq, err)
	}
	return id
}
