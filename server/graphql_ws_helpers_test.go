package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/urbackend/urbackend/server"
)

// Websocket helpers of the per-project GraphQL tests that speak both
// subprotocols, against any instance.

const (
	gqTransportWS = "graphql-transport-ws"
	gqLegacyWS    = "graphql-ws" // the legacy subscriptions-transport-ws protocol
)

// gqClient is a /graphql websocket client on gorilla/websocket.
type gqClient struct {
	t     *testing.T
	c     *websocket.Conn
	proto string
}

// gqConnect opens baseURL/graphql with the subprotocol and sends
// connection_init with payload. It returns the client once acknowledged,
// or the close error the server answered with. A refused upgrade fails
// the test.
func gqConnect(t *testing.T, baseURL, proto string, payload map[string]any, header http.Header) (*gqClient, error) {
	t.Helper()
	c, res, err := gqUpgrade(baseURL, proto, header)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", proto, err, status)
	}
	w := &gqClient{t: t, c: c, proto: proto}
	t.Cleanup(func() { c.Close() })
	raw, _ := json.Marshal(payload)
	w.send(gqMsg{Type: "connection_init", Payload: raw})
	for {
		m, err := w.read()
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return w, nil
		case "ping":
			w.send(gqMsg{Type: "pong"})
		}
		// ka, pong, connection_error: the close follows the error.
	}
}

// gqUpgrade dials baseURL/graphql as a websocket.
func gqUpgrade(baseURL, proto string, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial(strings.Replace(baseURL, "http://", "ws://", 1)+"/graphql", header)
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	return c, res, err
}

func (w *gqClient) send(m gqMsg) {
	w.t.Helper()
	if err := w.c.WriteJSON(m); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *gqClient) read() (gqMsg, error) {
	if err := w.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return gqMsg{}, err
	}
	var m gqMsg
	err := w.c.ReadJSON(&m)
	return m, err
}

// start starts an operation.
func (w *gqClient) start(id, query string, vars map[string]any) {
	w.t.Helper()
	raw, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	typ := "subscribe"
	if w.proto == gqLegacyWS {
		typ = "start"
	}
	w.send(gqMsg{ID: id, Type: typ, Payload: raw})
}

// stop stops an operation.
func (w *gqClient) stop(id string) {
	w.t.Helper()
	typ := "complete"
	if w.proto == gqLegacyWS {
		typ = "stop"
	}
	w.send(gqMsg{ID: id, Type: typ})
}

// next returns the next operation message (next/data, error, complete),
// answering pings; "data" is reported as "next".
func (w *gqClient) next() gqMsg {
	w.t.Helper()
	for {
		m, err := w.read()
		if err != nil {
			w.t.Fatalf("%s read: %v", w.proto, err)
		}
		switch m.Type {
		case "ping":
			w.send(gqMsg{Type: "pong"})
			continue
		case "pong", "ka":
			continue
		case "data":
			m.Type = "next"
		}
		return m
	}
}

// result returns the next operation message's payload as a result.
func (w *gqClient) result() (gqMsg, gqlResult) {
	w.t.Helper()
	m := w.next()
	var p gqlResult
	_ = json.Unmarshal(m.Payload, &p)
	p.Raw = string(m.Payload)
	return m, p
}

// data returns the data of the next "next" message, failing on errors.
func (w *gqClient) data() map[string]any {
	w.t.Helper()
	m, p := w.result()
	if m.Type != "next" || len(p.Errors) > 0 {
		w.t.Fatalf("%s: got %s %s, want data", w.proto, m.Type, m.Payload)
	}
	return p.Data
}

// gqInstance is a second server instance on the same platform database.
type gqInstance struct {
	app *server.App
	ts  *httptest.Server
}

// gqTwin is e.twin() that also hands out the app, to watch its bus.
func gqTwin(e *env) gqInstance {
	e.t.Helper()
	app, err := server.New(context.Background(), e.cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081})
	if err != nil {
		e.t.Fatalf("second instance: %v", err)
	}
	ts := httptest.NewServer(app.Handler())
	e.t.Cleanup(func() {
		ts.Close()
		app.Close(context.Background())
	})
	return gqInstance{app: app, ts: ts}
}

// waitBus waits until the app's bus has n subscribers.
func waitBus(t *testing.T, app *server.App, n int) {
	t.Helper()
	if !eventually(t, 10*time.Second, func() bool { return app.Events.Subscribers() == n }) {
		t.Fatalf("the bus has %d subscribers, want %d", app.Events.Subscribers(), n)
	}
}

// gqMetric reads one gauge from the instance's /metrics.
func gqMetric(t *testing.T, baseURL, name string) int {
	t.Helper()
	res, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + ` (\d+)$`)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// waitMetric waits until a gauge of /metrics reads n.
func waitMetric(t *testing.T, baseURL, name string, n int) {
	t.Helper()
	if !eventually(t, 10*time.Second, func() bool { return gqMetric(t, baseURL, name) == n }) {
		t.Fatalf("%s is %d, want %d", name, gqMetric(t, baseURL, name), n)
	}
}

// gqGoroutines describes the running goroutines, for a failure message.
func gqGoroutines() string {
	buf := make([]byte, 1<<20)
	return fmt.Sprintf("%d goroutines:\n%s", runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
}
