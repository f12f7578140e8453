package dynschema

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/gqlhttp"
	"github.com/urbackend/urbackend/principal"
)

// Websockets: the project is chosen by the API key, which a browser can
// only send in the connection_init payload, after the upgrade. So every
// /graphql websocket is accepted by one shared gqlgen websocket transport
// (graphql-transport-ws and graphql-ws, on gorilla/websocket); its
// InitFunc resolves the caller from the payload (x-api-key,
// Authorization), falling back to the upgrade request's headers and
// ?x-api-key= / ?key= query, and checks the Origin against the project's
// allowed origins like every publishable-key request. Each operation is
// then handed to the project's own gqlgen server (wsMux), with its
// extensions, limits, error presenter and field middleware.

// Close codes of a refused connection_init.
const (
	closeUnauthenticated = 4401
	closeForbidden       = 4403
	closeBadRequest      = 4400
)

// upgrade is what the upgrade request said, for InitFunc.
type upgrade struct {
	key, authorization, origin string
	req                        Request
	conn                       *wsConn
}

type upgradeKey struct{}

// accepted is what serveWebsocket learns from gorillaWebsocket.Accept.
type accepted struct {
	upgraded chan struct{}        // closed once the connection is upgraded
	conn     *gqlhttp.GorillaConn // then the socket
}

type acceptedKey struct{}

// serveWebsocket accepts a websocket on the shared transport. The socket
// is served on a goroutine of its own, and the HTTP handler returns as
// soon as the connection is upgraded (or, refused, answered): so what
// the HTTP server keeps per request until its handler returns (its read
// and write buffers, the request, the middleware's deep stack) does not
// stay allocated for the whole life of a mostly idle socket.
func (h *Handler) serveWebsocket(w http.ResponseWriter, r *http.Request, req Request) {
	conn := &wsConn{h: h, req: req}
	u := upgrade{
		key:           apiKey(r),
		authorization: r.Header.Get("Authorization"),
		origin:        origin(r),
		req:           req,
		conn:          conn,
	}
	acc := &accepted{upgraded: make(chan struct{})}
	// The socket outlives the request, whose context ends when the
	// handler returns.
	ctx := context.WithValue(context.WithoutCancel(r.Context()), upgradeKey{}, u)
	ctx = context.WithValue(ctx, acceptedKey{}, acc)
	r = r.WithContext(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer conn.release()
		defer func() {
			// No HTTP middleware recovers here any more.
			if v := recover(); v != nil {
				h.opts.Logger.Error("panic in a GraphQL websocket", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if acc.conn != nil {
					_ = acc.conn.Close()
				}
			}
		}()
		h.ws.Do(w, r, &wsMux{h: h, conn: conn})
	}()
	select {
	case <-acc.upgraded: // the socket is the goroutine's; w is no longer used
	case <-ended: // not upgraded: the transport answered through w
	}
}

// wsInit resolves a websocket's caller from connection_init, and takes
// one of its project's connection slots (refused with 4429 over the
// limit, or over the project's rate limit).
func (h *Handler) wsInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	u, _ := ctx.Value(upgradeKey{}).(upgrade)
	key := ""
	for k, v := range payload {
		if s, ok := v.(string); ok && strings.EqualFold(k, "x-api-key") {
			key = s
		}
	}
	if key == "" {
		key = u.key
	}
	authz := payload.Authorization()
	if authz == "" {
		authz = u.authorization
	}
	c, err := principal.Resolve(ctx, h.opts.Catalog, principal.Credentials{APIKey: key, Origin: u.origin, Authorization: authz}, h.opts.Now())
	if err != nil {
		code := closeBadRequest
		switch errs.KindOf(err) {
		case errs.Unauthenticated:
			code = closeUnauthenticated
		case errs.Forbidden:
			code = closeForbidden
		}
		return refuseInit(ctx, code, err)
	}
	if u.conn != nil {
		if err := h.limitProject(nil, c.Snapshot.Project.ID); err != nil {
			return refuseInit(ctx, closeTooMany, err)
		}
		if err := u.conn.acquire(c.Snapshot.Project.ID); err != nil {
			return refuseInit(ctx, closeTooMany, err)
		}
	}
	req := u.req
	req.Authorization = authz
	return WithRequest(principal.WithCaller(ctx, c), req), nil, nil
}

// wsMux hands each operation of a websocket to its project's executor.
type wsMux struct {
	h    *Handler
	conn *wsConn
	byOp sync.Map // *graphql.OperationContext → *projectServer
}

var _ graphql.GraphExecutor = (*wsMux)(nil)

// target returns the project's server and a context whose caller holds
// the project's current snapshot: a long-lived connection follows changes
// of its collections.
func (m *wsMux) target(ctx context.Context) (*projectServer, context.Context, error) {
	c, ok := principal.CallerFrom(ctx)
	if !ok {
		return nil, ctx, errs.New(errs.Unauthenticated, "API key not found")
	}
	if snap, err := m.h.opts.Catalog.ByID(ctx, c.Snapshot.Project.ID); err == nil && snap != c.Snapshot {
		cc := *c
		cc.Snapshot = snap
		c = &cc
		ctx = principal.WithCaller(ctx, c)
	}
	ps, err := m.h.server(c.Snapshot)
	return ps, ctx, err
}

func (m *wsMux) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	ps, ctx, err := m.target(ctx)
	if err != nil {
		return &graphql.OperationContext{}, gqlerror.List{m.present(ctx, err)}
	}
	opCtx, list := ps.gexec.CreateOperationContext(ctx, params)
	if len(list) == 0 {
		m.byOp.Store(opCtx, ps)
	}
	return opCtx, list
}

func (m *wsMux) DispatchOperation(ctx context.Context, opCtx *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	v, ok := m.byOp.LoadAndDelete(opCtx)
	ps, ctx, err := m.target(ctx)
	if ok {
		ps, err = v.(*projectServer), nil
	}
	if err == nil {
		err = m.limit(ctx)
	}
	var done func()
	if err == nil && opCtx.Operation != nil && opCtx.Operation.Operation == ast.Subscription {
		done, err = m.conn.startSubscription()
	}
	if err != nil {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{m.present(ctx, err)}}), ctx
	}
	next, ctx := ps.gexec.DispatchOperation(ctx, opCtx)
	if done == nil {
		return next, ctx
	}
	// The subscription ends when its responses do (before the transport
	// says complete) or, whatever happens, when its context ends.
	context.AfterFunc(ctx, done)
	return func(ctx context.Context) *graphql.Response {
		r := next(ctx)
		if r == nil {
			done()
		}
		return r
	}, ctx
}

// limit counts one websocket operation against the rate limits REST
// shares. Errors: RateLimited.
func (m *wsMux) limit(ctx context.Context) error {
	if err := m.h.limitClient(nil, m.conn.req.IP); err != nil {
		return err
	}
	if c, ok := principal.CallerFrom(ctx); ok {
		return m.h.limitProject(nil, c.Snapshot.Project.ID)
	}
	return nil
}

func (m *wsMux) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	if ps, ctx, err := m.target(ctx); err == nil {
		return ps.gexec.DispatchError(ctx, list)
	}
	return &graphql.Response{Errors: list}
}

func (m *wsMux) present(ctx context.Context, err error) *gqlerror.Error {
	return gqlhttp.ErrorPresenter(m.h.opts.Logger)(ctx, err)
}

// newWebsocketTransport is the shared websocket transport, configured as
// gqlhttp configures every GraphQL endpoint's.
func (h *Handler) newWebsocketTransport() transport.Websocket {
	return transport.Websocket{
		Implementation: gorillaWebsocket{upgrader: websocket.Upgrader{
			// Small per-socket buffers: a subscriber's socket is mostly
			// idle and its messages small (the sizes do not limit message
			// sizes). Writes take a buffer from a shared pool for the
			// time of one message; reads use a 1 KB buffer of the
			// socket's own, so the HTTP server's 4 KB read and write
			// buffers are freed once the handler has returned.
			ReadBufferSize:  1024,
			WriteBufferPool: writeBuffers,
			// The Origin is checked in InitFunc against the project's
			// allowed origins; credentials never come from cookies.
			CheckOrigin: func(*http.Request) bool { return true },
		}},
		InitFunc:    h.wsInit,
		InitTimeout: 10 * time.Second,
		// graphql-ws gets "ka" messages; graphql-transport-ws gets pings
		// and must answer pong, or it is closed after two intervals.
		KeepAlivePingInterval: h.opts.KeepAliveInterval,
		PingPongInterval:      h.opts.KeepAliveInterval,
	}
}

// gorillaWebsocket serves gqlgen's websocket transport with
// gorilla/websocket (as gqlhttp's, which is not exported).
type gorillaWebsocket struct{ upgrader websocket.Upgrader }

var _ transport.WebsocketImplementation = gorillaWebsocket{}

func (g gorillaWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := g.upgrader
	up.Subprotocols = slices.Clone(up.Subprotocols)
	for _, p := range opts.Subprotocols {
		if !slices.Contains(up.Subprotocols, p) {
			up.Subprotocols = append(up.Subprotocols, p)
		}
	}
	conn, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	gc := gqlhttp.NewGorillaConn(conn)
	if acc, ok := r.Context().Value(acceptedKey{}).(*accepted); ok {
		acc.conn = gc
		close(acc.upgraded)
	}
	return gc, nil
}

// writeBuffers lends every websocket its write buffer for the time of one
// message.
var writeBuffers = &sync.Pool{}
