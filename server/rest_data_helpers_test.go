package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/urbackend/urbackend/server"
)

// Helpers of the data API tests (rest_data_*_test.go). Names start with dq
// so that they do not clash with other tests of this package.

// dqEnv is a server with a logged-in admin and one project, called with
// the project's secret key.
type dqEnv struct {
	*env
	tok string
	p   project
}

func dqNew(t *testing.T, opts ...func(*server.Config)) *dqEnv {
	t.Helper()
	e := newEnv(t, opts...)
	tok := e.login()
	return &dqEnv{env: e, tok: tok, p: e.createProject(tok, map[string]any{"name": "p"})}
}

// define defines (or redefines) a collection through the admin API.
func (d *dqEnv) define(t *testing.T, name string, fields ...any) {
	t.Helper()
	if fields == nil {
		fields = []any{}
	}
	r := define(d.env, d.tok, d.p.ID, map[string]any{"name": name, "fields": fields})
	if len(r.Errors) > 0 {
		t.Fatalf("define %s: %s", name, r.Raw)
	}
}

// call sends a REST request with the secret key.
func (d *dqEnv) call(method, path string, body any) restResult {
	d.t.Helper()
	return d.rest(method, path, restReq{Key: d.p.SecretKey, Body: body})
}

// insert inserts one document and returns it; it fails unless the answer
// is 201.
func (d *dqEnv) insert(t *testing.T, coll string, body any) map[string]any {
	t.Helper()
	r := d.call("POST", "/api/data/"+coll, body)
	if r.Status != 201 {
		t.Fatalf("insert into %s: got %d %s, want 201", coll, r.Status, r.Body)
	}
	return r.json(t)
}

// list calls GET /api/data/:coll?query and returns the items and the
// data object; it fails unless the answer is 200.
func (d *dqEnv) list(t *testing.T, coll, query string) ([]map[string]any, map[string]any) {
	t.Helper()
	path := "/api/data/" + coll
	if query != "" {
		path += "?" + query
	}
	r := d.call("GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: got %d %s, want 200", path, r.Status, r.Body)
	}
	body := r.json(t)
	data, ok := body["data"].(map[string]any)
	if !ok {
		t.Fatalf("GET %s: no data object in %s", path, r.Body)
	}
	raw, ok := data["items"].([]any)
	if !ok {
		t.Fatalf("GET %s: items is not an array in %s", path, r.Body)
	}
	items := make([]map[string]any, len(raw))
	for i, it := range raw {
		m, ok := it.(map[string]any)
		if !ok {
			t.Fatalf("GET %s: item %d is not an object in %s", path, i, r.Body)
		}
		items[i] = m
	}
	return items, data
}

// count returns the count of GET /api/data/:coll?count=true&filters.
func (d *dqEnv) count(t *testing.T, coll, filters string) int {
	t.Helper()
	q := "count=true"
	if filters != "" {
		q += "&" + filters
	}
	r := d.call("GET", "/api/data/"+coll+"?"+q, nil)
	if r.Status != 200 {
		t.Fatalf("count %s?%s: got %d %s, want 200", coll, q, r.Status, r.Body)
	}
	n, ok := get(r.json(t), "data", "count").(float64)
	if !ok {
		t.Fatalf("count %s?%s: no data.count in %s", coll, q, r.Body)
	}
	return int(n)
}

// dqQuery escapes a readable query string: pairs separated by "&", each
// split at its first "=", both sides query-escaped.
func dqQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		parts[i] = url.QueryEscape(k) + "=" + url.QueryEscape(v)
	}
	return strings.Join(parts, "&")
}

// dqLabels maps the _id of each item to its label in names (id → label);
// an unknown id shows as "?<id>".
func dqLabels(items []map[string]any, names map[string]string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		id, _ := it["_id"].(string)
		if l, ok := names[id]; ok {
			out = append(out, l)
		} else {
			out = append(out, "?"+id)
		}
	}
	return out
}

// dqKeys returns the sorted keys of an object.
func dqKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dqWantKeys checks that m has exactly the keys want (in any order).
func dqWantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	want = slices.Clone(want)
	sort.Strings(want)
	if got := dqKeys(m); !slices.Equal(got, want) {
		t.Errorf("%s keys: got %v, want %v", what, got, want)
	}
}

// dqWantJSON checks that body is the JSON value want (compared decoded).
func dqWantJSON(t *testing.T, what, body string, want any) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: decode %q: %v", what, body, err)
	}
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("%s: body mismatch (-want +got):\n%s\nbody: %s", what, diff, body)
	}
}

var dqHexID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// dqISO is the toISOString form: UTC, exactly three fractional digits.
var dqISO = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// dqISOFormat formats t as JavaScript's toISOString.
func dqISOFormat(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// dqClock is a settable clock for Config.Now.
type dqClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *dqClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *dqClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// dqFinds counts the find commands the server sends to one database, per
// collection.
type dqFinds struct {
	mu sync.Mutex
	db string
	n  map[string]int
}

func (f *dqFinds) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "find" {
			return
		}
		coll, ok := e.Command.Lookup("find").StringValueOK()
		if !ok {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.db != "" && e.DatabaseName == f.db {
			f.n[coll]++
		}
	}}
}

// watch resets the counts and starts counting finds on db.
func (f *dqFinds) watch(db string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.db, f.n = db, map[string]int{}
}

// counts returns the counts since watch.
func (f *dqFinds) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.n))
	for k, v := range f.n {
		out[k] = v
	}
	return out
}
