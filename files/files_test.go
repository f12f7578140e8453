package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestSanitizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"my  holiday \t photo.jpg", "my_holiday_photo.jpg"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{`..\..\win.ini`, ".._.._win.ini"},
		{"100%.txt", "100_.txt"},
		{"a\x00b\nc", "a_b_c"},
		{"", "file"},
		{"   ", "_"},
		{"ünïcødé.txt", "ünïcødé.txt"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},
	} {
		if got := SanitizeName(tc.in); got != tc.want {
			t.Errorf("SanitizeName(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewPath(t *testing.T) {
	p := newPath("0123456789abcdef01234567", "my file.txt")
	re := regexp.MustCompile(`^0123456789abcdef01234567/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_my_file\.txt$`)
	if !re.MatchString(p) {
		t.Fatalf("got %q, want <projectId>/<uuid-v4>_my_file.txt", p)
	}
	if got := nameOf(p); got != "my_file.txt" {
		t.Errorf("nameOf: got %q", got)
	}
	if newPath("p", "x") == newPath("p", "x") {
		t.Error("two paths for the same name are equal")
	}
}

func TestConfine(t *testing.T) {
	const pid = "0123456789abcdef01234567"
	for _, tc := range []struct{ in, want string }{
		{pid + "/a.txt", pid + "/a.txt"},
		{"/" + pid + "//a.txt", pid + "/a.txt"},
		{pid + "%2Fa%20b.txt", pid + "/a b.txt"},
		{pid + `\a.txt`, pid + "/a.txt"},
		{pid + "/sub/a.txt", pid + "/sub/a.txt"},
		{pid + "/../other/a.txt", ""},
		{pid + "/%2E%2E/x", ""},
		{pid + "/./a.txt", ""},
		{pid, ""},
		{pid + "/", ""},
		{"ffffffffffffffffffffffff/a.txt", ""},
		{"../" + pid + "/a.txt", ""},
		{"", ""},
	} {
		got, err := Confine(pid, tc.in)
		if tc.want == "" {
			if !errs.Is(err, errs.Forbidden) || errs.ClientMessage(err) != MsgAccessDenied {
				t.Errorf("Confine(%q): got %q, %v; want Access denied.", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Confine(%q): got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &Service{key: []byte("k"), now: func() time.Time { return now }}
	tok := s.signToken("abc", now.Add(time.Minute))
	if id, err := s.parseToken(tok); err != nil || id != "abc" {
		t.Fatalf("parseToken: got %q, %v", id, err)
	}
	for _, bad := range []string{"", "abc", tok + "x", "abd" + tok[3:], strings.Replace(tok, ".", "..", 1)} {
		if _, err := s.parseToken(bad); errs.ClientMessage(err) != MsgUploadURLInvalid {
			t.Errorf("parseToken(%q): got %v, want %s", bad, err, MsgUploadURLInvalid)
		}
	}
	other := &Service{key: []byte("other"), now: s.now}
	if _, err := other.parseToken(tok); errs.ClientMessage(err) != MsgUploadURLInvalid {
		t.Errorf("foreign key: got %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := s.parseToken(tok); errs.ClientMessage(err) != MsgUploadURLExpired {
		t.Errorf("expired: got %v, want %s", err, MsgUploadURLExpired)
	}
}

func TestTypes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"image/PNG", "image/png"},
		{"text/plain; charset=UTF-8", "text/plain; charset=UTF-8"},
		{"nonsense", "application/octet-stream"},
		{"", "application/octet-stream"},
	} {
		if got := normalizeType(tc.in); got != tc.want {
			t.Errorf("normalizeType(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		declared, got string
		ok            bool
	}{
		{"image/png", "image/png", true},
		{"image/png", "IMAGE/PNG", true},
		{"text/plain", "text/plain; charset=utf-8", true},
		{"image/png", "", true},
		{"image/png", "text/html", false},
		{"weird", "weird", true},
		{"weird", "other", false},
	} {
		if got := typeMatches(tc.declared, tc.got); got != tc.ok {
			t.Errorf("typeMatches(%q, %q): got %v", tc.declared, tc.got, got)
		}
	}
}

func testBucket(t *testing.T) (*mongo.Database, *gridfs) {
	t.Helper()
	db := testdb.Client(t).Database(testdb.Name(t))
	b := db.GridFSBucket()
	g := &gridfs{files: b.GetFilesCollection(), chunks: b.GetChunksCollection()}
	if err := g.ensureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, g
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func count(t *testing.T, c *mongo.Collection) int64 {
	t.Helper()
	n, err := c.CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGridFSLayout writes files with the chunk writer and reads them back
// with the driver's own GridFS download stream, and with the ranged reader.
func TestGridFSLayout(t *testing.T) {
	ctx := context.Background()
	db, g := testBucket(t)
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, batchChunks * chunkSize, batchChunks*chunkSize + 7, 3<<20 + 12345} {
		data := randomBytes(size)
		path := newPath("0123456789abcdef01234567", "f.bin")
		w := newWriter(ctx, g, fileID(path))
		// Odd write sizes cross chunk and batch boundaries.
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 100_003)
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		d, err := w.Close(path, time.Now().UTC().Truncate(time.Millisecond), fileMeta{ProjectID: "p", ContentType: "application/octet-stream", Confirmed: true, Size: int64(size)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Length != int64(size) {
			t.Fatalf("size %d: length %d", size, d.Length)
		}

		// The driver reads it.
		var buf bytes.Buffer
		if _, err := db.GridFSBucket().DownloadToStream(ctx, d.ID, &buf); err != nil {
			t.Fatalf("size %d: driver download: %v", size, err)
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("size %d: driver read different bytes", size)
		}

		// Our reader, whole and in ranges.
		got, ok, err := g.find(ctx, path)
		if err != nil || !ok {
			t.Fatalf("find: %v %v", ok, err)
		}
		r := newReader(ctx, g, got)
		all, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("size %d: reader: %v, equal %v", size, err, bytes.Equal(all, data))
		}
		if size > 10 {
			for _, off := range []int64{int64(size) - 1, 0, int64(size) / 2, int64(min(size-1, chunkSize))} {
				if _, err := r.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				part := make([]byte, min(int64(size)-off, 1000))
				if _, err := io.ReadFull(r, part); err != nil {
					t.Fatalf("size %d off %d: %v", size, off, err)
				}
				if !bytes.Equal(part, data[off:off+int64(len(part))]) {
					t.Fatalf("size %d off %d: wrong bytes", size, off)
				}
			}
			if end, _ := r.Seek(0, io.SeekEnd); end != int64(size) {
				t.Fatalf("SeekEnd: %d", end)
			}
		}
		r.Close()

		if err := g.remove(ctx, got); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := count(t, g.files), count(t, g.chunks); n != 0 || m != 0 {
		t.Fatalf("after removing everything: %d files, %d chunks", n, m)
	}
}

func TestWriterAbort(t *testing.T) {
	ctx := context.Background()
	_, g := testBucket(t)
	w := newWriter(ctx, g, fileID("p/x"))
	if _, err := w.Write(randomBytes(6*chunkSize + 5)); err != nil {
		t.Fatal(err)
	}
	if count(t, g.chunks) == 0 {
		t.Fatal("no chunk written before abort: the test proves nothing")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, g.chunks); n != 0 {
		t.Fatalf("after abort: %d chunks", n)
	}
}

func TestReaderDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	_, g := testBucket(t)
	path := "p/y"
	w := newWriter(ctx, g, fileID(path))
	if _, err := w.Write(randomBytes(2*chunkSize + 1)); err != nil {
		t.Fatal(err)
	}
	d, err := w.Close(path, time.Now(), fileMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.chunks.DeleteOne(ctx, bson.D{{Key: "_id", Value: chunkID(d.ID, 1)}}); err != nil {
		t.Fatal(err)
	}
	r := newReader(ctx, g, d)
	defer r.Close()
	if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), errCorrupt.Error()) {
		t.Fatalf("got %v, want a corruption error", err)
	}
}
