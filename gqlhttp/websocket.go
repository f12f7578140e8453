package gqlhttp

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// gorillaWebsocket serves gqlgen's websocket transport with
// gorilla/websocket instead of gqlgen's default library.
type gorillaWebsocket struct {
	upgrader websocket.Upgrader
}

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
	return NewGorillaConn(conn), nil
}

// NewGorillaConn adapts a gorilla websocket to gqlgen's websocket
// transport (for handlers that upgrade the connection themselves).
func NewGorillaConn(c *websocket.Conn) *GorillaConn { return &GorillaConn{conn: c} }

// GorillaConn is a gorilla websocket as gqlgen's transport.WebsocketConn.
type GorillaConn struct {
	conn *websocket.Conn
	wmu  sync.Mutex // gorilla allows one concurrent writer
}

var (
	_ transport.WebsocketConn          = (*GorillaConn)(nil)
	_ transport.WebsocketReadLimiter   = (*GorillaConn)(nil)
	_ transport.WebsocketReadDeadliner = (*GorillaConn)(nil)
)

func (c *GorillaConn) Close() error { return c.conn.Close() }

func (c *GorillaConn) NextReader() (int, io.Reader, error) {
	mt, r, err := c.conn.NextReader()
	if err != nil && websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
		return mt, nil, transport.ErrWebsocketClosed
	}
	return mt, r, err
}

func (c *GorillaConn) WriteJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteJSON(v)
}

func (c *GorillaConn) WriteClose(code int, message string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, message), time.Now().Add(time.Second))
}

func (c *GorillaConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *GorillaConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

func (c *GorillaConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }
