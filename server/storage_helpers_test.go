package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

const (
	stPublicURL   = "https://api.example.test" // newEnv's PublicURL
	stSecretOnly  = "Forbidden. This action requires a Secret Key (sk_live_...)."
	stDefaultMax  = 10 << 20
	stUploadTTL   = 10 * time.Minute
	stOctetStream = "application/octet-stream"
)

// stPathRE matches "<projectId>/<uuid-v4>_<name>".
func stPathRE(pid, name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + pid + `/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_` + regexp.QuoteMeta(name) + `$`)
}

// stClock is the server's clock; tests move it forward.
type stClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stEnv is a server with an injected clock and one project.
type stEnv struct {
	*env
	clock *stClock
	tok   string
	p     project
}

func stNew(t *testing.T, opts ...func(*server.Config)) *stEnv {
	t.Helper()
	clock := &stClock{t: time.Now().UTC().Truncate(time.Second)}
	all := append([]func(*server.Config){func(c *server.Config) { c.Now = clock.Now }}, opts...)
	e := newEnv(t, all...)
	s := &stEnv{env: e, clock: clock}
	s.tok = e.login()
	s.p = e.createProject(s.tok, map[string]any{"name": "files"})
	return s
}

// sk calls a storage route with the project's secret key.
func (s *stEnv) sk(method, path string, body any) restResult {
	s.t.Helper()
	return s.rest(method, path, restReq{Key: s.p.SecretKey, Body: body})
}

// stLocal turns a URL the server handed out (on its public URL) into one
// on the test server.
func (s *stEnv) stLocal(u string) string {
	s.t.Helper()
	rest, ok := strings.CutPrefix(u, stPublicURL)
	if !ok {
		s.t.Fatalf("URL %q is not on the public URL %s", u, stPublicURL)
	}
	return s.ts.URL + rest
}

// stRaw sends a request with a raw body (nil: none) and returns the
// response with its body.
func (s *stEnv) stRaw(method, url string, body io.Reader, headers map[string]string) restResult {
	s.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, raw := s.do(req)
	return restResult{Status: res.StatusCode, Body: raw, Header: res.Header}
}

// stPut PUTs raw bytes to a signed upload URL, as the SDKs do.
func (s *stEnv) stPut(signedURL, contentType string, data []byte) restResult {
	s.t.Helper()
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return s.stRaw(http.MethodPut, s.stLocal(signedURL), bytes.NewReader(data), h)
}

// stMultipart posts a multipart body with one file part (field, name,
// type) and optional text fields first.
func (s *stEnv) stMultipart(key, field, name, contentType string, data []byte, texts map[string]string) restResult {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range texts {
		_ = mw.WriteField(k, v)
	}
	if field != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+name+`"`)
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			s.t.Fatal(err)
		}
		_, _ = pw.Write(data)
	}
	_ = mw.Close()
	h := map[string]string{"Content-Type": mw.FormDataContentType()}
	if key != "" {
		h["x-api-key"] = key
	}
	return s.stRaw(http.MethodPost, s.ts.URL+"/api/storage/upload", &buf, h)
}

// stRequest is step 1 of the SDK flow; it returns the signed URL and path.
func (s *stEnv) stRequest(name, contentType string, size int) (signedURL, filePath string) {
	s.t.Helper()
	r := s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": name, "contentType": contentType, "size": size})
	if r.Status != 200 {
		s.t.Fatalf("upload-request: %d %s", r.Status, r.Body)
	}
	b := stJSON(s.t, r)
	return b["signedUrl"].(string), b["filePath"].(string)
}

// stUpload runs the SDK's three steps and returns the confirm body.
func (s *stEnv) stUpload(name, contentType string, data []byte) map[string]any {
	s.t.Helper()
	u, p := s.stRequest(name, contentType, len(data))
	if r := s.stPut(u, contentType, data); r.Status != 200 {
		s.t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	r := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p, "size": len(data)})
	if r.Status != 200 {
		s.t.Fatalf("upload-confirm: %d %s", r.Status, r.Body)
	}
	return stJSON(s.t, r)
}

// stDB is the name of the project's database.
func (s *stEnv) stDB(p project) string {
	s.t.Helper()
	id, _ := bson.ObjectIDFromHex(p.ID)
	pr, err := s.app.Projects.ByID(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return pr.DatabaseName
}

// stCounts counts the GridFS documents of a database.
func stCounts(t *testing.T, db string) (files, chunks int64) {
	t.Helper()
	d := testdb.Client(t).Database(db)
	var err error
	if files, err = d.Collection("fs.files").CountDocuments(context.Background(), bson.D{}); err != nil {
		t.Fatal(err)
	}
	if chunks, err = d.Collection("fs.chunks").CountDocuments(context.Background(), bson.D{}); err != nil {
		t.Fatal(err)
	}
	return files, chunks
}

// stWantCounts checks the GridFS documents of the project's database.
func (s *stEnv) stWantCounts(t *testing.T, files, chunks int64) {
	t.Helper()
	f, c := stCounts(t, s.stDB(s.p))
	if f != files || c != chunks {
		t.Fatalf("GridFS: got %d files, %d chunks; want %d, %d", f, c, files, chunks)
	}
}

// stUsage is the project's usage as the files service computes it, checked
// against a sum over fs.files done here.
func (s *stEnv) stUsage(t *testing.T) (bytes, files int64) {
	t.Helper()
	id, _ := bson.ObjectIDFromHex(s.p.ID)
	u, err := s.app.Files.Usage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := testdb.Client(t).Database(s.stDB(s.p)).Collection("fs.files").Find(context.Background(),
		bson.D{{Key: "metadata.confirmed", Value: true}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		Length int64 `bson:"length"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, d := range docs {
		sum += d.Length
	}
	if u.Bytes != sum || u.Files != int64(len(docs)) {
		t.Fatalf("Usage %+v disagrees with fs.files: %d bytes in %d files", u, sum, len(docs))
	}
	return u.Bytes, u.Files
}

func (s *stEnv) stWantUsage(t *testing.T, bytes, files int64) {
	t.Helper()
	if b, f := s.stUsage(t); b != bytes || f != files {
		t.Fatalf("usage: got %d bytes in %d files, want %d in %d", b, f, bytes, files)
	}
}

// stWantBody checks a success body exactly.
func stWantBody(t *testing.T, r restResult, status int, want map[string]any) {
	t.Helper()
	var got any
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	exp, _ := json.Marshal(want)
	var wantV any
	_ = json.Unmarshal(exp, &wantV)
	if r.Status != status || !reflect.DeepEqual(got, wantV) {
		t.Fatalf("got %d %s\nwant %d %s", r.Status, r.Body, status, exp)
	}
}

func stBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// stJSON decodes a JSON object body.
func stJSON(t testing.TB, r restResult) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}
