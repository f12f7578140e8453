package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
	"github.com/urbackend/urbackend/usertoken"
)

func TestMain(m *testing.M) {
	if os.Getenv(fanoutClientEnv) != "" {
		// A client process of TestFanout (graphql_fanout_test.go): no
		// database.
		os.Exit(m.Run())
	}
	os.Exit(testdb.Main(m))
}

const (
	adminEmail    = "owner@example.com"
	adminPassword = "correct horse battery"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one server on its own platform database of the shared test
// FerretDB, served through the real router by httptest.
type env struct {
	t       testing.TB
	cfg     server.Config
	app     *server.App
	ts      *httptest.Server
	logs    *syncBuffer
	console *syncBuffer

	mu     sync.Mutex
	bodies []string // every response body, to check for leaked secrets
}

func newEnv(t testing.TB, opts ...func(*server.Config)) *env {
	t.Helper()
	logs, console := &syncBuffer{}, &syncBuffer{}
	cfg := server.Config{
		MongoURI:      testdb.URI(t),
		PlatformDB:    testdb.Name(t),
		MasterKey:     hex.EncodeToString(secret.NewKey()),
		AdminEmail:    adminEmail,
		AdminPassword: adminPassword,
		PublicURL:     "https://api.example.test",
		BcryptCost:    4,
		DBTimeout:     3 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Console:       console,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e := &env{t: t, cfg: cfg, logs: logs, console: console}
	t.Cleanup(func() { dropProjectDatabases(t, cfg.PlatformDB) })
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	app, err := server.New(context.Background(), e.cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	e.app = app
	e.ts = httptest.NewServer(app.Handler())
	e.t.Cleanup(e.stop)
}

// stop closes the HTTP server and the app; it is safe to call twice.
func (e *env) stop() {
	if e.ts != nil {
		e.ts.Close()
		e.ts = nil
	}
	if e.app != nil {
		e.app.Close(context.Background())
		e.app = nil
	}
}

// restart stops the server and starts a new one on the same database.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func dropProjectDatabases(t testing.TB, platform string) {
	cur, err := testdb.Client(t).Database(platform).Collection("projects").Find(context.Background(), bson.D{})
	if err != nil {
		t.Errorf("list projects: %v", err)
		return
	}
	var ps []struct {
		DatabaseName string `bson:"databaseName"`
		DatabaseURI  string `bson:"databaseUri"`
	}
	if err := cur.All(context.Background(), &ps); err != nil {
		t.Errorf("list projects: %v", err)
	}
	for _, p := range ps {
		testdb.Drop(t, p.DatabaseName)
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResult struct {
	Status int
	Data   map[string]any
	Errors []gqlError
	Raw    string
}

// do sends an HTTP request to the server and records the response body.
func (e *env) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b))
	e.mu.Unlock()
	return res, string(b)
}

// gql posts a GraphQL operation to /admin/graphql with an optional admin
// token.
func (e *env) gql(token, query string, vars map[string]any) gqlResult {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/admin/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, raw := e.do(req)
	out := gqlResult{Status: res.StatusCode, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		e.t.Fatalf("decode GraphQL response %q: %v", raw, err)
	}
	return out
}

// ok fails the test when the result has errors and returns its data.
func (r gqlResult) ok(t testing.TB) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %s", r.Raw)
	}
	return r.Data
}

// fails checks that the result has exactly one error with the given
// extensions.code and a message containing want, and returns the message.
func (r gqlResult) fails(t testing.TB, code, want string) string {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("got success %s, want error %s", r.Raw, code)
	}
	got := r.Errors[0]
	if got.Extensions["code"] != code {
		t.Fatalf("got code %v (%s), want %s", got.Extensions["code"], got.Message, code)
	}
	if !strings.Contains(got.Message, want) {
		t.Fatalf("got message %q, want it to contain %q", got.Message, want)
	}
	return got.Message
}

// login returns a token for the first admin.
func (e *env) login() string {
	e.t.Helper()
	return e.loginAs(adminEmail, adminPassword)
}

func (e *env) loginAs(email, password string) string {
	e.t.Helper()
	d := e.gql("", `mutation($e:String!,$p:String!){adminLogin(email:$e,password:$p){token admin{id email}}}`,
		map[string]any{"e": email, "p": password}).ok(e.t)
	return str(d, "adminLogin", "token")
}

type project struct {
	ID, PublishableKey, SecretKey string
}

// createProject creates a project and returns its id and keys.
func (e *env) createProject(token string, input map[string]any) project {
	e.t.Helper()
	d := e.gql(token, `mutation($in:CreateProjectInput!){createProject(input:$in){secretKey project{id publishableKey}}}`,
		map[string]any{"in": input}).ok(e.t)
	return project{
		ID:             str(d, "createProject", "project", "id"),
		PublishableKey: str(d, "createProject", "project", "publishableKey"),
		SecretKey:      str(d, "createProject", "secretKey"),
	}
}

// get walks nested maps by keys.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

// restResult is one REST response.
type restResult struct {
	Status int
	Body   string
	Header http.Header
}

// json decodes the body into a generic value.
func (r restResult) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

// restReq describes a REST call: the API key, an optional user token,
// extra headers and a JSON body (a string is sent as is).
type restReq struct {
	Key     string
	Token   string
	Headers map[string]string
	Body    any
}

// rest calls the REST API through the real router.
func (e *env) rest(method, path string, rq restReq) restResult {
	e.t.Helper()
	var body io.Reader
	switch b := rq.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.Key != "" {
		req.Header.Set("x-api-key", rq.Key)
	}
	if rq.Token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.Token)
	}
	for k, v := range rq.Headers {
		req.Header.Set(k, v)
	}
	res, raw := e.do(req)
	return restResult{Status: res.StatusCode, Body: raw, Header: res.Header}
}

// userToken signs an end-user access token for a project, as the auth API
// will.
func (e *env) userToken(projectID, userID string) string {
	e.t.Helper()
	id, err := bson.ObjectIDFromHex(projectID)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.app.Projects.ByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, err := e.app.Projects.JWTSecret(p)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := usertoken.Issue(secret, projectID, userID, time.Hour, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// wantError checks a REST error: the status and the exact body of
// contract/REST.md §1.5.
func (r restResult) wantError(t *testing.T, status int, message string) {
	t.Helper()
	want, _ := json.Marshal(map[string]any{"success": false, "error": message, "message": message, "code": status})
	var got, exp any
	_ = json.Unmarshal([]byte(r.Body), &got)
	_ = json.Unmarshal(want, &exp)
	if r.Status != status || !reflect.DeepEqual(got, exp) {
		t.Fatalf("got %d %s\nwant %d %s", r.Status, r.Body, status, want)
	}
}
