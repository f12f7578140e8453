package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

// File operations in GraphQL: the per-project schema's files, uploadFile
// (the GraphQL multipart request spec) and deleteFile, and the admin
// API's files, deleteFile and storageUsage. Helpers start with gf.

const gfUploadMutation = `mutation($file: Upload!, $name: String) {
  uploadFile(file: $file, name: $name) { path url size contentType createdAt }
}`

// gfPart is one file part of a multipart request.
type gfPart struct {
	name, contentType string
	data              []byte
}

// gfMultipart posts a multipart request as the spec describes it: the
// operations part, the map part, then one part per file ("0", "1", …,
// mapped to the variables named in paths, in order).
func (s *stEnv) gfMultipart(key, query string, vars map[string]any, paths []string, parts ...gfPart) gqlResult {
	s.t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	fileMap := map[string][]string{}
	for i, p := range paths {
		fileMap[fmt.Sprint(i)] = []string{p}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = mw.WriteField("operations", string(ops))
	m, _ := json.Marshal(fileMap)
	_ = mw.WriteField("map", string(m))
	for i, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%d"; filename="%s"`, i, p.name))
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			s.t.Fatal(err)
		}
		_, _ = pw.Write(p.data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	res, raw := s.do(req)
	out := gqlResult{Status: res.StatusCode, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		s.t.Fatalf("decode GraphQL response %q: %v", raw, err)
	}
	return out
}

// gfUpload uploads one file with the secret key and returns the File.
func (s *stEnv) gfUpload(t *testing.T, name, contentType string, data []byte) map[string]any {
	t.Helper()
	d := s.gfMultipart(s.p.SecretKey, gfUploadMutation, nil, []string{"variables.file"}, gfPart{name, contentType, data}).ok(t)
	f, _ := d["uploadFile"].(map[string]any)
	return f
}

// gfGet fetches a public link handed out by the server.
func (s *stEnv) gfGet(u string) restResult {
	s.t.Helper()
	return s.stRaw(http.MethodGet, s.stLocal(u), nil, nil)
}

// gfPaths lists the path member of a list of files.
func gfPaths(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, it := range list {
		out = append(out, str(it, "path"))
	}
	return out
}

// gfPending counts the pending upload records of the platform database.
func (s *stEnv) gfPending(t *testing.T) int64 {
	t.Helper()
	n, err := testdb.Client(t).Database(s.cfg.PlatformDB).Collection("storage_uploads").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGraphQLFileUpload(t *testing.T) {
	s := stNew(t)
	data := []byte("hello, GraphQL upload")
	f := s.gfUpload(t, "my  notes.txt", "text/plain", data)
	path := str(f, "path")
	if !stPathRE(s.p.ID, "my_notes.txt").MatchString(path) {
		t.Fatalf("path %q: want <projectId>/<uuid>_my_notes.txt", path)
	}
	gqWant(t, "uploadFile", f, gqJSON(t, map[string]any{
		"path": path, "url": stPublicURL + "/files/" + path, "size": len(data), "contentType": "text/plain",
		"createdAt": s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}))
	s.stWantCounts(t, 1, 1)
	s.stWantUsage(t, int64(len(data)), 1)
	if got := s.gfGet(str(f, "url")); got.Status != 200 || got.Body != string(data) || got.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("public link: %d %q %q", got.Status, got.Header.Get("Content-Type"), got.Body)
	}

	// name replaces the part's file name; a part without a type is
	// application/octet-stream.
	d := s.gfMultipart(s.p.SecretKey, gfUploadMutation, map[string]any{"name": "Q3 report.bin"}, []string{"variables.file"},
		gfPart{"ignored.txt", "", []byte{1, 2, 3}}).ok(t)
	if p := str(d, "uploadFile", "path"); !stPathRE(s.p.ID, "Q3_report.bin").MatchString(p) || str(d, "uploadFile", "contentType") != stOctetStream {
		t.Fatalf("renamed upload: %v", d)
	}

	// Two files in one operation: the first is held, the last streams.
	a, b := stBytes(300<<10), stBytes(700<<10)
	d = s.gfMultipart(s.p.SecretKey, `mutation($a: Upload!, $b: Upload!) {
  a: uploadFile(file: $a) { url size }
  b: uploadFile(file: $b) { url size }
}`, nil, []string{"variables.a", "variables.b"}, gfPart{"a.bin", stOctetStream, a}, gfPart{"b.bin", stOctetStream, b}).ok(t)
	for alias, want := range map[string][]byte{"a": a, "b": b} {
		if got := s.gfGet(str(d, alias, "url")); got.Status != 200 || got.Body != string(want) {
			t.Errorf("file %s: %d, %d bytes, want %d", alias, got.Status, len(got.Body), len(want))
		}
	}
	s.stWantUsage(t, int64(len(data)+3+len(a)+len(b)), 4)
	if n := s.gfPending(t); n != 0 {
		t.Errorf("%d pending upload records left", n)
	}
}

func TestGraphQLFileUploadRefusals(t *testing.T) {
	s := stNew(t, func(c *server.Config) { c.MaxFileBytes = 64 << 10 })
	one := []string{"variables.file"}
	small := gfPart{"a.txt", "text/plain", []byte("x")}

	t.Run("publishable key", func(t *testing.T) {
		s.gfMultipart(s.p.PublishableKey, gfUploadMutation, nil, one, small).gqFails(t, "FORBIDDEN", 403, stSecretOnly)
	})
	t.Run("no key", func(t *testing.T) {
		r := s.gfMultipart("", gfUploadMutation, nil, one, small)
		if r.Status != 401 {
			t.Errorf("status %d, want 401", r.Status)
		}
		r.gqFails(t, "UNAUTHENTICATED", 401, "API key not found")
	})
	t.Run("too large", func(t *testing.T) {
		s.gfMultipart(s.p.SecretKey, gfUploadMutation, nil, one, gfPart{"big.bin", stOctetStream, stBytes(64<<10 + 1)}).
			gqFails(t, "PAYLOAD_TOO_LARGE", 413, "File size exceeds limit.")
	})
	t.Run("held file too large", func(t *testing.T) {
		r := s.gfMultipart(s.p.SecretKey, `mutation($a: Upload!, $b: Upload!) { a: uploadFile(file: $a) { path } b: uploadFile(file: $b) { path } }`,
			nil, []string{"variables.a", "variables.b"}, gfPart{"big.bin", stOctetStream, stBytes(100 << 10)}, small)
		if r.Status != 413 {
			t.Errorf("status %d, want 413", r.Status)
		}
		r.gqFails(t, "PAYLOAD_TOO_LARGE", 413, "File size exceeds limit.")
	})
	t.Run("no file part", func(t *testing.T) {
		s.gqDo(gqReq{Key: s.p.SecretKey}, `mutation { uploadFile(file: "x") { path } }`, nil).
			gqFails(t, "BAD_USER_INPUT", 400, "No file uploaded.")
	})
	t.Run("file for a JSON variable", func(t *testing.T) {
		define(s.env, s.tok, s.p.ID, map[string]any{"name": "notes", "fields": []any{}}).ok(t)
		r := s.gfMultipart(s.p.SecretKey, `mutation($x: JSON!) { insertNotes(doc: {data: $x}) { _id } }`, nil, []string{"variables.x"}, small)
		if r.Status != 400 {
			t.Errorf("status %d, want 400", r.Status)
		}
		r.gqFails(t, "BAD_USER_INPUT", 400, `operations path "variables.x" receives a file but is not of type Upload`)
	})
	t.Run("bad map path", func(t *testing.T) {
		s.gfMultipart(s.p.SecretKey, gfUploadMutation, nil, []string{"variables.file.3"}, small).
			gqFails(t, "BAD_USER_INPUT", 400, `invalid operations path "variables.file.3" in the map`)
	})
	// Nothing of the refused uploads is left.
	s.stWantCounts(t, 0, 0)
	if n := s.gfPending(t); n != 0 {
		t.Errorf("%d pending upload records left", n)
	}
	// The limit itself is accepted.
	s.gfUpload(t, "limit.bin", stOctetStream, stBytes(64<<10))
	s.stWantCounts(t, 1, 1)
}

func TestGraphQLFileListAndDelete(t *testing.T) {
	s := stNew(t)
	var paths []string
	for _, name := range []string{"alpha.txt", "beta.txt", "avatar.png"} {
		paths = append(paths, str(s.gfUpload(t, name, "text/plain", []byte(name)), "path"))
		s.clock.Advance(time.Second)
	}
	const list = `query($prefix: String, $limit: Int, $skip: Int) { files(prefix: $prefix, limit: $limit, skip: $skip) { path url size contentType createdAt } }`
	d := s.gfSK(t, list, nil)
	gqWant(t, "files", gfPaths(d["files"]), gqJSON(t, []string{paths[2], paths[1], paths[0]}))
	first := d["files"].([]any)[0]
	gqWant(t, "newest file", first, gqJSON(t, map[string]any{
		"path": paths[2], "url": stPublicURL + "/files/" + paths[2], "size": len("avatar.png"), "contentType": "text/plain",
		"createdAt": s.clock.Now().Add(-time.Second).UTC().Format("2006-01-02T15:04:05.000Z"),
	}))
	d = s.gfSK(t, list, map[string]any{"limit": 1, "skip": 1})
	gqWant(t, "files limit 1 skip 1", gfPaths(d["files"]), gqJSON(t, []string{paths[1]}))
	d = s.gfSK(t, list, map[string]any{"prefix": "a"})
	gqWant(t, "files named a…", gfPaths(d["files"]), gqJSON(t, []string{paths[2], paths[0]}))
	d = s.gfSK(t, list, map[string]any{"prefix": paths[1][:len(s.p.ID)+9]})
	gqWant(t, "files under a path prefix", gfPaths(d["files"]), gqJSON(t, []string{paths[1]}))

	s.gqDo(gqReq{Key: s.p.PublishableKey}, list, nil).gqFails(t, "FORBIDDEN", 403, stSecretOnly)
	const del = `mutation($p: String!) { deleteFile(path: $p) }`
	s.gqDo(gqReq{Key: s.p.PublishableKey}, del, map[string]any{"p": paths[0]}).gqFails(t, "FORBIDDEN", 403, stSecretOnly)
	s.gqDo(gqReq{Key: s.p.SecretKey}, del, map[string]any{"p": "../other/x"}).gqFails(t, "FORBIDDEN", 403, "Access denied.")
	s.gqDo(gqReq{Key: s.p.SecretKey}, del, map[string]any{"p": ""}).gqFails(t, "BAD_USER_INPUT", 400, "File path is required.")

	if d := s.gfSK(t, del, map[string]any{"p": paths[0]}); d["deleteFile"] != true {
		t.Fatalf("deleteFile: %v", d)
	}
	if d := s.gfSK(t, del, map[string]any{"p": paths[0]}); d["deleteFile"] != false {
		t.Fatalf("deleteFile again: %v", d)
	}
	// The public link names a file too.
	if d := s.gfSK(t, del, map[string]any{"p": stPublicURL + "/files/" + paths[1]}); d["deleteFile"] != true {
		t.Fatalf("deleteFile by link: %v", d)
	}
	if got := s.gfGet(stPublicURL + "/files/" + paths[1]); got.Status != 404 {
		t.Errorf("deleted file's link: %d", got.Status)
	}
	d = s.gfSK(t, list, nil)
	gqWant(t, "files after deletes", gfPaths(d["files"]), gqJSON(t, []string{paths[2]}))
	s.stWantCounts(t, 1, 1)
}

// gfSK runs a JSON operation with the secret key and fails on
// errors.
func (s *stEnv) gfSK(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	return s.gqDo(gqReq{Key: s.p.SecretKey}, query, vars).ok(t)
}

func TestAdminFiles(t *testing.T) {
	s := stNew(t)
	var paths []string
	for i, name := range []string{"one.txt", "two.txt", "three.txt"} {
		paths = append(paths, str(s.gfUpload(t, name, "text/plain", []byte(strings.Repeat("x", i+1))), "path"))
		s.clock.Advance(time.Second)
	}
	const list = `query($p: ID!, $prefix: String, $limit: Int, $skip: Int) {
  files(projectId: $p, prefix: $prefix, limit: $limit, skip: $skip) { total items { path name url size contentType createdAt } }
}`
	d := s.gql(s.tok, list, map[string]any{"p": s.p.ID, "limit": 2}).ok(t)
	gqWant(t, "admin files", d["files"], gqJSON(t, map[string]any{"total": 3, "items": []any{
		map[string]any{"path": paths[2], "name": "three.txt", "url": stPublicURL + "/files/" + paths[2], "size": 3, "contentType": "text/plain",
			"createdAt": s.clock.Now().Add(-time.Second).UTC().Format(time.RFC3339)},
		map[string]any{"path": paths[1], "name": "two.txt", "url": stPublicURL + "/files/" + paths[1], "size": 2, "contentType": "text/plain",
			"createdAt": s.clock.Now().Add(-2 * time.Second).UTC().Format(time.RFC3339)},
	}}))
	d = s.gql(s.tok, list, map[string]any{"p": s.p.ID, "prefix": "one", "skip": 0}).ok(t)
	if got := get(d, "files", "total"); got != float64(1) {
		t.Errorf("total named one…: %v", got)
	}
	if got := s.gfGet(str(d["files"].(map[string]any)["items"].([]any)[0], "url")); got.Body != "x" {
		t.Errorf("admin file link: %d %q", got.Status, got.Body)
	}

	const usage = `query($p: ID!) { storageUsage(projectId: $p) { bytes files } }`
	gqWant(t, "storageUsage", s.gql(s.tok, usage, map[string]any{"p": s.p.ID}).ok(t)["storageUsage"], `{"bytes": 6, "files": 3}`)
	const del = `mutation($p: ID!, $path: String!) { deleteFile(projectId: $p, path: $path) }`
	if d := s.gql(s.tok, del, map[string]any{"p": s.p.ID, "path": paths[0]}).ok(t); d["deleteFile"] != true {
		t.Fatalf("admin deleteFile: %v", d)
	}
	if d := s.gql(s.tok, del, map[string]any{"p": s.p.ID, "path": stPublicURL + "/files/" + paths[0]}).ok(t); d["deleteFile"] != false {
		t.Fatalf("admin deleteFile again: %v", d)
	}
	gqWant(t, "storageUsage after delete", s.gql(s.tok, usage, map[string]any{"p": s.p.ID}).ok(t)["storageUsage"], `{"bytes": 5, "files": 2}`)
	s.gql(s.tok, del, map[string]any{"p": s.p.ID, "path": "elsewhere/x"}).gqFails(t, "FORBIDDEN", 403, "Access denied.")

	// Another admin sees none of it, and deletes nothing.
	s.gql(s.tok, `mutation { createAdmin(email: "b@example.com", password: "another long pw") { id } }`, nil).ok(t)
	other := s.loginAs("b@example.com", "another long pw")
	s.gql(other, list, map[string]any{"p": s.p.ID}).fails(t, "NOT_FOUND", "project not found")
	s.gql(other, usage, map[string]any{"p": s.p.ID}).fails(t, "NOT_FOUND", "project not found")
	s.gql(other, del, map[string]any{"p": s.p.ID, "path": paths[1]}).fails(t, "NOT_FOUND", "project not found")
	s.gql("", usage, map[string]any{"p": s.p.ID}).fails(t, "UNAUTHENTICATED", "admin authentication required")
	s.stWantCounts(t, 2, 2)
}
