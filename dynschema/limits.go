package dynschema

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/errs"
)

// Defaults of Options.
const (
	DefaultMaxSubscriptionsPerConnection = 100
	DefaultMaxConnectionsPerProject      = 20000
	DefaultKeepAliveInterval             = 15 * time.Second
	DefaultSweepInterval                 = time.Minute
	DefaultIdleTTL                       = 30 * time.Minute
)

// closeTooMany is the close code of a websocket refused at
// connection_init by a limit (the project's connections or its rate).
const closeTooMany = 4429

// RateLimits are the safety-net rate limits the REST API applies
// (*rest.API), shared so that a client has one budget whichever door it
// uses. Each returns a RateLimited error over the limit, after setting
// the rate-limit headers (and Retry-After) on h when h is not nil.
type RateLimits interface {
	// LimitClient counts one request from the client address ip.
	LimitClient(h http.Header, ip string) error
	// LimitProject counts one request of the project.
	LimitProject(h http.Header, projectID bson.ObjectID) error
}

func (h *Handler) limitClient(hdr http.Header, ip string) error {
	if h.opts.Limits == nil {
		return nil
	}
	return h.opts.Limits.LimitClient(hdr, ip)
}

func (h *Handler) limitProject(hdr http.Header, id bson.ObjectID) error {
	if h.opts.Limits == nil {
		return nil
	}
	return h.opts.Limits.LimitProject(hdr, id)
}

// wsConn is one websocket's bookkeeping: the project connection slot it
// holds (taken at connection_init, given back when the socket ends) and
// its active subscriptions.
type wsConn struct {
	h   *Handler
	req Request

	// project and held are set by wsInit, read by serveWebsocket after
	// the transport returns; both run on the connection's goroutine.
	project bson.ObjectID
	held    bool

	mu   sync.Mutex
	subs int
}

// acquire takes a connection slot of the project. Errors: RateLimited.
func (c *wsConn) acquire(id bson.ObjectID) error {
	h := c.h
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if h.conns[id] >= h.opts.MaxConnectionsPerProject {
		return errs.New(errs.RateLimited, "Too many websocket connections for this project (limit %d).", h.opts.MaxConnectionsPerProject)
	}
	h.conns[id]++
	h.open++
	c.project, c.held = id, true
	return nil
}

// release gives the connection slot back.
func (c *wsConn) release() {
	if !c.held {
		return
	}
	h := c.h
	h.cmu.Lock()
	if h.conns[c.project]--; h.conns[c.project] <= 0 {
		delete(h.conns, c.project)
	}
	h.open--
	h.cmu.Unlock()
	c.held = false
}

// startSubscription counts one more active subscription on the
// connection; the returned func, called any number of times, ends it.
// Errors: RateLimited.
func (c *wsConn) startSubscription() (func(), error) {
	limit := c.h.opts.MaxSubscriptionsPerConnection
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs >= limit {
		return nil, errs.New(errs.RateLimited, "Too many subscriptions on this connection (limit %d). Complete one before starting another.", limit)
	}
	c.subs++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.subs--
			c.mu.Unlock()
		})
	}, nil
}

// refuseInit ends a connection_init with the close code and reason err
// calls for.
func refuseInit(ctx context.Context, code int, err error) (context.Context, *transport.InitPayload, error) {
	msg := errs.ClientMessage(err)
	ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), msg)
	return ctx, nil, errs.New(errs.KindOf(err), "%s", msg)
}

// Evict drops a project's cached schema and server (the project changed
// or was deleted); the next request builds them again. Open websockets
// keep working: each operation looks its project's server up again.
func (h *Handler) Evict(projectID bson.ObjectID) {
	h.mu.Lock()
	delete(h.projects, projectID)
	h.mu.Unlock()
}

// Sweep drops the cached servers of projects that were deleted or whose
// snapshot changed (on another instance: this one hears of it through
// the catalog), and of projects unused for IdleTTL.
func (h *Handler) Sweep(ctx context.Context) {
	type cachedServer struct {
		ps   *projectServer
		snap *catalog.Snapshot
	}
	h.mu.Lock()
	cached := make(map[bson.ObjectID]cachedServer, len(h.projects))
	for id, ps := range h.projects {
		cached[id] = cachedServer{ps, ps.snap}
	}
	h.mu.Unlock()
	now := h.opts.Now()
	for id, c := range cached {
		ps := c.ps
		drop := now.Sub(ps.usedAt()) > h.opts.IdleTTL
		if !drop && h.opts.Deps.Snapshots != nil {
			snap, err := h.opts.Deps.Snapshots.ByID(ctx, id)
			switch {
			case errs.Is(err, errs.NotFound):
				drop = true
			case err != nil:
				// Unknown (database unreachable): keep it for now.
			case snap != c.snap && fingerprint(snap) != ps.fingerprint:
				drop = true
			}
		}
		if !drop {
			continue
		}
		h.mu.Lock()
		if h.projects[id] == ps {
			delete(h.projects, id)
		}
		h.mu.Unlock()
	}
}

// Run sweeps the cache every SweepInterval until ctx is done.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(h.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Sweep(ctx)
		}
	}
}

// Stats is what the handler holds on this instance.
type Stats struct {
	// Projects is the number of cached project schemas and servers.
	Projects int
	// Websockets is the number of open, initialised websockets.
	Websockets int
}

// Stats reports what the handler holds now.
func (h *Handler) Stats() Stats {
	h.mu.Lock()
	n := len(h.projects)
	h.mu.Unlock()
	h.cmu.Lock()
	defer h.cmu.Unlock()
	return Stats{Projects: n, Websockets: h.open}
}

// WriteMetrics writes the handler's gauges in the Prometheus text format.
func (h *Handler) WriteMetrics(w io.Writer) {
	s := h.Stats()
	fmt.Fprintln(w, "# HELP urbackend_graphql_projects Per-project GraphQL schemas cached on this instance.")
	fmt.Fprintln(w, "# TYPE urbackend_graphql_projects gauge")
	fmt.Fprintf(w, "urbackend_graphql_projects %d\n", s.Projects)
	fmt.Fprintln(w, "# HELP urbackend_graphql_websockets Open per-project GraphQL websockets on this instance.")
	fmt.Fprintln(w, "# TYPE urbackend_graphql_websockets gauge")
	fmt.Fprintf(w, "urbackend_graphql_websockets %d\n", s.Websockets)
}
