package dynschema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/gqlhttp"
	"github.com/urbackend/urbackend/principal"
)

// Options configure the per-project GraphQL endpoint.
type Options struct {
	// Catalog resolves API keys and gives projects' current snapshots.
	Catalog *catalog.Catalog
	// Deps are the executors' dependencies.
	Deps Deps
	// Logger logs internal errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock for token checks (default time.Now).
	Now func() time.Time
	// ComplexityLimit caps one operation's cost (0: gqlhttp's default).
	ComplexityLimit int
	// MaxDepth caps how deeply an operation's fields nest (0: 12).
	MaxDepth int
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry, as the REST API does.
	TrustProxy bool
	// Limits are the safety-net rate limits shared with REST (nil:
	// none). Every HTTP request counts once per client address (before
	// the key check) and once per project; a websocket counts at the
	// upgrade (address), at connection_init (project) and per operation
	// (both).
	Limits RateLimits
	// MaxSubscriptionsPerConnection caps a websocket's active
	// subscriptions (0: DefaultMaxSubscriptionsPerConnection).
	MaxSubscriptionsPerConnection int
	// MaxConnectionsPerProject caps a project's open websockets on this
	// instance (0: DefaultMaxConnectionsPerProject).
	MaxConnectionsPerProject int
	// KeepAliveInterval is how often websockets are pinged: "ka" on
	// graphql-ws, ping (answered by pong, else the socket is closed after
	// two intervals) on graphql-transport-ws (0: DefaultKeepAliveInterval).
	KeepAliveInterval time.Duration
	// SweepInterval is how often Run checks the cached servers (0:
	// DefaultSweepInterval); IdleTTL is how long an unused one is kept
	// (0: DefaultIdleTTL).
	SweepInterval time.Duration
	IdleTTL       time.Duration
}

// Handler serves /graphql: each project's schema and gqlgen server are
// built on first use and cached, rebuilt when the project's collection
// definitions change, and dropped when the project is deleted, changes
// (Evict, Sweep) or goes unused (Sweep). It also serves a small built-in GraphQL
// page to browsers (GET with Accept: text/html).
type Handler struct {
	opts Options
	ws   transport.Websocket

	mu       sync.Mutex // guards projects (held while one builds)
	projects map[bson.ObjectID]*projectServer

	cmu   sync.Mutex            // guards conns and open
	conns map[bson.ObjectID]int // open websockets per project
	open  int                   // open websockets
}

// projectServer is a project's built schema and server.
type projectServer struct {
	snap        *catalog.Snapshot // the snapshot last seen with this schema
	fingerprint string
	exec        *Executor
	srv         *handler.Server
	gexec       graphql.GraphExecutor // srv's executor, for websockets
	used        atomic.Int64          // last use, Unix nanoseconds
}

func (ps *projectServer) usedAt() time.Time { return time.Unix(0, ps.used.Load()) }

// NewHandler returns the /graphql handler.
func NewHandler(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 12
	}
	if o.MaxSubscriptionsPerConnection <= 0 {
		o.MaxSubscriptionsPerConnection = DefaultMaxSubscriptionsPerConnection
	}
	if o.MaxConnectionsPerProject <= 0 {
		o.MaxConnectionsPerProject = DefaultMaxConnectionsPerProject
	}
	if o.KeepAliveInterval <= 0 {
		o.KeepAliveInterval = DefaultKeepAliveInterval
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.IdleTTL <= 0 {
		o.IdleTTL = DefaultIdleTTL
	}
	if o.Deps.Logger == nil {
		o.Deps.Logger = o.Logger
	}
	if o.Deps.Snapshots == nil && o.Catalog != nil {
		o.Deps.Snapshots = o.Catalog
	}
	h := &Handler{opts: o, projects: map[bson.ObjectID]*projectServer{}, conns: map[bson.ObjectID]int{}}
	h.ws = h.newWebsocketTransport()
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setCORS(w, r)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	req := h.request(r)
	if err := h.limitClient(w.Header(), req.IP); err != nil {
		h.writeError(w, r, err)
		return
	}
	switch {
	case isUpgrade(r):
		h.serveWebsocket(w, r, req)
		return
	case r.Method == http.MethodGet && r.URL.Query().Get("query") == "" && strings.Contains(r.Header.Get("Accept"), "text/html"):
		servePlayground(w)
		return
	}
	c, err := principal.Resolve(r.Context(), h.opts.Catalog, principal.Credentials{
		APIKey: apiKey(r), Origin: origin(r), Authorization: r.Header.Get("Authorization"),
	}, h.opts.Now())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.limitProject(w.Header(), c.Snapshot.Project.ID); err != nil {
		h.writeError(w, r, err)
		return
	}
	ps, err := h.server(c.Snapshot)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	ctx := withoutStreaming(WithRequest(principal.WithCaller(r.Context(), c), req))
	ps.srv.ServeHTTP(w, r.WithContext(ctx))
}

// server returns the project's server for snap, building it when the
// project's collections changed since it was built.
func (h *Handler) server(snap *catalog.Snapshot) (*projectServer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := snap.Project.ID
	ps := h.projects[id]
	if ps != nil && ps.snap == snap {
		ps.used.Store(h.opts.Now().UnixNano())
		return ps, nil
	}
	fp := fingerprint(snap)
	if ps != nil && ps.fingerprint == fp {
		ps.snap = snap
		ps.used.Store(h.opts.Now().UnixNano())
		return ps, nil
	}
	exec, err := NewExecutor(snap, h.opts.Deps)
	if err != nil {
		return nil, err
	}
	srv := gqlhttp.New(exec, gqlhttp.Options{
		Logger:          h.opts.Logger,
		InitFunc:        h.wsInit,
		ComplexityLimit: h.opts.ComplexityLimit,
		Uploads:         h.uploads(),
	})
	srv.Use(DepthLimit{Max: h.opts.MaxDepth})
	srv.AroundFields(exec.ReadCheck)
	ps = &projectServer{snap: snap, fingerprint: fp, exec: exec, srv: srv, gexec: captureExecutor(srv)}
	ps.used.Store(h.opts.Now().UnixNano())
	h.projects[id] = ps
	return ps, nil
}

// fingerprint identifies what a schema is built from: the collections'
// names and fields.
func fingerprint(snap *catalog.Snapshot) string {
	type entry struct {
		Name   string
		Fields []collections.Field
	}
	list := make([]entry, 0, len(snap.Collections))
	for name, c := range snap.Collections {
		list = append(list, entry{name, c.Fields})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.Name, b.Name) })
	raw, _ := json.Marshal(list)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// captureMethod is a request method only captureTransport supports.
const captureMethod = "X-UB-CAPTURE-EXECUTOR"

// captureTransport hands out the executor of the server it is added to
// (gqlgen keeps it private), so that the shared websocket transport can
// run operations on it.
type captureTransport struct{ got *graphql.GraphExecutor }

func (c captureTransport) Supports(r *http.Request) bool { return r.Method == captureMethod }

func (c captureTransport) Do(_ http.ResponseWriter, _ *http.Request, exec graphql.GraphExecutor) {
	*c.got = exec
}

func captureExecutor(srv *handler.Server) graphql.GraphExecutor {
	var got graphql.GraphExecutor
	srv.AddTransport(captureTransport{got: &got})
	req := (&http.Request{Method: captureMethod, URL: &url.URL{}, Header: http.Header{}}).WithContext(context.Background())
	srv.ServeHTTP(discard{}, req)
	return got
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// writeError answers a request refused before execution (no key, bad
// key, origin) with the REST status and a GraphQL error body.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	gerr := gqlhttp.ErrorPresenter(h.opts.Logger)(r.Context(), err)
	body, _ := json.Marshal(map[string]any{"errors": []any{gerr}, "data": nil})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(errs.KindOf(err).Status())
	_, _ = w.Write(body)
}

// apiKey is the x-api-key header, else a publishable key in ?key= or
// ?x-api-key=, as REST accepts it.
func apiKey(r *http.Request) string {
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	q := r.URL.Query()
	for _, name := range []string{"key", "x-api-key"} {
		if v := q.Get(name); strings.HasPrefix(v, "pk_live_") {
			return v
		}
	}
	return ""
}

// origin is the Origin header, else the Referer.
func origin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	return r.Header.Get("Referer")
}

// request is the client side of r, for auth sessions and throttling.
func (h *Handler) request(r *http.Request) Request {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host
	}
	if h.opts.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				ip = last
			}
		}
	}
	return Request{IP: ip, UserAgent: r.UserAgent()}
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// setCORS lets browsers call the endpoint from any origin (the key check
// enforces a project's allowed origins) and answers preflights.
func setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		// As REST: let browsers read the rate-limit headers.
		h.Set("Access-Control-Expose-Headers", "Retry-After, RateLimit-Policy, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET,POST,OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		h.Set("Access-Control-Max-Age", "600")
	}
}
