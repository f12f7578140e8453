package events

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/data"
)

// BenchmarkFanout measures, for N idle subscribers of one collection with
// the default buffer, the time until all N hold one event (ns/op, and the
// p99 over the iterations), the memory one subscription keeps (B/sub) and
// what one fan-out allocates (B/op). After each event every channel is
// checked and emptied, outside the timed part.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			bus := New(platformDB(b), nil, Options{})
			p := bson.NewObjectID()
			subs := make([]*Subscription, n)
			perSub := heapGrowth(func() {
				for i := range subs {
					subs[i] = bus.Subscribe(p, "posts", 0)
				}
			}) / float64(n)
			id := bson.NewObjectID()
			doc := bson.D{{Key: "_id", Value: id}, {Key: "title", Value: "hello"}, {Key: "body", Value: string(make([]byte, 1024))}}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				bus.fanoutEvent(Event{Seq: int64(i + 1), ProjectID: p, Collection: "posts", Op: "update", ID: id, Doc: doc})
				lat = append(lat, time.Since(start))
				b.StopTimer()
				for _, s := range subs {
					select {
					case <-s.ch:
					default:
						b.Fatal("a subscriber has no event")
					}
				}
				b.StartTimer()
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(perSub, "B/sub")
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/float64(n), "ns/sub")
			for _, s := range subs {
				s.Close()
			}
		})
	}
}

// BenchmarkEmitFanout is the whole path for 20,000 subscribers on a
// running bus: number the event in the embedded database, store it, and
// hand it to every subscriber.
func BenchmarkEmitFanout(b *testing.B) {
	const n = 20000
	bus := New(platformDB(b), nil, Options{})
	runBus(b, bus)
	p := bson.NewObjectID()
	subs := make([]*Subscription, n)
	for i := range subs {
		subs[i] = bus.Subscribe(p, "posts", 0)
	}
	id := bson.NewObjectID()
	doc := bson.D{{Key: "_id", Value: id}, {Key: "title", Value: "hello"}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		emit(bus, p, "posts", data.OpUpdate, id, doc)
		for _, s := range subs {
			<-s.ch
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func heapGrowth(f func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}
