package files

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/dbpool"
)

// The GridFS layout is the standard one (fs.files, fs.chunks, chunks of
// 255 KiB with files_id and n, the driver's two indexes), so the driver's
// GridFSBucket, mongofiles and every other GridFS tool read these files.
//
// Reads and writes go through this file instead of the driver's
// GridFSUploadStream and GridFSDownloadStream, for memory and for the
// embedded database:
//   - the driver's upload stream buffers 16 MiB per upload before it
//     writes anything; this writer holds at most batchChunks chunks (1 MiB);
//   - the driver's download stream asks for chunks by files_id sorted by n,
//     which the embedded FerretDB answers by decoding every chunk in the
//     bucket and sorting the file's chunks in memory, and a first cursor
//     batch of up to 16 MiB holds a whole file on real MongoDB too. Here
//     each chunk has an _id derived from its file's _id and its index, so
//     a reader fetches exactly the chunk it needs by _id (an indexed point
//     read on both engines), holding at most two chunks.
//
// A file's _id is derived from its path, which makes paths unique per
// database and lets every lookup be by _id.

const (
	chunkSize   = 255 << 10 // the GridFS default
	batchChunks = 4         // chunks per insert
)

// errCorrupt reports a missing or malformed chunk.
var errCorrupt = errors.New("gridfs: missing or malformed chunk")

type gridfs struct {
	files, chunks *mongo.Collection
}

// fileDoc is an fs.files document.
type fileDoc struct {
	ID         bson.ObjectID `bson:"_id"`
	Length     int64         `bson:"length"`
	ChunkSize  int32         `bson:"chunkSize"`
	UploadDate time.Time     `bson:"uploadDate"`
	Filename   string        `bson:"filename"`
	Metadata   fileMeta      `bson:"metadata"`
}

// fileMeta is what urBackend keeps in a file's metadata.
type fileMeta struct {
	ProjectID   string `bson:"projectId"`
	ContentType string `bson:"contentType"`
	Confirmed   bool   `bson:"confirmed"`
	Size        int64  `bson:"size"`
}

func (d *fileDoc) numChunks() int64 {
	cs := int64(d.ChunkSize)
	if cs <= 0 {
		cs = chunkSize
	}
	return (d.Length + cs - 1) / cs
}

func (d *fileDoc) file() *File {
	return &File{
		Path:        d.Filename,
		Name:        nameOf(d.Filename),
		ContentType: d.Metadata.ContentType,
		Size:        d.Length,
		UploadedAt:  d.UploadDate.UTC(),
		ETag:        fmt.Sprintf(`"%s-%x"`, d.ID.Hex(), d.UploadDate.UnixMilli()),
	}
}

// fileID derives a file's _id from its path.
func fileID(path string) bson.ObjectID {
	sum := sha256.Sum256([]byte("urbackend/gridfs/file\x00" + path))
	var id bson.ObjectID
	copy(id[:], sum[:12])
	return id
}

// chunkID derives the _id of chunk n of a file.
func chunkID(file bson.ObjectID, n int64) bson.ObjectID {
	var buf [len("urbackend/gridfs/chunk\x00") + 12 + 8]byte
	i := copy(buf[:], "urbackend/gridfs/chunk\x00")
	i += copy(buf[i:], file[:])
	binary.BigEndian.PutUint64(buf[i:], uint64(n))
	sum := sha256.Sum256(buf[:])
	var id bson.ObjectID
	copy(id[:], sum[:12])
	return id
}

// ensureIndexes creates the driver's GridFS indexes (same keys and names)
// and one for usage by project, one at a time (dbpool.EnsureIndexes).
func (g *gridfs) ensureIndexes(ctx context.Context) error {
	if err := dbpool.EnsureIndexes(ctx, g.files,
		mongo.IndexModel{Keys: bson.D{{Key: "filename", Value: 1}, {Key: "uploadDate", Value: 1}}, Options: options.Index().SetName("filename_1_uploadDate_1")},
		mongo.IndexModel{Keys: bson.D{{Key: "metadata.projectId", Value: 1}}, Options: options.Index().SetName("ub_metadata_projectId")},
	); err != nil {
		return err
	}
	return dbpool.EnsureIndexes(ctx, g.chunks,
		mongo.IndexModel{Keys: bson.D{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}}, Options: options.Index().SetName("files_id_1_n_1").SetUnique(true)})
}

// find returns the files document of path, when it exists.
func (g *gridfs) find(ctx context.Context, path string) (*fileDoc, bool, error) {
	var d fileDoc
	err := g.files.FindOne(ctx, bson.D{{Key: "_id", Value: fileID(path)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find file %s: %w", path, err)
	}
	if d.Filename != path {
		return nil, false, nil
	}
	return &d, true, nil
}

// deleteChunks removes chunks 0..n-1 of a file, each by _id.
func (g *gridfs) deleteChunks(ctx context.Context, id bson.ObjectID, n int64) error {
	const batch = 256
	for start := int64(0); start < n; start += batch {
		end := min(start+batch, n)
		models := make([]mongo.WriteModel, 0, end-start)
		for i := start; i < end; i++ {
			models = append(models, mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: chunkID(id, i)}}))
		}
		if _, err := g.chunks.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("delete chunks of %s: %w", id.Hex(), err)
		}
	}
	return nil
}

// remove deletes a file: its chunks first, then its files document, so a
// failure half way leaves a visible file that a retry removes, never
// unreachable chunks.
func (g *gridfs) remove(ctx context.Context, d *fileDoc) error {
	if err := g.deleteChunks(ctx, d.ID, d.numChunks()); err != nil {
		return err
	}
	if _, err := g.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
		return fmt.Errorf("delete file %s: %w", d.Filename, err)
	}
	return nil
}

// writer streams a file into chunks. Close writes the files document,
// which makes the file visible; Abort removes every chunk written.
type writer struct {
	ctx     context.Context
	g       *gridfs
	id      bson.ObjectID
	cur     []byte   // the chunk being filled
	full    [][]byte // full chunks not yet inserted
	free    [][]byte // buffers to reuse
	n       int64    // chunks given to the database so far
	written int64
}

func newWriter(ctx context.Context, g *gridfs, id bson.ObjectID) *writer {
	return &writer{ctx: ctx, g: g, id: id, cur: make([]byte, 0, chunkSize)}
}

func (w *writer) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := copy(w.cur[len(w.cur):chunkSize], p)
		w.cur = w.cur[:len(w.cur)+k]
		p = p[k:]
		w.written += int64(k)
		if len(w.cur) < chunkSize {
			continue
		}
		w.full = append(w.full, w.cur)
		if n := len(w.free); n > 0 {
			w.cur, w.free = w.free[n-1], w.free[:n-1]
		} else {
			w.cur = make([]byte, 0, chunkSize)
		}
		if len(w.full) == batchChunks {
			if err := w.flush(); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// flush inserts the full chunks and keeps their buffers for reuse.
func (w *writer) flush() error {
	if len(w.full) == 0 {
		return nil
	}
	docs := make([]any, len(w.full))
	for i, b := range w.full {
		docs[i] = bson.D{
			{Key: "_id", Value: chunkID(w.id, w.n)},
			{Key: "files_id", Value: w.id},
			{Key: "n", Value: int32(w.n)},
			{Key: "data", Value: bson.Binary{Data: b}},
		}
		w.n++
	}
	if _, err := w.g.chunks.InsertMany(w.ctx, docs); err != nil {
		return fmt.Errorf("write chunks of %s: %w", w.id.Hex(), err)
	}
	for _, b := range w.full {
		w.free = append(w.free, b[:0])
	}
	w.full = w.full[:0]
	return nil
}

// Close inserts the last chunks and the files document.
func (w *writer) Close(path string, uploaded time.Time, meta fileMeta) (*fileDoc, error) {
	if len(w.cur) > 0 {
		w.full = append(w.full, w.cur)
		w.cur = nil
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	d := &fileDoc{ID: w.id, Length: w.written, ChunkSize: chunkSize, UploadDate: uploaded, Filename: path, Metadata: meta}
	if _, err := w.g.files.InsertOne(w.ctx, d); err != nil {
		return nil, fmt.Errorf("write file %s: %w", path, err)
	}
	return d, nil
}

// Abort removes every chunk this writer may have inserted. It runs
// without the request's cancellation, so an aborted request still cleans
// up.
func (w *writer) Abort() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), time.Minute)
	defer cancel()
	return w.g.deleteChunks(ctx, w.id, w.n)
}

// reader reads a file by chunk, fetching each chunk by _id and the next
// prefetchChunks ones ahead of time (concurrently: a point read costs more
// in latency than in work). It implements io.ReadSeekCloser; Seek costs
// nothing until the next Read, which starts at the chunk holding the new
// position. It holds at most 1+prefetchChunks chunks.
type reader struct {
	ctx    context.Context
	cancel context.CancelFunc
	g      *gridfs
	d      *fileDoc
	cs     int64

	pos   int64
	curN  int64
	cur   []byte
	ahead []*prefetch // chunks curN+1, curN+2, … being fetched
	wg    sync.WaitGroup
}

// prefetchChunks is how many chunks a reader fetches ahead.
const prefetchChunks = 3

type prefetch struct {
	n    int64
	done chan struct{}
	data []byte
	err  error
}

func newReader(ctx context.Context, g *gridfs, d *fileDoc) *reader {
	ctx, cancel := context.WithCancel(ctx)
	cs := int64(d.ChunkSize)
	if cs <= 0 {
		cs = chunkSize
	}
	return &reader{ctx: ctx, cancel: cancel, g: g, d: d, cs: cs, curN: -1}
}

func (r *reader) fetch(ctx context.Context, n int64) ([]byte, error) {
	raw, err := r.g.chunks.FindOne(ctx, bson.D{{Key: "_id", Value: chunkID(r.d.ID, n)}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("chunk %d of %s: %w", n, r.d.Filename, errCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("read chunk %d of %s: %w", n, r.d.Filename, err)
	}
	var idx int64
	switch v := raw.Lookup("n"); v.Type {
	case bson.TypeInt32:
		idx = int64(v.Int32())
	case bson.TypeInt64:
		idx = v.Int64()
	default:
		idx = -1
	}
	_, data, ok := raw.Lookup("data").BinaryOK()
	want := r.cs
	if n == r.d.numChunks()-1 {
		want = r.d.Length - n*r.cs
	}
	if !ok || idx != n || int64(len(data)) != want {
		return nil, fmt.Errorf("chunk %d of %s: %w", n, r.d.Filename, errCorrupt)
	}
	return append([]byte(nil), data...), nil
}

func (r *reader) startPrefetch(n int64) *prefetch {
	p := &prefetch{n: n, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(p.done)
		p.data, p.err = r.fetch(r.ctx, n)
	}()
	return p
}

// load makes chunk n current and keeps the chunks after it coming.
func (r *reader) load(n int64) error {
	var data []byte
	var err error
	if len(r.ahead) > 0 && r.ahead[0].n == n {
		p := r.ahead[0]
		<-p.done
		r.ahead = r.ahead[1:]
		data, err = p.data, p.err
	} else {
		r.ahead = nil // a seek: what was coming is not needed (Close waits for it)
		data, err = r.fetch(r.ctx, n)
	}
	if err != nil {
		return err
	}
	r.cur, r.curN = data, n
	next := n + 1
	if k := len(r.ahead); k > 0 {
		next = r.ahead[k-1].n + 1
	}
	for ; len(r.ahead) < prefetchChunks && next < r.d.numChunks(); next++ {
		r.ahead = append(r.ahead, r.startPrefetch(next))
	}
	return nil
}

func (r *reader) Read(b []byte) (int, error) {
	if r.pos >= r.d.Length {
		return 0, io.EOF
	}
	n := r.pos / r.cs
	if n != r.curN {
		if err := r.load(n); err != nil {
			return 0, err
		}
	}
	k := copy(b, r.cur[r.pos-n*r.cs:])
	r.pos += int64(k)
	return k, nil
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.d.Length
	default:
		return 0, errors.New("gridfs: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("gridfs: negative position")
	}
	r.pos = offset
	return offset, nil
}

// Close stops the prefetches and waits for them.
func (r *reader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}
