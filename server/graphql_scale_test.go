package server_test

import (
	"errors"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/urbackend/urbackend/server"
)

// Every instance's subscribers get every write, whichever instance took
// it, exactly once and in sequence order (through the events log).
func TestGraphQLSubscriptionsAcrossInstances(t *testing.T) {
	g := gqNew(t)
	g.define(t, "posts", nil, gqField("title", "String"), gqField("n", "Number"))
	b := gqTwin(g.env)
	instances := []struct {
		name string
		url  string
		app  *server.App
	}{{"A", g.ts.URL, g.app}, {"B", b.ts.URL, b.app}}

	type subscriber struct {
		name string
		ws   *gqClient
	}
	var subs []subscriber
	for _, in := range instances {
		for _, proto := range []string{gqTransportWS, gqLegacyWS} {
			ws, err := gqConnect(t, in.url, proto, map[string]any{"x-api-key": g.p.PublishableKey}, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", in.name, proto, err)
			}
			ws.start("s", `subscription { postsChanged { op id doc { title n } } }`, nil)
			subs = append(subs, subscriber{in.name + " " + proto, ws})
		}
	}
	for _, in := range instances {
		waitBus(t, in.app, 2)
	}

	// 20 inserts through REST, alternating instances. Each returns after
	// its event is numbered, so their order is the sequence order.
	insert := func(url string, i int) string {
		t.Helper()
		body := `{"title":"t` + strconv.Itoa(i) + `","n":` + strconv.Itoa(i) + `}`
		req, _ := http.NewRequest(http.MethodPost, url+"/api/data/posts", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-key", g.p.SecretKey)
		res, raw := g.do(req)
		if res.StatusCode != 201 && res.StatusCode != 200 {
			t.Fatalf("insert %d: %d %s", i, res.StatusCode, raw)
		}
		return str(restResult{Body: raw}.json(t), "_id")
	}
	var ids []string
	for i := range 20 {
		ids = append(ids, insert(instances[i%2].url, i))
	}
	sentinel := insert(b.ts.URL, 20)

	for _, s := range subs {
		var got []string
		for range len(ids) + 1 {
			d := s.ws.data()
			if op := str(d, "postsChanged", "op"); op != "INSERT" {
				t.Fatalf("%s: event %v", s.name, d)
			}
			got = append(got, str(d, "postsChanged", "id"))
		}
		// The sentinel comes right after the 20: nothing twice, nothing
		// missing, nothing out of order.
		if want := append(slices.Clone(ids), sentinel); !slices.Equal(got, want) {
			t.Errorf("%s got\n%v\nwant\n%v", s.name, got, want)
		}
	}
}

// Websockets are pinged: "ka" on graphql-ws, ping on graphql-transport-ws,
// where a client that never answers pong is dropped.
func TestGraphQLWebsocketKeepAlive(t *testing.T) {
	g := gqNew(t, func(c *server.Config) { c.WSKeepAliveInterval = 50 * time.Millisecond })
	init := map[string]any{"x-api-key": g.p.SecretKey}

	// A graphql-transport-ws client that answers pings stays connected.
	ws, err := gqConnect(t, g.ts.URL, gqTransportWS, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; {
		m, err := ws.read()
		if err != nil {
			t.Fatalf("after %d pings: %v", i, err)
		}
		if m.Type == "ping" {
			ws.send(gqMsg{Type: "pong"})
			i++
		}
	}
	ws.start("1", `{ __typename }`, nil)
	if d := ws.data(); d["__typename"] != "Query" {
		t.Errorf("after the pings: %v", d)
	}

	// graphql-ws gets "ka" messages.
	legacy, err := gqConnect(t, g.ts.URL, gqLegacyWS, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; {
		m, err := legacy.read()
		if err != nil {
			t.Fatalf("graphql-ws after %d keep-alives: %v", i, err)
		}
		if m.Type == "ka" {
			i++
		}
	}

	// A graphql-transport-ws client that never answers is closed.
	silent, err := gqConnect(t, g.ts.URL, gqTransportWS, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	pings := 0
	for {
		m, err := silent.read()
		if err != nil {
			var ce *websocket.CloseError
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("a client that never answers pings was not dropped (%d pings)", pings)
			}
			if pings == 0 && !errors.As(err, &ce) {
				t.Fatalf("dropped before any ping: %v", err)
			}
			break
		}
		if m.Type == "ping" {
			pings++
		}
	}
}

// Completed subscriptions and closed websockets, of either protocol,
// leave no goroutine behind.
func TestGraphQLWebsocketGoroutines(t *testing.T) {
	g := gqNew(t)
	g.define(t, "posts", nil, gqField("title", "String"))
	init := map[string]any{"x-api-key": g.p.SecretKey}
	const sub = `subscription { postsChanged { op doc { title } } }`

	round := func() {
		t.Helper()
		modern, err := gqConnect(t, g.ts.URL, gqTransportWS, init, nil)
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := gqConnect(t, g.ts.URL, gqLegacyWS, init, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ws := range []*gqClient{modern, legacy} {
			for i := range 3 {
				ws.start(strconv.Itoa(i), sub, nil)
			}
		}
		waitSubscribers(t, g.env, 6)
		g.sk(t, `mutation { insertPosts(doc: {title: "x"}) { _id } }`, nil)
		for _, ws := range []*gqClient{modern, legacy} {
			for range 3 {
				ws.data()
			}
			ws.stop("0") // unsubscribe
			if m := ws.next(); m.Type != "complete" || m.ID != "0" {
				t.Fatalf("%s stop: %s %s", ws.proto, m.ID, m.Type)
			}
		}
		waitSubscribers(t, g.env, 4)
		// One says goodbye, the other just goes away.
		if err := modern.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
			t.Fatal(err)
		}
		legacy.c.Close()
		waitSubscribers(t, g.env, 0)
		waitMetric(t, g.ts.URL, "urbackend_graphql_websockets", 0)
		modern.c.Close()
		http.DefaultClient.CloseIdleConnections()
	}
	// settled waits until the number of goroutines stops falling and
	// returns it.
	settled := func() int {
		n := runtime.NumGoroutine()
		stable := 0
		eventually(t, 10*time.Second, func() bool {
			if m := runtime.NumGoroutine(); m < n {
				n, stable = m, 0
				return false
			}
			stable++
			return stable >= 10
		})
		return n
	}

	round() // warm up: connection pools, caches, lazily started workers
	before := settled()
	for range 3 {
		round()
	}
	if !eventually(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		t.Fatalf("%d goroutines before, now %s", before, gqGoroutines())
	}
}
