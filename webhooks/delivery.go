package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/events"
)

// Delivery states.
const (
	StatusPending    = "pending"    // waiting for its next attempt
	StatusDelivering = "delivering" // an instance is sending it
	StatusDelivered  = "delivered"  // answered 2xx
	StatusFailed     = "failed"     // answered 4xx, or out of attempts
)

// EventPing is the event of a test ping.
const EventPing = "test.ping"

// Attempt is one try of a delivery (§8).
type Attempt struct {
	Number       int       `bson:"attemptNumber"`
	Status       string    `bson:"status"` // success or failed
	StatusCode   int       `bson:"statusCode,omitempty"`
	ResponseBody string    `bson:"responseBody,omitempty"` // at most 1024 characters
	Error        string    `bson:"error,omitempty"`        // at most 500 characters
	AttemptedAt  time.Time `bson:"attemptedAt"`
	DurationMs   int64     `bson:"durationMs"`
}

// Delivery is one event for one webhook: its exact body and its attempts.
type Delivery struct {
	// ID is "<webhook id>-<event seq>" for events (so two instances never
	// queue one twice), "test-<uuid>" for pings and a fresh id for
	// redeliveries. It is sent as X-urBackend-Delivery-Id.
	ID        string        `bson:"_id"`
	WebhookID bson.ObjectID `bson:"webhookId"`
	ProjectID bson.ObjectID `bson:"projectId"`
	Event     string        `bson:"event"`
	Seq       int64         `bson:"seq,omitempty"`
	// Payload is the request body; the signature covers exactly it.
	Payload  string `bson:"payload"`
	Status   string `bson:"status"`
	Attempts int    `bson:"attempts"`
	// ResponseCode and Error describe the last attempt.
	ResponseCode  *int       `bson:"responseCode,omitempty"`
	Error         *string    `bson:"error,omitempty"`
	CreatedAt     time.Time  `bson:"createdAt"`
	LastAttemptAt *time.Time `bson:"lastAttemptAt,omitempty"`
	Next          time.Time  `bson:"nextAttemptAt"`
	// Gen counts the delivery's state changes; a claim is valid for one.
	Gen        int64      `bson:"gen"`
	Lease      string     `bson:"lease,omitempty"`
	LeaseUntil *time.Time `bson:"leaseUntil,omitempty"`
	// RedeliveryOf is the delivery this one repeats.
	RedeliveryOf string    `bson:"redeliveryOf,omitempty"`
	History      []Attempt `bson:"history"`
}

// NextAttemptAt is when a pending delivery is tried next; nil otherwise.
func (d *Delivery) NextAttemptAt() *time.Time {
	if d.Status != StatusPending {
		return nil
	}
	t := d.Next
	return &t
}

// body is the request body of §8, in its key order.
type body struct {
	Event      string `json:"event"`
	Timestamp  string `json:"timestamp"`
	ProjectID  string `json:"projectId"`
	Collection string `json:"collection"`
	Action     string `json:"action"`
	DocumentID string `json:"documentId"`
	Data       any    `json:"data"`
}

// compact encodes v as compact JSON without HTML escaping, as
// JSON.stringify does.
func compact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// eventBody is the body of a delivery of ev.
func eventBody(ev *events.Event) ([]byte, error) {
	doc := data.Doc(ev.Doc)
	if doc == nil {
		doc = data.Doc{}
	}
	return compact(body{
		Event:      ev.Collection + "." + ev.Op,
		Timestamp:  ev.At.UTC().Format(data.TimeFormat),
		ProjectID:  ev.ProjectID.Hex(),
		Collection: ev.Collection,
		Action:     ev.Op,
		DocumentID: ev.ID.Hex(),
		Data:       doc,
	})
}

// pingBody is the body of a test ping.
func pingBody(projectID bson.ObjectID, id string, at time.Time) ([]byte, error) {
	return compact(body{
		Event:      EventPing,
		Timestamp:  at.UTC().Format(data.TimeFormat),
		ProjectID:  projectID.Hex(),
		Collection: "test",
		Action:     "ping",
		DocumentID: id,
		Data: struct {
			Message     string `json:"message"`
			TriggeredBy string `json:"triggeredBy"`
		}{"This is a test webhook from urBackend", "dashboard"},
	})
}

// signature is the X-urBackend-Signature of a body.
func signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func eventDeliveryID(webhookID bson.ObjectID, seq int64) string {
	return webhookID.Hex() + "-" + strconv.FormatInt(seq, 10)
}

// Default and maximum of Deliveries' limit.
const (
	DefaultDeliveriesLimit = 20
	MaxDeliveriesLimit     = 100
)

// Deliveries returns a webhook's most recent deliveries, newest first;
// limit <= 0 means 20, and at most 100 are returned. Errors: NotFound.
func (s *Service) Deliveries(ctx context.Context, projectID, webhookID bson.ObjectID, limit int) ([]*Delivery, error) {
	if _, err := s.Get(ctx, projectID, webhookID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultDeliveriesLimit
	}
	limit = min(limit, MaxDeliveriesLimit)
	cur, err := s.deliveries.Find(ctx, bson.D{{Key: "webhookId", Value: webhookID}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("find deliveries: %w", err)
	}
	out := []*Delivery{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}

// Delivery returns one delivery of a project. Errors: NotFound.
func (s *Service) Delivery(ctx context.Context, projectID bson.ObjectID, id string) (*Delivery, error) {
	var d Delivery
	err := s.deliveries.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "projectId", Value: projectID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "webhook delivery %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load delivery %s: %w", id, err)
	}
	return &d, nil
}

// Ping sends a test.ping to a webhook at once, enabled or not, waits for
// the answer (at most Options.PingTimeout) and records it as a delivery
// that is never retried. A failed ping is a result, not an error.
// Errors: NotFound.
func (s *Service) Ping(ctx context.Context, projectID, id bson.ObjectID) (*Delivery, error) {
	w, err := s.Get(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	sec, err := s.openSecret(w)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "Failed to read the webhook secret.")
	}
	now := s.timestamp()
	did := "test-" + newUUID()
	payload, err := pingBody(projectID, did, now)
	if err != nil {
		return nil, fmt.Errorf("encode ping: %w", err)
	}
	d := &Delivery{ID: did, WebhookID: w.ID, ProjectID: projectID, Event: EventPing, Payload: string(payload), CreatedAt: now, Next: now, History: []Attempt{}}
	o := s.post(ctx, w.URL, sec, d, s.opts.PingTimeout)
	a := o.attempt(1)
	d.Attempts = 1
	d.History = append(d.History, a)
	d.LastAttemptAt = &a.AttemptedAt
	d.ResponseCode, d.Error = o.summary()
	d.Status = StatusFailed
	if o.success() {
		d.Status = StatusDelivered
	}
	if _, err := s.deliveries.InsertOne(context.WithoutCancel(ctx), d); err != nil {
		return nil, fmt.Errorf("record ping: %w", err)
	}
	s.finished(context.WithoutCancel(ctx), w.ID)
	return d, nil
}

// Redeliver queues a delivery's body again, as a new delivery with a
// fresh id and a full set of attempts, and returns it.
// Errors: NotFound (the delivery or its webhook).
func (s *Service) Redeliver(ctx context.Context, projectID bson.ObjectID, deliveryID string) (*Delivery, error) {
	old, err := s.Delivery(ctx, projectID, deliveryID)
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, projectID, old.WebhookID); err != nil {
		return nil, err
	}
	now := s.timestamp()
	d := &Delivery{
		ID:           bson.NewObjectID().Hex(),
		WebhookID:    old.WebhookID,
		ProjectID:    projectID,
		Event:        old.Event,
		Seq:          old.Seq,
		Payload:      old.Payload,
		Status:       StatusPending,
		CreatedAt:    now,
		Next:         now,
		RedeliveryOf: old.ID,
		History:      []Attempt{},
	}
	if _, err := s.deliveries.InsertOne(ctx, d); err != nil {
		return nil, fmt.Errorf("queue redelivery: %w", err)
	}
	poke(s.wakeQueue)
	return d, nil
}

// enqueue stores deliveries, skipping those another instance (or an
// earlier pass) already stored. It returns how many are new.
func (s *Service) enqueue(ctx context.Context, ds []any) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	res, err := s.deliveries.InsertMany(ctx, ds, options.InsertMany().SetOrdered(false))
	n := 0
	if res != nil {
		n = len(res.InsertedIDs)
	}
	if err == nil {
		return n, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return n, fmt.Errorf("queue deliveries: %w", err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 && !mongo.IsDuplicateKeyError(we) {
			return n, fmt.Errorf("queue deliveries: %w", err)
		}
	}
	return len(ds) - len(bwe.WriteErrors), nil
}

// finished notes a finished delivery of a webhook and, every so often,
// drops its finished deliveries beyond Options.KeepDeliveries.
func (s *Service) finished(ctx context.Context, webhookID bson.ObjectID) {
	s.pruneMu.Lock()
	s.sincePrune[webhookID]++
	due := s.sincePrune[webhookID] >= max(1, s.opts.KeepDeliveries/10)
	if due {
		delete(s.sincePrune, webhookID)
	}
	s.pruneMu.Unlock()
	if !due {
		return
	}
	if err := s.prune(ctx, webhookID); err != nil && ctx.Err() == nil {
		s.logger.Warn("prune webhook deliveries", "webhook", webhookID.Hex(), "err", err)
	}
}

func (s *Service) prune(ctx context.Context, webhookID bson.ObjectID) error {
	cur, err := s.deliveries.Find(ctx,
		bson.D{{Key: "webhookId", Value: webhookID}, {Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{StatusDelivered, StatusFailed}}}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
			SetSkip(int64(s.opts.KeepDeliveries)).SetLimit(1000).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("find old deliveries: %w", err)
	}
	var old []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &old); err != nil {
		return fmt.Errorf("read old deliveries: %w", err)
	}
	if len(old) == 0 {
		return nil
	}
	ids := make(bson.A, len(old))
	for i, o := range old {
		ids[i] = o.ID
	}
	if _, err := s.deliveries.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("delete old deliveries: %w", err)
	}
	return nil
}

// QueueLength counts deliveries waiting for an attempt or being sent, in
// every project (for /metrics).
func (s *Service) QueueLength(ctx context.Context) (int64, error) {
	n, err := s.deliveries.CountDocuments(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{StatusPending, StatusDelivering}}}}})
	if err != nil {
		return 0, fmt.Errorf("count queued deliveries: %w", err)
	}
	return n, nil
}
