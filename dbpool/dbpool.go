// Package dbpool owns the MongoDB clients: one pooled client per distinct
// connection string, shared by every project that uses it.
package dbpool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/urbackend/urbackend/errs"
)

// DefaultConnectTimeout bounds how long a new connection string may take to
// answer a ping.
const DefaultConnectTimeout = 10 * time.Second

// Pool keeps one client per connection string.
type Pool struct {
	timeout time.Duration
	// Monitor, when set before the first Client call, observes every
	// command of every client.
	Monitor *event.CommandMonitor
	// PoolMonitor, when set before the first Client call, observes the
	// connection pools.
	PoolMonitor *event.PoolMonitor

	mu      sync.Mutex
	clients map[string]*mongo.Client
	ferret  map[*mongo.Client]bool
	closed  bool
}

// New returns an empty pool. timeout bounds connection pings (0 means
// DefaultConnectTimeout).
func New(timeout time.Duration) *Pool {
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	return &Pool{timeout: timeout, clients: map[string]*mongo.Client{}, ferret: map[*mongo.Client]bool{}}
}

// ParseURI checks that uri is a MongoDB connection string and returns the
// database name it names, if any. Errors are Invalid.
func ParseURI(uri string) (database string, err error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return "", errs.New(errs.Invalid, "invalid MongoDB connection string: %s", Redact(err.Error()))
	}
	return cs.Database, nil
}

// Redact removes user:password@ from any connection string inside s.
func Redact(s string) string {
	for _, scheme := range []string{"mongodb://", "mongodb+srv://"} {
		i := strings.Index(s, scheme)
		if i < 0 {
			continue
		}
		rest := s[i+len(scheme):]
		end := strings.IndexAny(rest, "/?# ")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			s = s[:i+len(scheme)] + "***@" + rest[at+1:]
		}
	}
	return s
}

// Client returns the pooled client for uri, connecting and pinging it first
// when it is new. Errors: Invalid for a malformed string, Unavailable when the
// server does not answer within the pool's timeout.
func (p *Pool) Client(ctx context.Context, uri string) (*mongo.Client, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errs.New(errs.Unavailable, "server is shutting down")
	}
	if c, ok := p.clients[uri]; ok {
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()

	c, err := connect(ctx, uri, p.timeout, p.Monitor, p.PoolMonitor)
	if err != nil {
		return nil, err
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if existing, ok := p.clients[uri]; ok || p.closed {
		_ = c.Disconnect(context.Background())
		if p.closed {
			return nil, errs.New(errs.Unavailable, "server is shutting down")
		}
		return existing, nil
	}
	p.clients[uri] = c
	return c, nil
}

// Check connects to uri and pings it without keeping the client. Errors as
// for Client.
func (p *Pool) Check(ctx context.Context, uri string) error {
	_, err := p.Client(ctx, uri)
	return err
}

// Close disconnects every client.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	clients := p.clients
	p.clients = map[string]*mongo.Client{}
	p.closed = true
	p.mu.Unlock()
	var all []error
	for _, c := range clients {
		all = append(all, c.Disconnect(ctx))
	}
	return errors.Join(all...)
}

// Connect opens a client for uri and pings it within timeout. Errors:
// Invalid for a malformed string, Unavailable when it does not answer.
func Connect(ctx context.Context, uri string, timeout time.Duration) (*mongo.Client, error) {
	return connect(ctx, uri, timeout, nil, nil)
}

func connect(ctx context.Context, uri string, timeout time.Duration, mon *event.CommandMonitor, pmon *event.PoolMonitor) (*mongo.Client, error) {
	if _, err := ParseURI(uri); err != nil {
		return nil, err
	}
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout).
		SetAppName("urbackend")
	if mon != nil {
		opts.SetMonitor(mon)
	}
	if pmon != nil {
		opts.SetPoolMonitor(pmon)
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid MongoDB connection string: %s", Redact(err.Error()))
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Ping(pctx, nil); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("cannot reach MongoDB at %s within %s", Hosts(uri), timeout))
	}
	return c, nil
}

// Hosts returns the host list of a connection string, without credentials.
func Hosts(uri string) string {
	cs, err := connstring.Parse(uri)
	if err != nil || len(cs.Hosts) == 0 {
		return "(unknown host)"
	}
	return strings.Join(cs.Hosts, ",")
}

// IsDuplicateKey reports whether err is a unique-index violation. Real
// MongoDB answers code 11000; the embedded FerretDB answers 11000 on insert
// but a generic error carrying SQLite's text on update and index creation.
func IsDuplicateKey(err error) bool {
	if err == nil {
		return false
	}
	return mongo.IsDuplicateKeyError(err) || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// EnsureIndexes creates indexes one at a time. The embedded FerretDB panics
// on a createIndexes command with several indexes that already exist (it
// drops the connection), so never send them together.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index on %s: %w", coll.Name(), err)
		}
	}
	return nil
}

// IsFerretDB reports whether db is served by FerretDB (the embedded
// database), asking the server once per client.
func (p *Pool) IsFerretDB(ctx context.Context, db *mongo.Database) bool {
	c := db.Client()
	p.mu.Lock()
	v, ok := p.ferret[c]
	p.mu.Unlock()
	if ok {
		return v
	}
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, v = info["ferretdbVersion"]
	if !v {
		_, v = info["ferretdb"]
	}
	p.mu.Lock()
	p.ferret[c] = v
	p.mu.Unlock()
	return v
}
