package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

// Storage limits and lifecycle: the quota (also under concurrency),
// configurable sizes, the sweeper, restarts and brought databases.

func TestStorageQuota(t *testing.T) {
	s := stNew(t, func(c *server.Config) { c.StorageQuotaBytes = 1000 })
	const over = "Internal storage limit exceeded."
	s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": "a", "contentType": "text/plain", "size": 1001}).
		wantError(t, 403, over)

	s.stUpload("first.bin", stOctetStream, stBytes(600))
	s.stWantUsage(t, 600, 1)

	// Checked before anything is stored ...
	s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": "a", "contentType": "text/plain", "size": 401}).
		wantError(t, 403, over)
	s.stMultipart(s.p.SecretKey, "file", "m.bin", stOctetStream, stBytes(401), nil).
		wantError(t, 403, "Storage limit exceeded. Please upgrade your plan or delete some files.")
	s.stWantCounts(t, 1, 1)

	// ... and again when a file becomes counted: two uploads that each
	// fit, but not together.
	u1, p1 := s.stRequest("b.bin", stOctetStream, 300)
	u2, p2 := s.stRequest("c.bin", stOctetStream, 300)
	for _, u := range []string{u1, u2} {
		if r := s.stPut(u, stOctetStream, stBytes(300)); r.Status != 200 {
			t.Fatalf("PUT: %d %s", r.Status, r.Body)
		}
	}
	s.stWantCounts(t, 3, 3)
	if r := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p1, "size": 300}); r.Status != 200 {
		t.Fatalf("confirm 1: %d %s", r.Status, r.Body)
	}
	s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p2, "size": 300}).wantError(t, 403, over)
	s.stWantCounts(t, 2, 2)
	s.stWantUsage(t, 900, 2)
	// The refused file is gone, not waiting.
	s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p2, "size": 300}).
		wantError(t, 409, "Uploaded file is not visible yet. Please retry confirmation.")

	// A delete frees room; the quota is exact to the byte.
	if r := s.sk("DELETE", "/api/storage/file", map[string]any{"path": p1}); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	s.stWantUsage(t, 600, 1)
	if r := s.stMultipart(s.p.SecretKey, "file", "fits.bin", stOctetStream, stBytes(400), nil); r.Status != 201 {
		t.Fatalf("upload to exactly the quota: %d %s", r.Status, r.Body)
	}
	s.stWantUsage(t, 1000, 2)
	s.stMultipart(s.p.SecretKey, "file", "one.bin", stOctetStream, []byte{1}, nil).
		wantError(t, 403, "Storage limit exceeded. Please upgrade your plan or delete some files.")
	s.stWantCounts(t, 2, 2)
}

// TestStorageQuotaConcurrentConfirms confirms many uploads at once: the
// ones that fit succeed, the rest are refused and removed, and usage never
// passes the quota.
func TestStorageQuotaConcurrentConfirms(t *testing.T) {
	s := stNew(t, func(c *server.Config) { c.StorageQuotaBytes = 1000 })
	const n, size = 8, 300 // 3 fit
	paths := make([]string, n)
	for i := range n {
		u, p := s.stRequest("f.bin", stOctetStream, size)
		if r := s.stPut(u, stOctetStream, stBytes(size)); r.Status != 200 {
			t.Fatalf("PUT: %d %s", r.Status, r.Body)
		}
		paths[i] = p
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": paths[i], "size": size}).Status
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
	if ok != 3 {
		t.Fatalf("statuses %v: want exactly three 200", statuses)
	}
	s.stWantUsage(t, 3*size, 3)
	s.stWantCounts(t, 3, 3)
}

func TestStorageLimitsConfigurable(t *testing.T) {
	s := stNew(t, func(c *server.Config) { c.MaxFileBytes = 100 })
	s.sk("POST", "/api/storage/upload-request", map[string]any{"filename": "a", "contentType": "text/plain", "size": 101}).
		wantError(t, 413, "File size exceeds limit.")
	s.stMultipart(s.p.SecretKey, "file", "m.bin", stOctetStream, stBytes(101), nil).wantError(t, 413, "File size exceeds limit.")
	s.stWantCounts(t, 0, 0)
	if r := s.stMultipart(s.p.SecretKey, "file", "m.bin", stOctetStream, stBytes(100), nil); r.Status != 201 {
		t.Fatalf("upload of the limit: %d %s", r.Status, r.Body)
	}
}

func TestStorageSweep(t *testing.T) {
	s := stNew(t)
	kept := s.stUpload("kept.txt", "text/plain", []byte("kept"))
	// Uploaded, never confirmed.
	u, p := s.stRequest("pending.bin", stOctetStream, 600<<10)
	if r := s.stPut(u, stOctetStream, stBytes(600<<10)); r.Status != 200 {
		t.Fatal(r.Body)
	}
	// Requested, never uploaded.
	s.stRequest("never.bin", stOctetStream, 5)
	s.stWantCounts(t, 2, 4)

	n, err := s.app.Files.SweepOnce(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("sweep before expiry: %d, %v", n, err)
	}
	s.clock.Advance(stUploadTTL + 2*time.Minute)
	n, err = s.app.Files.SweepOnce(context.Background())
	// Three records: the pending file, the unused URL, and the confirmed
	// file's (kept so its URL says "already used" until it expires).
	if err != nil || n != 3 {
		t.Fatalf("sweep after expiry: %d, %v; want 3", n, err)
	}
	s.stWantCounts(t, 1, 1)
	s.stWantUsage(t, 4, 1)
	s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p, "size": 600 << 10}).
		wantError(t, 409, "Uploaded file is not visible yet. Please retry confirmation.")
	if got := s.stRaw("GET", s.stLocal(kept["url"].(string)), nil, nil); got.Body != "kept" {
		t.Fatalf("confirmed file after sweep: %d %q", got.Status, got.Body)
	}
	for _, coll := range []string{"storage_uploads", "storage_upload_claims", "storage_locks"} {
		left, err := testdb.Client(t).Database(s.cfg.PlatformDB).Collection(coll).CountDocuments(context.Background(), bson.D{})
		if err != nil || left != 0 {
			t.Errorf("%s: %d documents left, %v", coll, left, err)
		}
	}
}

// TestStorageTokensSurviveRestart: upload URLs live in the platform
// database, so a restarted (or another) instance honours them once.
func TestStorageTokensSurviveRestart(t *testing.T) {
	s := stNew(t)
	u, p := s.stRequest("r.txt", "text/plain", 5)
	s.restart()
	if r := s.stPut(u, "text/plain", []byte("hello")); r.Status != 200 {
		t.Fatalf("PUT after restart: %d %s", r.Status, r.Body)
	}
	s.restart()
	s.stPut(u, "text/plain", []byte("hello")).wantError(t, 403, "Upload URL has already been used.")
	if r := s.sk("POST", "/api/storage/upload-confirm", map[string]any{"filePath": p, "size": 5}); r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
}

func TestStorageBringYourOwnDatabase(t *testing.T) {
	s := stNew(t)
	own := testdb.Name(t)
	uri := strings.TrimSuffix(testdb.URI(t), "/") + "/" + own
	byo := s.createProject(s.tok, map[string]any{"name": "byo", "databaseUri": uri})
	bs := &stEnv{env: s.env, clock: s.clock, tok: s.tok, p: byo}
	if db := bs.stDB(byo); db != own {
		t.Fatalf("project database %q, want the brought %q", db, own)
	}
	a := bs.stUpload("a.txt", "text/plain", []byte("in my own database"))
	if r := bs.stMultipart(byo.SecretKey, "file", "b.txt", "text/plain", []byte("me too"), nil); r.Status != 201 {
		t.Fatal(r.Body)
	}
	if f, c := stCounts(t, own); f != 2 || c != 2 {
		t.Fatalf("brought database: %d files, %d chunks; want 2, 2", f, c)
	}
	var doc struct {
		Length   int64 `bson:"length"`
		Metadata struct {
			ProjectID   string `bson:"projectId"`
			ContentType string `bson:"contentType"`
			Confirmed   bool   `bson:"confirmed"`
			Size        int64  `bson:"size"`
		} `bson:"metadata"`
	}
	if err := testdb.Client(t).Database(own).Collection("fs.files").FindOne(context.Background(), bson.D{{Key: "filename", Value: a["path"]}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if m := doc.Metadata; doc.Length != 18 || m.ProjectID != byo.ID || m.ContentType != "text/plain" || !m.Confirmed || m.Size != 18 {
		t.Errorf("files document: %+v", doc)
	}
	if got := bs.stRaw("GET", bs.stLocal(a["url"].(string)), nil, nil); got.Body != "in my own database" {
		t.Fatalf("public link: %d %q", got.Status, got.Body)
	}
	bs.stWantUsage(t, 18+6, 2)
	stWantBody(t, bs.sk("DELETE", "/api/storage/all", nil), 200, map[string]any{"success": true, "deleted": 2, "provider": "internal"})
	if f, c := stCounts(t, own); f != 0 || c != 0 {
		t.Fatalf("after delete all: %d files, %d chunks", f, c)
	}
}
