// Package webhooks stores a project's webhooks and delivers the realtime
// events to them (contract/REST.md §8): one signed POST per matching event,
// queued in the platform database so deliveries survive a restart, retried
// on a schedule, claimed so that any number of instances send each attempt
// once.
//
// It uses net/http only as a client, through a dialer that refuses
// loopback, private, link-local and metadata addresses after DNS (unless
// Options.AllowPrivate).
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/events"
	"github.com/urbackend/urbackend/secret"
)

// DefaultRetrySchedule returns §8's schedule: after the first attempt,
// retries after 1 min, 5 min, 15 min, 1 h and 4 h (six attempts in total).
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour}
}

// Defaults of Options.
const (
	DefaultAttemptTimeout = 30 * time.Second
	DefaultPingTimeout    = 10 * time.Second
	DefaultPollInterval   = time.Second
	DefaultGapWait        = 2 * time.Second
	DefaultKeepDeliveries = 100
	DefaultConcurrency    = 32
	DefaultPerWebhook     = 4
	DefaultMaxPerProject  = 25
)

// Options tunes a Service; a zero field means its default.
type Options struct {
	// AllowPrivate lets webhook URLs point at loopback, private,
	// link-local and metadata addresses, and use plain http
	// (UB_WEBHOOK_ALLOW_PRIVATE, for self-hosted setups and tests).
	AllowPrivate bool
	// RetrySchedule is the wait before each retry; a delivery gets
	// len(RetrySchedule)+1 attempts (default DefaultRetrySchedule()).
	RetrySchedule []time.Duration
	// AttemptTimeout bounds one delivery attempt (default 30s).
	AttemptTimeout time.Duration
	// PingTimeout bounds a test ping (default 10s).
	PingTimeout time.Duration
	// PollInterval is how often the events log and the queue are read
	// when nothing wakes the dispatcher earlier (default 1s).
	PollInterval time.Duration
	// GapWait is how long a missing event number, with higher ones
	// already read, is waited for before it is skipped (default 2s).
	GapWait time.Duration
	// KeepDeliveries is how many finished deliveries are kept per
	// webhook (default 100).
	KeepDeliveries int
	// Concurrency bounds the attempts in flight on this instance
	// (default 32); PerWebhook bounds those to one webhook (default 4),
	// so one slow endpoint never holds up the others.
	Concurrency int
	PerWebhook  int
	// MaxPerProject bounds the webhooks of one project (default 25).
	MaxPerProject int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if len(o.RetrySchedule) == 0 {
		o.RetrySchedule = DefaultRetrySchedule()
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.GapWait <= 0 {
		o.GapWait = DefaultGapWait
	}
	if o.KeepDeliveries <= 0 {
		o.KeepDeliveries = DefaultKeepDeliveries
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = DefaultPerWebhook
	}
	if o.MaxPerProject <= 0 {
		o.MaxPerProject = DefaultMaxPerProject
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// EventLog is what webhooks needs of the realtime events log
// (*events.Bus implements it).
type EventLog interface {
	Since(ctx context.Context, seq int64, limit int) ([]events.Event, error)
	LastSeq(ctx context.Context) (int64, error)
}

// Webhook is one endpoint of a project and the events it receives.
type Webhook struct {
	ID        bson.ObjectID `bson:"_id"`
	ProjectID bson.ObjectID `bson:"projectId"`
	Name      string        `bson:"name"`
	URL       string        `bson:"url"`
	// Events are the event names it receives: "<collection>.<op>" with
	// op insert, update or delete; either part may be "*".
	Events  []string `bson:"events"`
	Enabled bool     `bson:"enabled"`
	// SealedSecret is the signing secret, sealed with the master key.
	SealedSecret string `bson:"secret"`
	// FromSeq is the last event number before the webhook existed; it
	// receives only later events.
	FromSeq   int64     `bson:"fromSeq"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// Service stores webhooks and delivers events to them. Run is the
// dispatcher; call EnsureIndexes once at start-up.
type Service struct {
	hooks      *mongo.Collection // webhooks
	deliveries *mongo.Collection // webhook_deliveries
	claims     *mongo.Collection // webhook_claims: one document per claimed attempt
	state      *mongo.Collection // webhook_state: the dispatcher's cursor
	box        *secret.Box
	log        EventLog
	logger     *slog.Logger
	opts       Options
	client     *http.Client

	wakeTail  chan struct{}
	wakeQueue chan struct{}

	pruneMu    sync.Mutex
	sincePrune map[bson.ObjectID]int // finished deliveries since the last prune
}

// New returns a Service keeping its data in platformDB and reading events
// from log.
func New(platformDB *mongo.Database, box *secret.Box, log EventLog, logger *slog.Logger, opts Options) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	return &Service{
		hooks:      platformDB.Collection("webhooks"),
		deliveries: platformDB.Collection("webhook_deliveries"),
		claims:     platformDB.Collection("webhook_claims"),
		state:      platformDB.Collection("webhook_state"),
		box:        box,
		log:        log,
		logger:     logger,
		opts:       opts,
		client:     newClient(opts.AllowPrivate),
		wakeTail:   make(chan struct{}, 1),
		wakeQueue:  make(chan struct{}, 1),
		sincePrune: map[bson.ObjectID]int{},
	}
}

// EnsureIndexes creates the indexes webhooks need.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := dbpool.EnsureIndexes(ctx, s.hooks,
		mongo.IndexModel{Keys: bson.D{{Key: "projectId", Value: 1}}, Options: options.Index().SetName("ub_project")},
	); err != nil {
		return err
	}
	if err := dbpool.EnsureIndexes(ctx, s.deliveries,
		mongo.IndexModel{Keys: bson.D{{Key: "webhookId", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName("ub_webhook_created")},
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "nextAttemptAt", Value: 1}}, Options: options.Index().SetName("ub_status_next")},
	); err != nil {
		return err
	}
	return dbpool.EnsureIndexes(ctx, s.claims,
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("ub_at")},
	)
}

func (s *Service) timestamp() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

func secretLabel(id bson.ObjectID) string { return "webhook:" + id.Hex() + ":secret" }

// NewSecret returns a fresh signing secret.
func NewSecret() string { return "whsec_" + secret.Token(32) }

// CreateInput describes a new webhook.
type CreateInput struct {
	Name    string
	URL     string
	Events  []string
	Enabled *bool // nil: true
}

// Create adds a webhook to a project and returns it with its signing
// secret, which is shown only here.
// Errors: Invalid (name, URL, events, an address it may not call),
// Conflict (too many webhooks).
func (s *Service) Create(ctx context.Context, projectID bson.ObjectID, in CreateInput) (*Webhook, string, error) {
	name, err := validName(in.Name)
	if err != nil {
		return nil, "", err
	}
	u, err := s.ValidateURL(ctx, in.URL)
	if err != nil {
		return nil, "", err
	}
	evs, err := ValidateEvents(in.Events)
	if err != nil {
		return nil, "", err
	}
	n, err := s.hooks.CountDocuments(ctx, bson.D{{Key: "projectId", Value: projectID}})
	if err != nil {
		return nil, "", fmt.Errorf("count webhooks: %w", err)
	}
	if n >= int64(s.opts.MaxPerProject) {
		return nil, "", errs.New(errs.Conflict, "a project can have at most %d webhooks", s.opts.MaxPerProject)
	}
	from, err := s.log.LastSeq(ctx)
	if err != nil {
		return nil, "", err
	}
	now := s.timestamp()
	w := &Webhook{
		ID:        bson.NewObjectID(),
		ProjectID: projectID,
		Name:      name,
		URL:       u,
		Events:    evs,
		Enabled:   in.Enabled == nil || *in.Enabled,
		FromSeq:   from,
		CreatedAt: now,
		UpdatedAt: now,
	}
	sec := NewSecret()
	w.SealedSecret = s.box.Seal(sec, secretLabel(w.ID))
	if _, err := s.hooks.InsertOne(ctx, w); err != nil {
		return nil, "", fmt.Errorf("insert webhook: %w", err)
	}
	return w, sec, nil
}

// List returns a project's webhooks, oldest first.
func (s *Service) List(ctx context.Context, projectID bson.ObjectID) ([]*Webhook, error) {
	cur, err := s.hooks.Find(ctx, bson.D{{Key: "projectId", Value: projectID}}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find webhooks: %w", err)
	}
	out := []*Webhook{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read webhooks: %w", err)
	}
	return out, nil
}

// Get returns one webhook of a project. Errors: NotFound.
func (s *Service) Get(ctx context.Context, projectID, id bson.ObjectID) (*Webhook, error) {
	var w Webhook
	err := s.hooks.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "projectId", Value: projectID}}).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errs.New(errs.NotFound, "webhook %s not found", id.Hex())
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook %s: %w", id.Hex(), err)
	}
	return &w, nil
}

// UpdateInput changes a webhook; nil fields are kept.
type UpdateInput struct {
	Name    *string
	URL     *string
	Events  []string // nil: keep
	Enabled *bool
}

// Update changes a webhook of a project.
// Errors: NotFound, Invalid (as Create).
func (s *Service) Update(ctx context.Context, projectID, id bson.ObjectID, in UpdateInput) (*Webhook, error) {
	w, err := s.Get(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	set := bson.D{}
	if in.Name != nil {
		if w.Name, err = validName(*in.Name); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "name", Value: w.Name})
	}
	if in.URL != nil {
		if w.URL, err = s.ValidateURL(ctx, *in.URL); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "url", Value: w.URL})
	}
	if in.Events != nil {
		if w.Events, err = ValidateEvents(in.Events); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "events", Value: w.Events})
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
		set = append(set, bson.E{Key: "enabled", Value: w.Enabled})
	}
	w.UpdatedAt = s.timestamp()
	set = append(set, bson.E{Key: "updatedAt", Value: w.UpdatedAt})
	res, err := s.hooks.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "projectId", Value: projectID}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return nil, fmt.Errorf("update webhook %s: %w", id.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return nil, errs.New(errs.NotFound, "webhook %s not found", id.Hex())
	}
	return w, nil
}

// Delete removes a webhook of a project and its delivery history; its
// queued deliveries are dropped. Errors: NotFound.
func (s *Service) Delete(ctx context.Context, projectID, id bson.ObjectID) error {
	res, err := s.hooks.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "projectId", Value: projectID}})
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id.Hex(), err)
	}
	if res.DeletedCount == 0 {
		return errs.New(errs.NotFound, "webhook %s not found", id.Hex())
	}
	if _, err := s.deliveries.DeleteMany(ctx, bson.D{{Key: "webhookId", Value: id}}); err != nil {
		return fmt.Errorf("delete deliveries of webhook %s: %w", id.Hex(), err)
	}
	return nil
}

// DeleteProject removes every webhook of a project and their deliveries.
func (s *Service) DeleteProject(ctx context.Context, projectID bson.ObjectID) error {
	if _, err := s.hooks.DeleteMany(ctx, bson.D{{Key: "projectId", Value: projectID}}); err != nil {
		return fmt.Errorf("delete webhooks of project %s: %w", projectID.Hex(), err)
	}
	if _, err := s.deliveries.DeleteMany(ctx, bson.D{{Key: "projectId", Value: projectID}}); err != nil {
		return fmt.Errorf("delete webhook deliveries of project %s: %w", projectID.Hex(), err)
	}
	return nil
}

// openSecret recovers a webhook's signing secret.
func (s *Service) openSecret(w *Webhook) (string, error) {
	return s.box.Open(w.SealedSecret, secretLabel(w.ID))
}
