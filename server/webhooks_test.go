package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

// Helpers of the webhook tests start with wh.

// whWait bounds every wait for a delivery: a bound for a broken
// implementation, not a timing claim.
const whWait = 20 * time.Second

// whHit is one request a receiver got.
type whHit struct {
	Header http.Header
	Body   []byte
}

func (h whHit) event() string { return h.Header.Get("X-urBackend-Event") }
func (h whHit) id() string    { return h.Header.Get("X-urBackend-Delivery-Id") }

// whReceiver is a local webhook endpoint. status picks the answer to the
// n-th request (from 1); nil answers 200.
type whReceiver struct {
	srv  *httptest.Server
	hits chan whHit

	mu     sync.Mutex
	n      int
	status func(n int) int
	all    []whHit
}

func whListen(t *testing.T, status func(n int) int) *whReceiver {
	t.Helper()
	r := &whReceiver{hits: make(chan whHit, 1000), status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		h := whHit{Header: req.Header.Clone(), Body: b}
		r.mu.Lock()
		r.n++
		n := r.n
		r.all = append(r.all, h)
		r.mu.Unlock()
		r.hits <- h
		code := 200
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"answer":%d}`, code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *whReceiver) url() string { return r.srv.URL + "/hook" }

func (r *whReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// next waits for the next request.
func (r *whReceiver) next(t *testing.T) whHit {
	t.Helper()
	select {
	case h := <-r.hits:
		return h
	case <-time.After(whWait):
		t.Fatalf("no webhook request within %v", whWait)
		return whHit{}
	}
}

// nextN waits for n requests.
func (r *whReceiver) nextN(t *testing.T, n int) []whHit {
	t.Helper()
	out := make([]whHit, 0, n)
	for range n {
		out = append(out, r.next(t))
	}
	return out
}

// whEnv is a server that lets webhooks call the local receivers, with
// short retries.
func whEnv(t *testing.T, schedule []time.Duration, opts ...func(*server.Config)) (*env, string, project) {
	t.Helper()
	e := newEnv(t, append([]func(*server.Config){func(c *server.Config) {
		c.WebhookAllowPrivate = true
		c.WebhookRetrySchedule = schedule
	}}, opts...)...)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "hooks"})
	define(e, tok, p.ID, map[string]any{"name": "posts", "fields": []any{field("title", "String")}}).ok(t)
	return e, tok, p
}

const whCreateQ = `mutation($p:ID!,$in:CreateWebhookInput!){createWebhook(projectId:$p,input:$in){secret webhook{id name url events enabled createdAt}}}`

// whCreate creates a webhook and returns its id and secret.
func whCreate(t *testing.T, e *env, tok, pid, url string, events ...string) (string, string) {
	t.Helper()
	d := e.gql(tok, whCreateQ, map[string]any{"p": pid, "in": map[string]any{"url": url, "events": events}}).ok(t)
	return str(d, "createWebhook", "webhook", "id"), str(d, "createWebhook", "secret")
}

const whDeliveriesQ = `query($p:ID!,$w:ID!,$n:Int){webhookDeliveries(projectId:$p,webhookId:$w,limit:$n){id event status attempts responseCode error createdAt lastAttemptAt nextAttemptAt}}`

func whDeliveries(t *testing.T, e *env, tok, pid, wid string) []map[string]any {
	t.Helper()
	d := e.gql(tok, whDeliveriesQ, map[string]any{"p": pid, "w": wid, "n": 100}).ok(t)
	var out []map[string]any
	for _, v := range get(d, "webhookDeliveries").([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// whSettled waits until the webhook has want deliveries, none of them
// pending or in flight, and returns them.
func whSettled(t *testing.T, e *env, tok, pid, wid string, want int) []map[string]any {
	t.Helper()
	var ds []map[string]any
	ok := eventually(t, whWait, func() bool {
		ds = whDeliveries(t, e, tok, pid, wid)
		if len(ds) != want {
			return false
		}
		for _, d := range ds {
			if s := d["status"]; s != "delivered" && s != "failed" {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("deliveries did not settle: got %v, want %d finished", ds, want)
	}
	return ds
}

// whVerify checks the signature with an independent HMAC and returns the
// decoded body.
func whVerify(t *testing.T, secret string, h whHit) map[string]any {
	t.Helper()
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(h.Body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := h.Header.Get("X-urBackend-Signature"); got != want {
		t.Fatalf("signature: got %q, want %q", got, want)
	}
	if ct := h.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var v map[string]any
	if err := json.Unmarshal(h.Body, &v); err != nil {
		t.Fatalf("body %q: %v", h.Body, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, h.Body); err != nil || compact.String() != string(h.Body) {
		t.Errorf("body is not compact JSON: %s", h.Body)
	}
	if v["event"] != h.event() {
		t.Errorf("body event %v, header %q", v["event"], h.event())
	}
	return v
}

var whKeyOrder = regexp.MustCompile(`^\{"event":"[^"]+","timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","projectId":"[0-9a-f]{24}","collection":"[^"]+","action":"[^"]+","documentId":"[^"]+","data":\{`)

func TestWebhookDeliversWrites(t *testing.T) {
	e, tok, p := whEnv(t, nil)
	r := whListen(t, nil)
	other := whListen(t, nil)
	wid, secret := whCreate(t, e, tok, p.ID, r.url(), "posts.*")
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 16 {
		t.Fatalf("secret %q", secret)
	}
	otherID, _ := whCreate(t, e, tok, p.ID, other.url(), "comments.insert")
	key := restReq{Key: p.SecretKey}

	ins := e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "Hello <b>&</b>"}})
	if ins.Status != 201 {
		t.Fatalf("insert: %d %s", ins.Status, ins.Body)
	}
	id := str(ins.json(t), "_id")
	h := r.next(t)
	b := whVerify(t, secret, h)
	if !whKeyOrder.Match(h.Body) {
		t.Errorf("body shape: %s", h.Body)
	}
	for k, want := range map[string]any{"event": "posts.insert", "projectId": p.ID, "collection": "posts", "action": "insert", "documentId": id} {
		if b[k] != want {
			t.Errorf("%s: got %v, want %v", k, b[k], want)
		}
	}
	if got := str(b, "data", "_id"); got != id {
		t.Errorf("data._id: got %q, want %q", got, id)
	}
	if got := str(b, "data", "title"); got != "Hello <b>&</b>" {
		t.Errorf("data.title: got %q", got)
	}
	if !bytes.Contains(h.Body, []byte(`"Hello <b>&</b>"`)) {
		t.Errorf("HTML characters are escaped (JSON.stringify does not): %s", h.Body)
	}
	if !regexp.MustCompile(`^` + wid + `-\d+$`).MatchString(h.id()) {
		t.Errorf("delivery id %q, want <webhook id>-<seq>", h.id())
	}

	if res := e.rest("PATCH", "/api/data/posts/"+id, restReq{Key: p.SecretKey, Body: map[string]any{"title": "Edited"}}); res.Status != 200 {
		t.Fatalf("update: %d %s", res.Status, res.Body)
	}
	h = r.next(t)
	b = whVerify(t, secret, h)
	if b["event"] != "posts.update" || b["action"] != "update" || b["documentId"] != id || str(b, "data", "title") != "Edited" {
		t.Errorf("update body: %s", h.Body)
	}
	if res := e.rest("DELETE", "/api/data/posts/"+id, key); res.Status != 200 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	h = r.next(t)
	b = whVerify(t, secret, h)
	if b["event"] != "posts.delete" || b["documentId"] != id || str(b, "data", "title") != "Edited" {
		t.Errorf("delete body: %s", h.Body)
	}

	// A bulk insert: one event per document.
	if res := e.rest("POST", "/api/data/posts/bulk", restReq{Key: p.SecretKey, Body: []any{map[string]any{"title": "a"}, map[string]any{"title": "b"}, map[string]any{"title": "c"}}}); res.Status != 201 {
		t.Fatalf("bulk: %d %s", res.Status, res.Body)
	}
	var titles []string
	docs := map[string]bool{}
	for _, h := range r.nextN(t, 3) {
		b := whVerify(t, secret, h)
		if b["event"] != "posts.insert" {
			t.Errorf("bulk event %v", b["event"])
		}
		titles = append(titles, str(b, "data", "title"))
		docs[str(b, "documentId")] = true
	}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"a", "b", "c"}) || len(docs) != 3 {
		t.Errorf("bulk deliveries: titles %v, %d documents", titles, len(docs))
	}

	ds := whSettled(t, e, tok, p.ID, wid, 6)
	for _, d := range ds {
		if d["status"] != "delivered" || d["attempts"] != float64(1) || d["responseCode"] != float64(200) || d["error"] != nil || d["nextAttemptAt"] != nil || d["lastAttemptAt"] == nil {
			t.Errorf("delivery %v", d)
		}
	}
	if ds := whDeliveries(t, e, tok, p.ID, otherID); len(ds) != 0 {
		t.Errorf("a webhook for comments.insert got %d deliveries", len(ds))
	}
	if n := other.count(); n != 0 {
		t.Errorf("a webhook for comments.insert was called %d times", n)
	}

	// The secret was shown once, and never logged.
	e.mu.Lock()
	shown := 0
	for _, body := range e.bodies {
		if strings.Contains(body, secret) {
			shown++
		}
	}
	e.mu.Unlock()
	if shown != 1 {
		t.Errorf("the secret appeared in %d responses, want only createWebhook's", shown)
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Error("the secret appears in the logs")
	}
}

func TestWebhookCRUD(t *testing.T) {
	e, tok, p := whEnv(t, nil)
	r := whListen(t, nil)
	d := e.gql(tok, whCreateQ, map[string]any{"p": p.ID, "in": map[string]any{"name": "Sync", "url": r.url(), "events": []any{"posts.insert", "posts.insert", "*.delete"}, "enabled": false}}).ok(t)
	wid := str(d, "createWebhook", "webhook", "id")
	if w := get(d, "createWebhook", "webhook").(map[string]any); w["name"] != "Sync" || w["url"] != r.url() || w["enabled"] != false || fmt.Sprint(w["events"]) != "[posts.insert *.delete]" {
		t.Errorf("created %v", w)
	}

	list := e.gql(tok, `query($p:ID!){webhooks(projectId:$p){id url events enabled}}`, map[string]any{"p": p.ID}).ok(t)
	if ws := get(list, "webhooks").([]any); len(ws) != 1 || str(ws[0], "id") != wid {
		t.Fatalf("webhooks: %v", ws)
	}
	if strings.Contains(e.gql(tok, `query($p:ID!){webhooks(projectId:$p){id}}`, map[string]any{"p": p.ID}).Raw, "whsec_") {
		t.Error("the secret is listed")
	}

	up := e.gql(tok, `mutation($p:ID!,$id:ID!,$in:UpdateWebhookInput!){updateWebhook(projectId:$p,id:$id,input:$in){id name events enabled}}`,
		map[string]any{"p": p.ID, "id": wid, "in": map[string]any{"events": []any{"posts.update"}, "enabled": true}}).ok(t)
	if w := get(up, "updateWebhook").(map[string]any); w["enabled"] != true || fmt.Sprint(w["events"]) != "[posts.update]" || w["name"] != "Sync" {
		t.Errorf("updated %v", w)
	}

	for _, tc := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"no events", map[string]any{"url": r.url(), "events": []any{}}, "events are required"},
		{"bad op", map[string]any{"url": r.url(), "events": []any{"posts.upsert"}}, `"posts.upsert"`},
		{"bad collection", map[string]any{"url": r.url(), "events": []any{"a$b.insert"}}, "reserved"},
		{"not a URL", map[string]any{"url": "ftp://example.com/x", "events": []any{"*.*"}}, "absolute http(s) URL"},
		{"long name", map[string]any{"name": strings.Repeat("n", 101), "url": r.url(), "events": []any{"*"}}, "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.gql(tok, whCreateQ, map[string]any{"p": p.ID, "in": tc.in}).fails(t, "BAD_USER_INPUT", tc.want)
		})
	}

	// Another admin sees nothing of this project.
	e.gql(tok, `mutation{createAdmin(email:"other@example.com",password:"another long password"){id}}`, nil).ok(t)
	tok2 := e.loginAs("other@example.com", "another long password")
	e.gql(tok2, `query($p:ID!){webhooks(projectId:$p){id}}`, map[string]any{"p": p.ID}).fails(t, "NOT_FOUND", "")
	e.gql(tok2, `mutation($p:ID!,$id:ID!){deleteWebhook(projectId:$p,id:$id)}`, map[string]any{"p": p.ID, "id": wid}).fails(t, "NOT_FOUND", "")

	e.gql(tok, `mutation($p:ID!,$id:ID!){deleteWebhook(projectId:$p,id:$id)}`, map[string]any{"p": p.ID, "id": wid}).ok(t)
	if ws := get(e.gql(tok, `query($p:ID!){webhooks(projectId:$p){id}}`, map[string]any{"p": p.ID}).ok(t), "webhooks").([]any); len(ws) != 0 {
		t.Errorf("after delete: %v", ws)
	}
	e.gql(tok, whDeliveriesQ, map[string]any{"p": p.ID, "w": wid}).fails(t, "NOT_FOUND", "webhook")

	// Deleting the project deletes its webhooks (and their sealed secrets).
	whCreate(t, e, tok, p.ID, r.url(), "*.*")
	e.gql(tok, `mutation($p:ID!){deleteProject(id:$p)}`, map[string]any{"p": p.ID}).ok(t)
	pid, _ := bson.ObjectIDFromHex(p.ID)
	if n, err := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("webhooks").CountDocuments(context.Background(), bson.D{{Key: "projectId", Value: pid}}); err != nil || n != 0 {
		t.Errorf("webhooks of a deleted project: %d, %v", n, err)
	}
}

func TestWebhookRetriesUntilSuccess(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond})
	r := whListen(t, func(n int) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	wid, secret := whCreate(t, e, tok, p.ID, r.url(), "posts.insert")
	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "x"}})
	hs := r.nextN(t, 3)
	for _, h := range hs {
		whVerify(t, secret, h)
		if h.id() != hs[0].id() || !bytes.Equal(h.Body, hs[0].Body) {
			t.Errorf("a retry differs: %s %s", h.id(), h.Body)
		}
	}
	ds := whSettled(t, e, tok, p.ID, wid, 1)
	if d := ds[0]; d["status"] != "delivered" || d["attempts"] != float64(3) || d["responseCode"] != float64(200) {
		t.Errorf("delivery %v", d)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond})
	always500 := whListen(t, func(int) int { return 503 })
	notFound := whListen(t, func(int) int { return 404 })
	w500, _ := whCreate(t, e, tok, p.ID, always500.url(), "posts.insert")
	w404, _ := whCreate(t, e, tok, p.ID, notFound.url(), "posts.insert")
	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "x"}})

	// At most len(schedule)+1 attempts, then failed.
	d := whSettled(t, e, tok, p.ID, w500, 1)[0]
	if d["status"] != "failed" || d["attempts"] != float64(3) || d["responseCode"] != float64(503) || d["nextAttemptAt"] != nil {
		t.Errorf("5xx delivery %v", d)
	}
	if n := always500.count(); n != 3 {
		t.Errorf("5xx endpoint called %d times, want 3", n)
	}
	// A 4xx is final at once.
	d = whSettled(t, e, tok, p.ID, w404, 1)[0]
	if d["status"] != "failed" || d["attempts"] != float64(1) || d["responseCode"] != float64(404) {
		t.Errorf("4xx delivery %v", d)
	}
	if n := notFound.count(); n != 1 {
		t.Errorf("4xx endpoint called %d times, want 1", n)
	}
}

func TestWebhookDisabledBeforeRetry(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{300 * time.Millisecond})
	r := whListen(t, func(int) int { return 500 })
	wid, _ := whCreate(t, e, tok, p.ID, r.url(), "posts.insert")
	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "x"}})
	r.next(t)
	if !eventually(t, whWait, func() bool {
		ds := whDeliveries(t, e, tok, p.ID, wid)
		return len(ds) == 1 && ds[0]["attempts"] == float64(1) && ds[0]["status"] == "pending"
	}) {
		t.Fatal("the first attempt was not recorded")
	}
	e.gql(tok, `mutation($p:ID!,$id:ID!){updateWebhook(projectId:$p,id:$id,input:{enabled:false}){enabled}}`, map[string]any{"p": p.ID, "id": wid}).ok(t)
	d := whSettled(t, e, tok, p.ID, wid, 1)[0]
	if d["status"] != "failed" || d["error"] != "Webhook disabled or not found" || d["attempts"] != float64(2) {
		t.Errorf("delivery %v", d)
	}
	if n := r.count(); n != 1 {
		t.Errorf("a disabled webhook was called %d times, want 1", n)
	}
	// Disabled: new writes queue nothing.
	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "y"}})
	e.gql(tok, `mutation($p:ID!,$id:ID!){pingWebhook(projectId:$p,id:$id){id}}`, map[string]any{"p": p.ID, "id": wid}).ok(t)
	r.next(t) // the ping (sent even when disabled)
	ds := whDeliveries(t, e, tok, p.ID, wid)
	if len(ds) != 2 || ds[0]["event"] != "test.ping" {
		t.Errorf("deliveries after disabling: %v", ds)
	}
}

func TestWebhookSurvivesRestart(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{3 * time.Second})
	r := whListen(t, func(n int) int {
		if n == 1 {
			return 500
		}
		return 200
	})
	wid, secret := whCreate(t, e, tok, p.ID, r.url(), "posts.insert")
	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "x"}})
	first := r.next(t)
	deliveries := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("webhook_deliveries")
	if !eventually(t, whWait, func() bool {
		n, err := deliveries.CountDocuments(context.Background(), bson.D{{Key: "status", Value: "pending"}, {Key: "attempts", Value: 1}})
		return err == nil && n == 1
	}) {
		t.Fatal("the failed attempt was not recorded")
	}
	e.stop()
	// Queued in the database, not in memory.
	if n, err := deliveries.CountDocuments(context.Background(), bson.D{{Key: "status", Value: "pending"}}); err != nil || n != 1 {
		t.Fatalf("pending deliveries while stopped: %d, %v", n, err)
	}
	e.start()
	second := r.next(t)
	whVerify(t, secret, second)
	if second.id() != first.id() || !bytes.Equal(second.Body, first.Body) {
		t.Errorf("after the restart: %s %s, want %s %s", second.id(), second.Body, first.id(), first.Body)
	}
	d := whSettled(t, e, tok, p.ID, wid, 1)[0]
	if d["status"] != "delivered" || d["attempts"] != float64(2) {
		t.Errorf("delivery %v", d)
	}
}

func TestWebhookTwoInstancesDeliverOnce(t *testing.T) {
	e, tok, p := whEnv(t, nil)
	twin := e.twin()
	r := whListen(t, nil)
	wid, secret := whCreate(t, e, tok, p.ID, r.url(), "posts.*")
	items := func(prefix string) []any {
		var out []any
		for i := range 10 {
			out = append(out, map[string]any{"title": fmt.Sprintf("%s%d", prefix, i)})
		}
		return out
	}
	if res := e.rest("POST", "/api/data/posts/bulk", restReq{Key: p.SecretKey, Body: items("a")}); res.Status != 201 {
		t.Fatalf("bulk on A: %d %s", res.Status, res.Body)
	}
	raw, _ := json.Marshal(items("b"))
	req, _ := http.NewRequest("POST", twin.URL+"/api/data/posts/bulk", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", p.SecretKey)
	if res, body := e.do(req); res.StatusCode != 201 {
		t.Fatalf("bulk on B: %d %s", res.StatusCode, body)
	}
	ids := map[string]bool{}
	for _, h := range r.nextN(t, 20) {
		whVerify(t, secret, h)
		ids[h.id()] = true
	}
	if len(ids) != 20 {
		t.Errorf("%d distinct deliveries, want 20", len(ids))
	}
	ds := whSettled(t, e, tok, p.ID, wid, 20)
	for _, d := range ds {
		if d["status"] != "delivered" || d["attempts"] != float64(1) {
			t.Errorf("delivery %v", d)
		}
	}
	// Every delivery is final, so no instance can still send one.
	if n := r.count(); n != 20 {
		t.Errorf("the endpoint was called %d times, want 20", n)
	}
}

func TestWebhookSlowEndpointDoesNotDelayOthers(t *testing.T) {
	e, tok, p := whEnv(t, nil)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	var once sync.Once
	stopSlow := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stopSlow) // before slow.Close: cleanups run last-in first-out
	fast := whListen(t, nil)
	whCreate(t, e, tok, p.ID, slow.URL, "posts.insert")
	whCreate(t, e, tok, p.ID, fast.url(), "posts.insert")
	var docs []any
	for i := range 8 {
		docs = append(docs, map[string]any{"title": fmt.Sprint(i)})
	}
	e.rest("POST", "/api/data/posts/bulk", restReq{Key: p.SecretKey, Body: docs})
	// Every delivery reaches the fast endpoint while the slow one holds
	// all of its attempts.
	fast.nextN(t, 8)
	stopSlow()
}

func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	e := newEnv(t) // UB_WEBHOOK_ALLOW_PRIVATE is off by default
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	for _, u := range []string{
		"https://127.0.0.1/hook",
		"https://127.1.2.3:8443/hook",
		"https://localhost/hook",
		"https://api.localhost/hook",
		"https://[::1]/hook",
		"https://10.0.0.5/hook",
		"https://172.16.1.1/hook",
		"https://192.168.1.10/hook",
		"https://169.254.169.254/latest/meta-data/",
		"https://[fd00:ec2::254]/",
		"https://100.100.100.200/",
		"https://0.0.0.0/",
		"https://[::ffff:127.0.0.1]/",
		"https://[fe80::1]/",
	} {
		t.Run(u, func(t *testing.T) {
			e.gql(tok, whCreateQ, map[string]any{"p": p.ID, "in": map[string]any{"url": u, "events": []any{"*.*"}}}).fails(t, "BAD_USER_INPUT", "not a public address")
		})
	}
	// Plain http needs UB_WEBHOOK_ALLOW_PRIVATE too.
	e.gql(tok, whCreateQ, map[string]any{"p": p.ID, "in": map[string]any{"url": "http://93.184.215.14/hook", "events": []any{"*.*"}}}).fails(t, "BAD_USER_INPUT", "must use https")
	// A public address is fine (nothing is sent on create).
	e.gql(tok, whCreateQ, map[string]any{"p": p.ID, "in": map[string]any{"url": "https://93.184.215.14/hook", "events": []any{"*.*"}}}).ok(t)
}

func TestWebhookPingAndRedeliver(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{20 * time.Millisecond})
	r := whListen(t, func(n int) int {
		if n == 3 {
			return 500
		}
		return 200
	})
	wid, secret := whCreate(t, e, tok, p.ID, r.url(), "posts.insert")
	const pingQ = `mutation($p:ID!,$id:ID!){pingWebhook(projectId:$p,id:$id){id event status attempts responseCode error nextAttemptAt}}`
	d := e.gql(tok, pingQ, map[string]any{"p": p.ID, "id": wid}).ok(t)
	ping := get(d, "pingWebhook").(map[string]any)
	h := r.next(t)
	b := whVerify(t, secret, h)
	if !strings.HasPrefix(h.id(), "test-") || h.id() != ping["id"] || h.event() != "test.ping" {
		t.Errorf("ping headers: id %q event %q; result %v", h.id(), h.event(), ping)
	}
	if b["collection"] != "test" || b["action"] != "ping" || str(b, "data", "message") != "This is a test webhook from urBackend" || str(b, "data", "triggeredBy") != "dashboard" || b["projectId"] != p.ID {
		t.Errorf("ping body %s", h.Body)
	}
	if ping["status"] != "delivered" || ping["responseCode"] != float64(200) || ping["attempts"] != float64(1) {
		t.Errorf("ping result %v", ping)
	}

	e.rest("POST", "/api/data/posts", restReq{Key: p.SecretKey, Body: map[string]any{"title": "x"}})
	orig := r.next(t)
	var origID string
	if !eventually(t, whWait, func() bool {
		for _, d := range whDeliveries(t, e, tok, p.ID, wid) {
			if d["id"] == orig.id() && d["status"] == "delivered" {
				origID = d["id"].(string)
			}
		}
		return origID != ""
	}) {
		t.Fatal("the insert was not recorded as delivered")
	}
	const redeliverQ = `mutation($p:ID!,$d:ID!){redeliverWebhook(projectId:$p,deliveryId:$d){id event status attempts}}`
	re := get(e.gql(tok, redeliverQ, map[string]any{"p": p.ID, "d": origID}).ok(t), "redeliverWebhook").(map[string]any)
	if re["id"] == origID || re["event"] != "posts.insert" || re["status"] != "pending" || re["attempts"] != float64(0) {
		t.Errorf("redelivery %v", re)
	}
	again := r.next(t) // answered 500: a redelivery is retried like any delivery
	whVerify(t, secret, again)
	if again.id() != re["id"] || !bytes.Equal(again.Body, orig.Body) {
		t.Errorf("redelivered %s %s, want id %v and body %s", again.id(), again.Body, re["id"], orig.Body)
	}
	whSettled(t, e, tok, p.ID, wid, 3)

	// A failed ping is a result, not an error, and is not retried.
	bad := whListen(t, func(int) int { return 500 })
	bid, _ := whCreate(t, e, tok, p.ID, bad.url(), "posts.delete")
	ping = get(e.gql(tok, pingQ, map[string]any{"p": p.ID, "id": bid}).ok(t), "pingWebhook").(map[string]any)
	if ping["status"] != "failed" || ping["responseCode"] != float64(500) || ping["nextAttemptAt"] != nil {
		t.Errorf("failed ping %v", ping)
	}
	e.gql(tok, redeliverQ, map[string]any{"p": p.ID, "d": "nope"}).fails(t, "NOT_FOUND", "delivery")
}

func TestWebhookKeepsLastDeliveries(t *testing.T) {
	e, tok, p := whEnv(t, nil, func(c *server.Config) { c.WebhookKeepDeliveries = 3 })
	r := whListen(t, nil)
	wid, _ := whCreate(t, e, tok, p.ID, r.url(), "posts.insert")
	var docs []any
	for i := range 8 {
		docs = append(docs, map[string]any{"title": fmt.Sprint(i)})
	}
	e.rest("POST", "/api/data/posts/bulk", restReq{Key: p.SecretKey, Body: docs})
	r.nextN(t, 8)
	whSettled(t, e, tok, p.ID, wid, 3)
}
