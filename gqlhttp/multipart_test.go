package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// uploadSchema answers every operation with the contents of the Upload
// variables it names, read in order: {"data":{"<var>":"<content>",…}}.
// Before reading a variable it reports on started, when set.
type uploadSchema struct {
	schema  *ast.Schema
	vars    []string
	started chan string
}

func newUploadSchema(vars ...string) *uploadSchema {
	return &uploadSchema{schema: gqlparser.MustLoadSchema(&ast.Source{Input: `
scalar Upload
input Box { file: Upload }
type Query { n: Int }
scalar JSON
type Mutation { up(a: Upload, b: Upload, list: [Upload], box: Box, j: JSON): Int }
`}), vars: vars}
}

func (s *uploadSchema) Schema() *ast.Schema { return s.schema }

func (s *uploadSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (s *uploadSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	out := map[string]string{}
	for _, v := range s.vars {
		up, ok := op.Variables[v].(graphql.Upload)
		if !ok {
			out[v] = fmt.Sprintf("not an upload: %T", op.Variables[v])
			continue
		}
		if s.started != nil {
			s.started <- v
		}
		b, err := io.ReadAll(up.File)
		if err != nil {
			out[v] = "error: " + err.Error()
			continue
		}
		out[v] = fmt.Sprintf("%s (%s, %s, %d)", b, up.Filename, up.ContentType, up.Size)
	}
	raw, _ := json.Marshal(out)
	return graphql.OneShot(&graphql.Response{Data: raw})
}

// writeRequest writes a multipart request: operations, map, then the
// files (name → content) in the order of keys.
func writeRequest(w io.Writer, query string, fileMap map[string][]string, keys []string, files map[string]string) *multipart.Writer {
	mw := multipart.NewWriter(w)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{}})
	_ = mw.WriteField("operations", string(ops))
	m, _ := json.Marshal(fileMap)
	_ = mw.WriteField("map", string(m))
	for _, k := range keys {
		pw, _ := mw.CreateFormFile(k, k+".txt")
		_, _ = io.WriteString(pw, files[k])
	}
	return mw
}

func post(t *testing.T, url, contentType string, body io.Reader) (int, string) {
	t.Helper()
	res, err := http.Post(url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// TestMultipartStreams checks that the operation runs while the last file
// is still arriving: the request body is held open until the resolver
// has started reading it.
func TestMultipartStreams(t *testing.T) {
	s := newUploadSchema("a")
	s.started = make(chan string, 1)
	ts := httptest.NewServer(New(s, Options{Uploads: Uploads{MaxFileBytes: 1 << 20}}))
	defer ts.Close()

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.Post(ts.URL, mw.FormDataContentType(), pr)
		if err != nil {
			done <- result{0, err.Error()}
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		done <- result{res.StatusCode, string(raw)}
	}()
	ops, _ := json.Marshal(map[string]any{"query": `mutation($a: Upload) { up(a: $a) }`, "variables": map[string]any{"a": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.a"]}`)
	part, _ := mw.CreateFormFile("0", "a.txt")
	_, _ = io.WriteString(part, "first half, ")
	select {
	case <-s.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the operation did not start before the request body ended")
	}
	_, _ = io.WriteString(part, "second half")
	_ = mw.Close()
	_ = pw.Close()
	r := <-done
	if want := `{"data":{"a":"first half, second half (a.txt, application/octet-stream, -1)"}}`; r.status != 200 || r.body != want {
		t.Fatalf("got %d %s, want 200 %s", r.status, r.body, want)
	}
}

// TestMultipartHeldFiles checks the files before the last: held in
// memory, or in a temporary file past MaxMemory (removed afterwards), one
// file for several paths, lists and input object members.
func TestMultipartHeldFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newUploadSchema("a", "b")
	ts := httptest.NewServer(New(s, Options{Uploads: Uploads{MaxFileBytes: 100, MaxMemory: 8}}))
	defer ts.Close()

	var buf bytes.Buffer
	mw := writeRequest(&buf, `mutation($a: Upload, $b: Upload) { up(a: $a, b: $b) }`,
		map[string][]string{"x": {"variables.a"}, "y": {"variables.b"}}, []string{"x", "y"},
		map[string]string{"x": "held in a temporary file", "y": "streamed"})
	_ = mw.Close()
	st, body := post(t, ts.URL, mw.FormDataContentType(), &buf)
	want := `{"data":{"a":"held in a temporary file (x.txt, application/octet-stream, 24)","b":"streamed (y.txt, application/octet-stream, -1)"}}`
	if st != 200 || body != want {
		t.Fatalf("got %d %s\nwant 200 %s", st, body, want)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// One file for two variables is held; so is a small first file.
	buf.Reset()
	mw = writeRequest(&buf, `mutation($a: Upload, $b: Upload) { up(a: $a, b: $b) }`,
		map[string][]string{"x": {"variables.a", "variables.b"}}, []string{"x"}, map[string]string{"x": "twice"})
	_ = mw.Close()
	if st, body := post(t, ts.URL, mw.FormDataContentType(), &buf); !strings.Contains(body, `"a":"twice (x.txt, application/octet-stream, 5)","b":"twice (x.txt, application/octet-stream, 5)"`) {
		t.Fatalf("one file, two paths: %d %s", st, body)
	}
}

func TestMultipartPaths(t *testing.T) {
	s := newUploadSchema()
	ts := httptest.NewServer(New(s, Options{Uploads: Uploads{MaxFileBytes: 100}}))
	defer ts.Close()
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		path        string
		status      int
		want        string
	}{
		{"list element", `mutation($list: [Upload]) { up(list: $list) }`, map[string]any{"list": []any{nil}}, "variables.list.0", 200, `"data":{}`},
		{"input member", `mutation($box: Box) { up(box: $box) }`, map[string]any{"box": map[string]any{"file": nil}}, "variables.box.file", 200, `"data":{}`},
		{"not an Upload", `mutation($j: JSON) { up(j: $j) }`, nil, "variables.j", 400, `receives a file but is not of type Upload`},
		{"index out of range", `mutation($list: [Upload]) { up(list: $list) }`, map[string]any{"list": []any{}}, "variables.list.0", 400, `invalid operations path`},
		{"not under variables", `mutation { up }`, nil, "query", 400, `invalid operations path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			ops, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
			_ = mw.WriteField("operations", string(ops))
			m, _ := json.Marshal(map[string][]string{"0": {tc.path}})
			_ = mw.WriteField("map", string(m))
			pw, _ := mw.CreateFormFile("0", "f")
			_, _ = io.WriteString(pw, "data")
			_ = mw.Close()
			st, body := post(t, ts.URL, mw.FormDataContentType(), &buf)
			if st != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d …%s…", st, body, tc.status, tc.want)
			}
		})
	}
}

func TestMultipartLimits(t *testing.T) {
	ts := httptest.NewServer(New(newUploadSchema("a"), Options{Uploads: Uploads{MaxFileBytes: 10, MaxFiles: 1, MaxOperationBytes: 200}}))
	defer ts.Close()
	for _, tc := range []struct {
		name   string
		body   func(w io.Writer) *multipart.Writer
		status int
		want   string
	}{
		{"too many files", func(w io.Writer) *multipart.Writer {
			return writeRequest(w, `mutation($a: Upload) { up(a: $a) }`, map[string][]string{"x": {"variables.a"}, "y": {"variables.a"}}, nil, nil)
		}, 400, "too many files: at most 1 per request"},
		{"operations too large", func(w io.Writer) *multipart.Writer {
			return writeRequest(w, `mutation($a: Upload) { up(a: $a) }`+strings.Repeat(" ", 200), map[string][]string{}, nil, nil)
		}, 413, "The operations part is too large."},
		{"map first", func(w io.Writer) *multipart.Writer {
			mw := multipart.NewWriter(w)
			_ = mw.WriteField("map", `{}`)
			return mw
		}, 400, `the operations part must come next, not \"map\"`},
		{"file missing", func(w io.Writer) *multipart.Writer {
			return writeRequest(w, `mutation($a: Upload) { up(a: $a) }`, map[string][]string{"x": {"variables.a"}}, nil, nil)
		}, 400, "the request ended before every file of the map"},
		{"file not in the map", func(w io.Writer) *multipart.Writer {
			return writeRequest(w, `mutation($a: Upload) { up(a: $a) }`, map[string][]string{"x": {"variables.a"}}, []string{"z"}, map[string]string{"z": "?"})
		}, 400, `part \"z\" is not in the map, or comes twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := tc.body(&buf)
			_ = mw.Close()
			st, body := post(t, ts.URL, mw.FormDataContentType(), &buf)
			if st != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d …%s…", st, body, tc.status, tc.want)
			}
		})
	}
}

// TestMultipartOff checks that without Uploads a multipart request finds
// no transport.
func TestMultipartOff(t *testing.T) {
	ts := httptest.NewServer(New(newUploadSchema(), Options{}))
	defer ts.Close()
	var buf bytes.Buffer
	mw := writeRequest(&buf, `{ n }`, map[string][]string{}, nil, nil)
	_ = mw.Close()
	if st, body := post(t, ts.URL, mw.FormDataContentType(), &buf); st == 200 {
		t.Fatalf("multipart accepted without Uploads: %s", body)
	}
}
