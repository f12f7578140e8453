package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

// Storage (contract/REST.md §6): every route and message, the SDK's
// presigned flow, limits that leave nothing behind, exact usage.

func TestStorageMultipartUpload(t *testing.T) {
	s := stNew(t)
	data := []byte("hello, multipart world")
	r := s.stMultipart(s.p.SecretKey, "file", "my  notes.txt", "text/plain", data, map[string]string{"note": "ignored"})
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	b := stJSON(t, r)
	path, _ := b["path"].(string)
	if !stPathRE(s.p.ID, "my_notes.txt").MatchString(path) {
		t.Fatalf("path %q: want <projectId>/<uuid>_my_notes.txt", path)
	}
	stWantBody(t, r, 201, map[string]any{
		"message": "File uploaded successfully", "url": stPublicURL + "/files/" + path, "path": path, "provider": "internal",
	})
	s.stWantCounts(t, 1, 1)
	s.stWantUsage(t, int64(len(data)), 1)

	got := s.stRaw("GET", s.stLocal(b["url"].(string)), nil, nil)
	if got.Status != 200 || got.Body != string(data) || got.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("public link: %d %q %q", got.Status, got.Header.Get("Content-Type"), got.Body)
	}

	// A part without a type is stored as application/octet-stream.
	r = s.stMultipart(s.p.SecretKey, "file", "blob", "", []byte{1, 2, 3}, nil)
	if r.Status != 201 {
		t.Fatalf("untyped upload: %d %s", r.Status, r.Body)
	}
	got = s.stRaw("GET", s.stLocal(stJSON(t, r)["url"].(string)), nil, nil)
	if ct := got.Header.Get("Content-Type"); ct != stOctetStream {
		t.Errorf("untyped file served as %q", ct)
	}
	s.stWantUsage(t, int64(len(data))+3, 2)
}

func TestStorageMultipartRefusals(t *testing.T) {
	s := stNew(t)
	for _, tc := range []struct {
		name   string
		r      func() restResult
		status int
		msg    string
	}{
		{"no key", func() restResult { return s.stMultipart("", "file", "a.txt", "text/plain", []byte("x"), nil) }, 401, "API key not found"},
		{"publishable key", func() restResult {
			return s.stMultipart(s.p.PublishableKey, "file", "a.txt", "text/plain", []byte("x"), nil)
		}, 403, stSecretOnly},
		{"no file part", func() restResult {
			return s.stMultipart(s.p.SecretKey, "", "", "", nil, map[string]string{"a": "b"})
		}, 400, "No file uploaded."},
		{"file under another field", func() restResult {
			return s.stMultipart(s.p.SecretKey, "upload", "a.txt", "text/plain", []byte("x"), nil)
		}, 400, "Unexpected field"},
		{"JSON instead of multipart", func() restResult { return s.sk("POST", "/api/storage/upload", map[string]any{"file": "x"}) }, 400, "No file uploaded."},
		{"no body", func() restResult { return s.sk("POST", "/api/storage/upload", nil) }, 400, "No file uploaded."},
		{"over the 10 MiB default", func() restResult {
			return s.stMultipart(s.p.SecretKey, "file", "big.bin", stOctetStream, stBytes(stDefaultMax+1), nil)
		}, 413, "File size exceeds limit."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r().wantError(t, tc.status, tc.msg)
			s.stWantCounts(t, 0, 0)
		})
	}
	// Exactly the limit is fine.
	if r := s.stMultipart(s.p.SecretKey, "file", "max.bin", stOctetStream, stBytes(stDefaultMax), nil); r.Status != 201 {
		t.Fatalf("10 MiB upload: %d %s", r.Status, r.Body)
	}
	s.stWantCounts(t, 1, 41)
	s.stWantUsage(t, stDefaultMax, 1)
}

func TestStoragePresignedFlow(t *testing.T) {
	s := stNew(t, func(c *server.Config) { c.RateLimitPerMinute = 1000 })
	data := stBytes(700 << 10) // three chunks
	r := s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": "photo 1.png", "contentType": "image/png", "size": len(data)})
	if r.Status != 200 {
		t.Fatalf("upload-request: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("X-RateLimit-Limit") == "" {
		t.Error("upload-request has no per-project rate-limit headers")
	}
	b := stJSON(t, r)
	signed, _ := b["signedUrl"].(string)
	tok, _ := b["token"].(string)
	path, _ := b["filePath"].(string)
	if !stPathRE(s.p.ID, "photo_1.png").MatchString(path) {
		t.Fatalf("filePath %q", path)
	}
	if signed != stPublicURL+"/api/storage/upload/"+tok || tok == "" {
		t.Fatalf("signedUrl %q, token %q", signed, tok)
	}
	stWantBody(t, r, 200, map[string]any{"signedUrl": signed, "token": tok, "filePath": path})
	s.stWantCounts(t, 0, 0)

	// Step 2: a bare PUT, no key, as the SDKs send it.
	put := s.stPut(signed, "image/png", data)
	stWantBody(t, put, 200, map[string]any{"message": "Upload received", "path": path})
	s.stWantCounts(t, 1, 3)
	// Stored, not yet counted nor public.
	s.stWantUsage(t, 0, 0)
	link := stPublicURL + "/files/" + path
	s.stRaw("GET", s.stLocal(link), nil, nil).wantError(t, 404, "File not found.")

	// Step 3.
	want := map[string]any{"message": "Upload confirmed", "path": path, "provider": "internal", "url": link}
	c := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": path, "size": len(data)})
	stWantBody(t, c, 200, want)
	if c.Header.Get("X-RateLimit-Limit") == "" {
		t.Error("upload-confirm has no per-project rate-limit headers")
	}
	s.stWantUsage(t, int64(len(data)), 1)

	// Idempotent: the same body, no second charge.
	for range 2 {
		stWantBody(t, s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": path, "size": len(data)}), 200, want)
	}
	s.stWantUsage(t, int64(len(data)), 1)

	// Single use.
	s.stPut(signed, "image/png", data).wantError(t, 403, "Upload URL has already been used.")
	s.stWantCounts(t, 1, 3)

	got := s.stRaw("GET", s.stLocal(link), nil, nil)
	if got.Status != 200 || !bytes.Equal([]byte(got.Body), data) || got.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("public link: %d %q, %d bytes", got.Status, got.Header.Get("Content-Type"), len(got.Body))
	}

	// The file is a standard GridFS file: the driver reads it.
	var buf bytes.Buffer
	bucket := testdb.Client(t).Database(s.stDB(s.p)).GridFSBucket()
	if _, err := bucket.DownloadToStreamByName(context.Background(), path, &buf); err != nil {
		t.Fatalf("driver download: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatal("driver read different bytes")
	}

	// Upload URLs are capabilities: the request log never shows one.
	if strings.Contains(s.logs.String(), tok) || !strings.Contains(s.logs.String(), "path=/api/storage/upload/…") {
		t.Error("the log holds the upload token, or no redacted PUT line")
	}
}

func TestStorageUploadRequestRefusals(t *testing.T) {
	s := stNew(t)
	const invalid = "filename, contentType, and size are required."
	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		msg    string
	}{
		{"publishable key", s.p.PublishableKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": 1}, 403, stSecretOnly},
		{"no body", s.p.SecretKey, nil, 400, invalid},
		{"no filename", s.p.SecretKey, map[string]any{"contentType": "text/plain", "size": 1}, 400, invalid},
		{"blank filename", s.p.SecretKey, map[string]any{"filename": " ", "contentType": "text/plain", "size": 1}, 400, invalid},
		{"filename not a string", s.p.SecretKey, map[string]any{"filename": 7, "contentType": "text/plain", "size": 1}, 400, invalid},
		{"no contentType", s.p.SecretKey, map[string]any{"filename": "a", "size": 1}, 400, invalid},
		{"no size", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain"}, 400, invalid},
		{"size 0", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": 0}, 400, invalid},
		{"negative size", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": -5}, 400, invalid},
		{"size not a number", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": "abc"}, 400, invalid},
		{"fractional size", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": 1.5}, 400, invalid},
		{"over 10 MiB", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": stDefaultMax + 1}, 413, "File size exceeds limit."},
		{"over 10 MiB as a string", s.p.SecretKey, map[string]any{"filename": "a", "contentType": "text/plain", "size": "10485761"}, 413, "File size exceeds limit."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.rest("POST", "/api/storage/upload-request", restReq{Key: tc.key, Body: tc.body}).wantError(t, tc.status, tc.msg)
		})
	}
	// A numeric string is a size; exactly 10 MiB is allowed.
	for _, size := range []any{"42", stDefaultMax} {
		if r := s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": "a", "contentType": "text/plain", "size": size}); r.Status != 200 {
			t.Errorf("size %v: %d %s", size, r.Status, r.Body)
		}
	}
}

func TestStoragePutRefusals(t *testing.T) {
	s := stNew(t)
	data := stBytes(1536 << 10) // more than one batch of chunks
	signed, path := s.stRequest("a.bin", "application/pdf", len(data))

	// Refusals before anything is read keep the URL usable.
	s.stPut(signed, "text/html", data).wantError(t, 400, "Content-Type does not match the upload request.")
	s.stPut(signed, "application/pdf", append(bytes.Clone(data), 'x')).wantError(t, 413, "File size exceeds the declared size.")
	s.stPut(signed, "application/pdf", data[:len(data)-1]).wantError(t, 400, "Uploaded file size does not match the declared size.")
	s.stWantCounts(t, 0, 0)

	// Without Content-Length the bytes are counted as they stream: too
	// many aborts after chunks were written, and removes them.
	for _, body := range [][]byte{append(bytes.Clone(data), stBytes(100<<10)...), data[:len(data)-10]} {
		r := s.stRaw("PUT", s.stLocal(signed), io.MultiReader(bytes.NewReader(body)), map[string]string{"Content-Type": "application/pdf"})
		if r.Status != 413 && r.Status != 400 {
			t.Fatalf("streamed PUT of %d bytes: %d %s", len(body), r.Status, r.Body)
		}
		s.stWantCounts(t, 0, 0)
	}

	// The right bytes still go through; the header's parameters don't matter.
	if r := s.stPut(signed, "application/pdf; charset=binary", data); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	s.stWantCounts(t, 1, 7)
	if r := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": path, "size": len(data)}); r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}

	// Forged, tampered and foreign tokens.
	tok := strings.TrimPrefix(signed, stPublicURL+"/api/storage/upload/")
	for _, bad := range []string{"nope", tok[:len(tok)-2] + "xx", strings.Replace(tok, ".", ".1", 1)} {
		s.stRaw("PUT", s.ts.URL+"/api/storage/upload/"+bad, strings.NewReader("x"), nil).wantError(t, 403, "Invalid upload URL.")
	}
	other := stNew(t)
	otherSigned, _ := other.stRequest("o.txt", "text/plain", 1)
	otherTok := strings.TrimPrefix(otherSigned, stPublicURL+"/api/storage/upload/")
	s.stRaw("PUT", s.ts.URL+"/api/storage/upload/"+otherTok, strings.NewReader("x"), map[string]string{"Content-Type": "text/plain"}).
		wantError(t, 403, "Invalid upload URL.")

	// Expired.
	late, _ := s.stRequest("late.txt", "text/plain", 2)
	s.clock.Advance(stUploadTTL + 2*time.Minute)
	s.stPut(late, "text/plain", []byte("hi")).wantError(t, 403, "Upload URL has expired.")
	s.stWantCounts(t, 1, 7)
}

// TestStoragePutSingleUseConcurrent races PUTs of one URL: exactly one wins.
func TestStoragePutSingleUseConcurrent(t *testing.T) {
	s := stNew(t)
	data := stBytes(300 << 10)
	signed, _ := s.stRequest("race.bin", stOctetStream, len(data))
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("PUT", s.stLocal(signed), bytes.NewReader(data))
			req.Header.Set("Content-Type", stOctetStream)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case 200:
			ok++
		case 403:
		default:
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Fatalf("statuses %v: want exactly one 200", statuses)
	}
	s.stWantCounts(t, 1, 2)
}

func TestStoragePutCORS(t *testing.T) {
	s := stNew(t)
	signed, _ := s.stRequest("c.txt", "text/plain", 2)
	const origin = "https://app.example.com"
	pre := s.stRaw("OPTIONS", s.stLocal(signed), nil, map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type",
	})
	if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		pre.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
	}
	put := s.stRaw("PUT", s.stLocal(signed), strings.NewReader("hi"), map[string]string{"Origin": origin, "Content-Type": "text/plain"})
	if put.Status != 200 || put.Header.Get("Access-Control-Allow-Origin") != origin || put.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("PUT: %d %v", put.Status, put.Header)
	}
}

func TestStorageConfirmRefusals(t *testing.T) {
	s := stNew(t)
	const invalid = "filePath and size are required."
	other := "0123456789abcdef01234567"
	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		msg    string
	}{
		{"publishable key", s.p.PublishableKey, map[string]any{"filePath": s.p.ID + "/x", "size": 1}, 403, stSecretOnly},
		{"no body", s.p.SecretKey, nil, 400, invalid},
		{"no filePath", s.p.SecretKey, map[string]any{"size": 1}, 400, invalid},
		{"no size", s.p.SecretKey, map[string]any{"filePath": s.p.ID + "/x"}, 400, invalid},
		{"size 0", s.p.SecretKey, map[string]any{"filePath": s.p.ID + "/x", "size": 0}, 400, invalid},
		{"another project", s.p.SecretKey, map[string]any{"filePath": other + "/x", "size": 1}, 403, "Access denied."},
		{"escapes the project", s.p.SecretKey, map[string]any{"filePath": s.p.ID + "/../" + other + "/x", "size": 1}, 403, "Access denied."},
		{"encoded dots", s.p.SecretKey, map[string]any{"filePath": s.p.ID + "/%2e%2e/x", "size": 1}, 403, "Access denied."},
		{"project id only", s.p.SecretKey, map[string]any{"filePath": s.p.ID, "size": 1}, 403, "Access denied."},
		{"not uploaded", s.p.SecretKey, map[string]any{"filePath": s.p.ID + "/nothing.txt", "size": 1}, 409, "Uploaded file is not visible yet. Please retry confirmation."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.rest("POST", "/api/storage/upload-confirm", restReq{Key: tc.key, Body: tc.body}).wantError(t, tc.status, tc.msg)
		})
	}

	// Requested but not PUT yet: not visible.
	signed, path := s.stRequest("m.bin", stOctetStream, 1000)
	s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": path, "size": 1000}).
		wantError(t, 409, "Uploaded file is not visible yet. Please retry confirmation.")
	if r := s.stPut(signed, stOctetStream, stBytes(1000)); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	// Within 64 bytes is the same size; more is a mismatch that deletes it.
	s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": path, "size": 1065}).
		wantError(t, 400, "Declared file size does not match uploaded file size.")
	s.stWantCounts(t, 0, 0)
	s.stWantUsage(t, 0, 0)

	signed, path = s.stRequest("n.bin", stOctetStream, 1000)
	if r := s.stPut(signed, stOctetStream, stBytes(1000)); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	if r := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": "/" + path, "size": "1064"}); r.Status != 200 || stJSON(t, r)["path"] != path {
		t.Fatalf("confirm within 64 bytes: %d %s", r.Status, r.Body)
	}
	s.stWantUsage(t, 1000, 1)
}

func TestStorageDelete(t *testing.T) {
	s := stNew(t)
	a := s.stUpload("a.txt", "text/plain", []byte("aaa"))
	b := s.stUpload("b.txt", "text/plain", stBytes(300<<10))
	s.stWantUsage(t, 3+300<<10, 2)

	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		msg    string
	}{
		{"publishable key", s.p.PublishableKey, map[string]any{"path": a["path"]}, 403, stSecretOnly},
		{"no path", s.p.SecretKey, map[string]any{}, 400, "File path is required."},
		{"no body", s.p.SecretKey, nil, 400, "File path is required."},
		{"another project", s.p.SecretKey, map[string]any{"path": "0123456789abcdef01234567/x"}, 403, "Access denied."},
		{"escapes the project", s.p.SecretKey, map[string]any{"path": s.p.ID + "/../x/y"}, 403, "Access denied."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.rest("DELETE", "/api/storage/file", restReq{Key: tc.key, Body: tc.body}).wantError(t, tc.status, tc.msg)
		})
	}
	s.stWantCounts(t, 2, 3)

	stWantBody(t, s.sk("DELETE", "/api/storage/file", map[string]any{"path": a["path"]}), 200,
		map[string]any{"message": "File deleted successfully", "deleted": true})
	stWantBody(t, s.sk("DELETE", "/api/storage/file", map[string]any{"path": a["path"]}), 200,
		map[string]any{"message": "File deleted successfully", "deleted": false})
	s.stRaw("GET", s.stLocal(a["url"].(string)), nil, nil).wantError(t, 404, "File not found.")
	s.stWantCounts(t, 1, 2)
	s.stWantUsage(t, 300<<10, 1)

	// The public link names the file too.
	stWantBody(t, s.sk("DELETE", "/api/storage/file", map[string]any{"path": b["url"]}), 200,
		map[string]any{"message": "File deleted successfully", "deleted": true})
	s.stWantCounts(t, 0, 0)
	s.stWantUsage(t, 0, 0)
}

func TestStorageDeleteAll(t *testing.T) {
	s := stNew(t)
	other := s.createProject(s.tok, map[string]any{"name": "other"})
	for i := range 3 {
		s.stUpload("f.bin", stOctetStream, stBytes(100<<10*(i+1)))
	}
	// An unconfirmed upload goes too.
	u, _ := s.stRequest("pending.bin", stOctetStream, 10)
	if r := s.stPut(u, stOctetStream, stBytes(10)); r.Status != 200 {
		t.Fatal(r.Body)
	}
	// Another project's file stays.
	them := &stEnv{env: s.env, clock: s.clock, tok: s.tok, p: other}
	them.stUpload("keep.txt", "text/plain", []byte("keep"))

	s.rest("DELETE", "/api/storage/all", restReq{Key: s.p.PublishableKey}).wantError(t, 403, stSecretOnly)
	stWantBody(t, s.sk("DELETE", "/api/storage/all", nil), 200, map[string]any{"success": true, "deleted": 4, "provider": "internal"})
	s.stWantCounts(t, 0, 0)
	s.stWantUsage(t, 0, 0)
	stWantBody(t, s.sk("DELETE", "/api/storage/all", nil), 200, map[string]any{"success": true, "deleted": 0, "provider": "internal"})
	them.stWantCounts(t, 1, 1)
	them.stWantUsage(t, 4, 1)
}

// TestStoragePathConfinement: names cannot add path segments, and paths
// given back are confined to the project.
func TestStoragePathConfinement(t *testing.T) {
	s := stNew(t)
	other := s.createProject(s.tok, map[string]any{"name": "other"})
	them := &stEnv{env: s.env, clock: s.clock, tok: s.tok, p: other}
	theirs := them.stUpload("secret.txt", "text/plain", []byte("theirs"))

	for _, name := range []string{"../../etc/passwd", "..", `..\..\boot.ini`, "a/b/c.txt", "%2e%2e%2fx"} {
		_, path := s.stRequest(name, "text/plain", 1)
		rest := strings.TrimPrefix(path, s.p.ID+"/")
		if rest == path || strings.Contains(rest, "/") || strings.Contains(rest, `\`) || strings.Contains(rest, "%") {
			t.Errorf("name %q gave path %q", name, path)
		}
	}
	for _, p := range []string{
		theirs["path"].(string),
		s.p.ID + "/../" + theirs["path"].(string),
		s.p.ID + "%2F..%2F" + theirs["path"].(string),
		s.p.ID + `/..\` + theirs["path"].(string),
	} {
		s.sk("DELETE", "/api/storage/file", map[string]any{"path": p}).wantError(t, 403, "Access denied.")
		s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p, "size": 6}).wantError(t, 403, "Access denied.")
	}
	// Their public link is not reachable under our project id.
	for _, u := range []string{
		s.ts.URL + "/files/" + s.p.ID + "/../" + theirs["path"].(string),
		s.ts.URL + "/files/" + s.p.ID + "/" + strings.TrimPrefix(theirs["path"].(string), other.ID+"/"),
		s.ts.URL + "/files/" + s.p.ID + "/%2e%2e/" + theirs["path"].(string),
	} {
		s.stRaw("GET", u, nil, nil).wantError(t, 404, "File not found.")
	}
	them.stWantCounts(t, 1, 1)
}

func TestStorageCaseInsensitiveRoutes(t *testing.T) {
	s := stNew(t)
	r := s.sk("POST", "/API/Storage/Upload-Request", map[string]any{"filename": "x.txt", "contentType": "text/plain", "size": 2})
	if r.Status != 200 {
		t.Fatalf("upload-request: %d %s", r.Status, r.Body)
	}
	b := stJSON(t, r)
	// The token keeps its case.
	u := strings.Replace(s.stLocal(b["signedUrl"].(string)), "/api/storage/upload/", "/api/Storage/UPLOAD/", 1)
	if got := s.stRaw("PUT", u, strings.NewReader("hi"), map[string]string{"Content-Type": "text/plain"}); got.Status != 200 {
		t.Fatalf("PUT: %d %s", got.Status, got.Body)
	}
	if got := s.sk("POST", "/api/storage/UPLOAD-CONFIRM/", map[string]any{"filePath": b["filePath"], "size": 2}); got.Status != 200 {
		t.Fatalf("confirm: %d %s", got.Status, got.Body)
	}
}
