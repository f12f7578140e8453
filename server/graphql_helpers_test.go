package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/server"
)

// Helpers of the per-project GraphQL tests (graphql_*_test.go). Names
// start with gq so that they do not clash with other tests of this
// package.

// gqEnv is a server with a logged-in admin and one project.
type gqEnv struct {
	*env
	tok string
	p   project
}

func gqNew(t *testing.T, opts ...func(*server.Config)) *gqEnv {
	t.Helper()
	e := newEnv(t, opts...)
	tok := e.login()
	return &gqEnv{env: e, tok: tok, p: e.createProject(tok, map[string]any{"name": "gq"})}
}

// define defines (or redefines) a collection; rls may be nil.
func (g *gqEnv) define(t *testing.T, name string, rls map[string]any, fields ...any) {
	t.Helper()
	in := map[string]any{"name": name, "fields": append([]any{}, fields...)}
	if rls != nil {
		in["rls"] = rls
	}
	define(g.env, g.tok, g.p.ID, in).ok(t)
}

// gqField is a field definition for define.
func gqField(key, typ string, extra ...any) map[string]any {
	f := map[string]any{"key": key, "type": typ}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i].(string)] = extra[i+1]
	}
	return f
}

// gqReq is one call of /graphql.
type gqReq struct {
	Key     string
	Token   string
	Headers map[string]string
}

// gqDo posts an operation (and its name, when the document has several)
// to /graphql.
func (e *env) gqDo(rq gqReq, query string, vars map[string]any, operationName ...string) gqlResult {
	e.t.Helper()
	in := map[string]any{"query": query, "variables": vars}
	if len(operationName) > 0 {
		in["operationName"] = operationName[0]
	}
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
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
	out := gqlResult{Status: res.StatusCode, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		e.t.Fatalf("decode GraphQL response %q: %v", raw, err)
	}
	return out
}

// sk runs an operation with the project's secret key and fails on errors.
func (g *gqEnv) sk(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	return g.gqDo(gqReq{Key: g.p.SecretKey}, query, vars).ok(t)
}

// gqJSON re-encodes a value as compact JSON, for comparisons.
func gqJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gqWant compares a value's JSON form with want (JSON text).
func gqWant(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	var g any
	_ = json.Unmarshal([]byte(gqJSON(t, got)), &g)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// gqFails checks that the result has one error with the given code,
// status and exact message.
func (r gqlResult) gqFails(t *testing.T, code string, status int, message string) {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("got %d errors in %s, want 1 (%s %s)", len(r.Errors), r.Raw, code, message)
	}
	e := r.Errors[0]
	if e.Message != message || e.Extensions["code"] != code || e.Extensions["status"] != float64(status) {
		t.Fatalf("got error %q code %v status %v, want %q %s %d (%s)", e.Message, e.Extensions["code"], e.Extensions["status"], message, code, status, r.Raw)
	}
}

// titles lists the title field of a list of documents.
func gqTitles(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, it := range list {
		out = append(out, str(it, "title"))
	}
	return out
}
