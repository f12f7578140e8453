package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/urbackend/urbackend/server"
)

// wsSubscribe opens a graphql-transport-ws subscription on the admin API
// and returns the connection after the subscribe message.
func wsSubscribe(t *testing.T, e *env, token, query string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/admin/graphql"
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	c, res, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	t.Cleanup(func() { c.Close() })
	must := func(v any) {
		if err := c.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	must(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	var ack map[string]any
	if err := c.ReadJSON(&ack); err != nil || ack["type"] != "connection_ack" {
		t.Fatalf("connection_ack: got %v %v", ack, err)
	}
	must(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	return c
}

func TestAnalyticsLiveAndHistory(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "notes", "fields": []any{}}).ok(t)

	c := wsSubscribe(t, e, tok, `subscription{analytics(projectId:"`+p.ID+`"){at requests errors p50Ms p99Ms requestsToday documents users storageBytes subscriptions}}`)
	for range 4 {
		e.rest(http.MethodPost, "/api/data/notes", restReq{Key: p.SecretKey, Body: map[string]any{"n": 1}})
	}
	e.rest(http.MethodGet, "/api/data/missing?key=pk_live_secretvalue", restReq{Key: p.SecretKey})

	deadline := time.Now().Add(15 * time.Second)
	var tick map[string]any
	for time.Now().Before(deadline) {
		_ = c.SetReadDeadline(deadline)
		var msg struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := c.ReadJSON(&msg); err != nil {
			t.Fatalf("read: %v", err)
		}
		if msg.Type != "next" {
			t.Fatalf("got %s %s", msg.Type, msg.Payload)
		}
		var p struct {
			Data struct {
				Analytics map[string]any `json:"analytics"`
			} `json:"data"`
		}
		_ = json.Unmarshal(msg.Payload, &p)
		tick = p.Data.Analytics
		if tick["requestsToday"].(float64) >= 5 && tick["documents"].(float64) == 4 {
			break
		}
	}
	if tick["requestsToday"].(float64) != 5 || tick["documents"].(float64) != 4 || tick["users"].(float64) != 0 {
		t.Fatalf("last tick %v: want requestsToday 5, documents 4, users 0", tick)
	}

	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	d := e.gql(tok, `{analyticsHistory(projectId:"`+p.ID+`",from:"`+from+`",to:"`+to+`",resolution:HOUR){requests errors}
		analyticsTopRoutes(projectId:"`+p.ID+`",from:"`+from+`",to:"`+to+`"){method route count errors}
		recentRequests(projectId:"`+p.ID+`"){method path status}}`, nil).ok(t)
	var total, errors float64
	for _, b := range get(d, "analyticsHistory").([]any) {
		total += get(b, "requests").(float64)
		errors += get(b, "errors").(float64)
	}
	if total != 5 || errors != 1 {
		t.Errorf("history: %v requests, %v errors; want 5 and 1", total, errors)
	}
	top := get(d, "analyticsTopRoutes").([]any)
	if len(top) != 2 || str(top[0], "route") != "/api/data/notes" || get(top[0], "count") != float64(4) || str(top[0], "method") != "POST" {
		t.Errorf("top routes: %v", top)
	}
	recent, _ := json.Marshal(get(d, "recentRequests"))
	if !strings.Contains(string(recent), `"path":"/api/data/missing"`) || strings.Contains(string(recent), "pk_live") || strings.Contains(string(recent), "key=") {
		t.Errorf("recent requests: %s", recent)
	}
	e.gql(tok, `{analyticsHistory(projectId:"`+p.ID+`",from:"`+to+`",to:"`+from+`",resolution:MINUTE){requests}}`, nil).
		fails(t, "BAD_USER_INPUT", "to must be after from")
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MetricsToken = "metrics-secret" })
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "notes", "fields": []any{}}).ok(t)
	e.rest(http.MethodGet, "/api/data/notes", restReq{Key: p.SecretKey})
	e.rest(http.MethodGet, "/api/data/nope", restReq{Key: p.SecretKey})
	if r := e.rest(http.MethodGet, "/metrics", restReq{}); r.Status != 401 {
		t.Fatalf("without the token: got %d, want 401", r.Status)
	}
	r := e.rest(http.MethodGet, "/metrics", restReq{Headers: map[string]string{"Authorization": "Bearer metrics-secret"}})
	for _, want := range []string{
		`urbackend_requests_total{door="rest"} 2`,
		`urbackend_responses_total{class="2xx"} 1`,
		`urbackend_responses_total{class="4xx"} 1`,
		`urbackend_request_duration_seconds_bucket{le="+Inf"} 2`,
		`urbackend_request_duration_seconds_count 2`,
		`urbackend_active_projects 1`,
		`urbackend_mongo_connections{state="open"}`,
		`urbackend_subscriptions 0`,
		`urbackend_webhook_queue 0`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("metrics lack %q:\n%s", want, r.Body)
		}
	}
	if strings.Contains(r.Body, p.SecretKey) {
		t.Error("metrics contain a key")
	}
}

func TestPlaygrounds(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{
		"/admin/graphql": "urBackend admin GraphQL",
		"/graphql":       "x-api-key",
	} {
		r := e.rest(http.MethodGet, path, restReq{Headers: map[string]string{"Accept": "text/html"}})
		if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Body, want) || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s: %d %s, want the playground page with %q", path, r.Status, r.Header.Get("Content-Type"), want)
		}
	}
	// A GraphQL GET still runs the operation.
	r := e.rest(http.MethodGet, "/admin/graphql?query=%7Bme%7Bid%7D%7D", restReq{})
	if !strings.Contains(r.Body, "UNAUTHENTICATED") {
		t.Errorf("GraphQL GET: %s", r.Body)
	}
}
