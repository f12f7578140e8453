package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/urbackend/urbackend/server"
)

// twin starts a second server instance on the same platform database, as
// a second replica behind a load balancer would be.
func (e *env) twin() *httptest.Server {
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
	return ts
}

func status(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("x-api-key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// eventually polls cond until it holds or the deadline passes; the
// deadline is a bound for a broken implementation, not a timing claim.
func eventually(t *testing.T, within time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

func TestKeyCacheInvalidation(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "notes", "fields": []any{}}).ok(t)
	other := e.twin()

	url := "/api/data/notes"
	if got := status(t, e.ts.URL+url, p.SecretKey); got != 200 {
		t.Fatalf("instance A before rotation: %d", got)
	}
	if got := status(t, other.URL+url, p.SecretKey); got != 200 {
		t.Fatalf("instance B before rotation: %d", got)
	}
	start := time.Now()
	e.gql(tok, `mutation{rotateKey(projectId:"`+p.ID+`",kind:SECRET)}`, nil).ok(t)
	// The instance that rotated refuses the old key at once.
	if got := status(t, e.ts.URL+url, p.SecretKey); got != 401 {
		t.Errorf("instance A right after rotation: got %d, want 401", got)
	}
	// The other instance hears of it through the invalidation log.
	if !eventually(t, 10*time.Second, func() bool { return status(t, other.URL+url, p.SecretKey) == 401 }) {
		t.Fatal("instance B kept accepting the rotated key")
	}
	t.Logf("instance B refused the old key after %v", time.Since(start).Round(time.Millisecond))

	// A collection defined through A is visible through B.
	define(e, tok, p.ID, map[string]any{"name": "later", "fields": []any{}}).ok(t)
	newKey := str(e.gql(tok, `mutation{rotateKey(projectId:"`+p.ID+`",kind:SECRET)}`, nil).ok(t), "rotateKey")
	if !eventually(t, 10*time.Second, func() bool { return status(t, other.URL+"/api/data/later", newKey) == 200 }) {
		t.Fatal("instance B never saw the new collection")
	}
}
