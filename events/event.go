// Package events is the realtime bus. Every committed write reaches it
// through Emit (it implements data.Emitter); it numbers the write in one
// global sequence, appends it to an append-only log in the platform
// database and fans it out at once to this instance's subscriptions. Other
// instances sharing the platform database read the log by sequence (Run),
// so every instance delivers every event exactly once and in sequence
// order, with a bounded delay. The exceptions are logged: a number that
// never turns up is skipped after GapWait (and its event, should it come
// within 30 s after all, is delivered then, out of order); events emitted
// while Run is not running, or that could not be numbered (Seq 0), go to
// this instance's subscribers at once, unordered.
//
// The embedded database has no change streams, tailable cursors, TTL
// indexes or transactions, so the bus needs none of them: the sequence is a
// counter document, the log is polled, expired events are swept, and the
// log's unique _id (the sequence number) arbitrates any number handed out
// twice.
package events

import (
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Event is one committed write.
type Event struct {
	// Seq is the event's number in the global log, ascending in delivery
	// order. It is 0 only when the log could not be written: the event
	// then reached this instance's subscribers and no other instance.
	Seq        int64
	ProjectID  bson.ObjectID
	Collection string
	// Op is "insert", "update" or "delete".
	Op string
	ID bson.ObjectID
	// Doc is the document after the write (for deletes: as it was),
	// exactly as the data layer gave it. It is shared by every
	// subscriber and must be treated as read-only.
	Doc bson.D
	// At is when the event was emitted, UTC, to the millisecond.
	At time.Time
}

// ErrSlowConsumer is the reason a subscription was closed by the bus: its
// buffer was full when an event arrived, so it fell too far behind.
var ErrSlowConsumer = errors.New("subscription closed: the subscriber fell too far behind (event buffer full)")

// record is an event as stored in the log.
type record struct {
	Seq        int64         `bson:"_id"`
	ProjectID  bson.ObjectID `bson:"projectId"`
	Collection string        `bson:"collection"`
	Op         string        `bson:"op"`
	ID         bson.ObjectID `bson:"id"`
	Doc        bson.D        `bson:"doc"`
	At         time.Time     `bson:"at"`
	Origin     string        `bson:"origin"`
}

func toRecord(e *Event, origin string) record {
	return record{Seq: e.Seq, ProjectID: e.ProjectID, Collection: e.Collection, Op: e.Op, ID: e.ID, Doc: e.Doc, At: e.At, Origin: origin}
}

func (r *record) event() Event {
	return Event{Seq: r.Seq, ProjectID: r.ProjectID, Collection: r.Collection, Op: r.Op, ID: r.ID, Doc: r.Doc, At: r.At.UTC()}
}
