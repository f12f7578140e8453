package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
)

// BenchmarkDownload measures the download throughput (MB/s) of a 10 MiB
// file through its public link (http: the server's chunk reader behind
// HTTP; files.Open: the same reader in process) against reading the same
// GridFS file directly with the driver's download stream, whole and for
// the last MiB (a Range request; the driver skips to it). "crowded" puts
// 40 MiB of other files in the same bucket.
//
//	go test ./server/ -run '^$' -bench BenchmarkDownload -benchtime 10x
func BenchmarkDownload(b *testing.B) {
	const size = 10 << 20
	s := &stEnv{env: newEnv(b)}
	s.tok = s.login()
	s.p = s.createProject(s.tok, map[string]any{"name": "bench"})
	up := s.stUpload("big.bin", "application/octet-stream", stBytes(size))
	link := s.stLocal(up["url"].(string))
	path := up["path"].(string)
	bucket := testdb.Client(b).Database(s.stDB(s.p)).GridFSBucket()
	var doc struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := bucket.GetFilesCollection().FindOne(context.Background(), bson.D{{Key: "filename", Value: path}}).Decode(&doc); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	get := func(b *testing.B, rng string, want int64) {
		req, _ := http.NewRequest(http.MethodGet, link, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n != want || (res.StatusCode != 200 && res.StatusCode != 206) {
			b.Fatalf("GET: %d, %d bytes, %v", res.StatusCode, n, err)
		}
	}
	driver := func(b *testing.B, skip, want int64) {
		ds, err := bucket.OpenDownloadStream(context.Background(), doc.ID)
		if err != nil {
			b.Fatal(err)
		}
		defer ds.Close()
		if skip > 0 {
			if _, err := ds.Skip(skip); err != nil {
				b.Fatal(err)
			}
		}
		n, err := io.Copy(io.Discard, ds)
		if err != nil || n != want {
			b.Fatalf("driver: %d bytes, %v", n, err)
		}
	}
	pid, _ := bson.ObjectIDFromHex(s.p.ID)
	open := func(b *testing.B) {
		d, err := s.app.Files.Open(context.Background(), pid, path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, d.Content)
		d.Content.Close()
		if err != nil || n != size {
			b.Fatalf("open: %d bytes, %v", n, err)
		}
	}
	run := func(b *testing.B, label string) {
		b.Run(label+"/http", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				get(b, "", size)
			}
		})
		b.Run(label+"/files.Open", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				open(b)
			}
		})
		b.Run(label+"/driver", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				driver(b, 0, size)
			}
		})
		b.Run(label+"/last-MiB/http", func(b *testing.B) {
			b.SetBytes(1 << 20)
			b.ReportAllocs()
			for b.Loop() {
				get(b, fmt.Sprintf("bytes=%d-", size-1<<20), 1<<20)
			}
		})
		b.Run(label+"/last-MiB/driver", func(b *testing.B) {
			b.SetBytes(1 << 20)
			b.ReportAllocs()
			for b.Loop() {
				driver(b, size-1<<20, 1<<20)
			}
		})
	}
	run(b, "alone")
	for range 4 {
		s.stUpload("other.bin", "application/octet-stream", stBytes(size))
	}
	run(b, "crowded")
}
