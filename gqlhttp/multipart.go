package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/files"
)

// Uploads configure the transport of the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec):
// operations, then map, then the files.
//
// Unlike gqlgen's transport.MultipartForm, which reads every file into
// memory or a temporary file before the operation runs, this one streams:
// the operation runs as soon as the last file's part begins, and that
// file's Upload reads straight from the request body (its Size is -1 and
// it cannot seek back). Files before it are held, in memory up to
// MaxMemory bytes in all and in temporary files beyond, and must be read
// through once each. A variable that receives a file must be of type
// Upload (or a list or input object field of it).
type Uploads struct {
	// MaxFileBytes is the largest file accepted; 0 turns multipart
	// requests off. A larger file that has to be held refuses the request
	// (413 File size exceeds limit.); the streamed one is cut after
	// MaxFileBytes+1 bytes and its resolver must refuse it.
	MaxFileBytes int64
	// MaxFiles caps the files of one request (0: 10).
	MaxFiles int
	// MaxOperationBytes caps the operations and the map parts (0: 1 MiB).
	MaxOperationBytes int64
	// MaxMemory caps the bytes of held files kept in memory (0: 1 MiB).
	MaxMemory int64
}

func (u Uploads) withDefaults() Uploads {
	if u.MaxFiles <= 0 {
		u.MaxFiles = 10
	}
	if u.MaxOperationBytes <= 0 {
		u.MaxOperationBytes = 1 << 20
	}
	if u.MaxMemory <= 0 {
		u.MaxMemory = 1 << 20
	}
	return u
}

// partOverhead is what a part may carry besides its content (boundary and
// headers).
const partOverhead = 64 << 10

// multipartTransport serves multipart requests (see Uploads).
type multipartTransport struct {
	u       Uploads
	schema  *ast.Schema
	present graphql.ErrorPresenterFunc
}

var _ graphql.Transport = multipartTransport{}

func (m multipartTransport) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

func (m multipartTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	start := graphql.Now()
	var cleanup []func()
	defer func() {
		for _, f := range cleanup {
			f()
		}
	}()
	params, uploads, err := m.read(w, r, &cleanup)
	if err != nil {
		m.fail(ctx, w, err)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, gerrs := exec.CreateOperationContext(ctx, params)
	if gerrs != nil {
		w.WriteHeader(statusFor(gerrs))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), gerrs))
		return
	}
	for _, path := range uploads {
		if err := m.checkUploadPath(rc.Operation, path); err != nil {
			m.fail(ctx, w, err)
			return
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// read parses the operations and the map and takes the files up to the
// last one's header, setting them into the variables. It returns the
// paths that received files.
func (m multipartTransport) read(w http.ResponseWriter, r *http.Request, cleanup *[]func()) (*graphql.RawParams, []string, error) {
	u := m.u
	r.Body = http.MaxBytesReader(w, r.Body, 2*(u.MaxOperationBytes+partOverhead)+int64(u.MaxFiles)*(u.MaxFileBytes+1+partOverhead))
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errs.New(errs.Invalid, "failed to parse multipart form")
	}
	raw, err := m.field(mr, "operations")
	if err != nil {
		return nil, nil, err
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		return nil, nil, errs.New(errs.Invalid, "operations form field could not be decoded (batched operations are not supported)")
	}
	if params.Variables == nil {
		params.Variables = map[string]any{}
	}
	raw, err = m.field(mr, "map")
	if err != nil {
		return nil, nil, err
	}
	fileMap := map[string][]string{}
	if err := json.Unmarshal(raw, &fileMap); err != nil {
		return nil, nil, errs.New(errs.Invalid, "map form field could not be decoded")
	}
	if len(fileMap) > u.MaxFiles {
		return nil, nil, errs.New(errs.Invalid, "too many files: at most %d per request", u.MaxFiles)
	}
	var paths []string
	budget := u.MaxMemory
	for left := len(fileMap); left > 0; left-- {
		part, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil, errs.New(errs.Invalid, "the request ended before every file of the map")
			}
			return nil, nil, readError(err)
		}
		key := part.FormName()
		targets, ok := fileMap[key]
		if !ok {
			return nil, nil, errs.New(errs.Invalid, "part %q is not in the map, or comes twice", key)
		}
		delete(fileMap, key)
		if len(targets) == 0 {
			return nil, nil, errs.New(errs.Invalid, "the map gives no operations path for file %q", key)
		}
		up := graphql.Upload{Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"), Size: -1}
		if left == 1 && len(targets) == 1 {
			up.File = &stream{r: part}
		} else {
			up.File, up.Size, err = m.hold(part, &budget, cleanup)
			if err != nil {
				return nil, nil, err
			}
		}
		for _, p := range targets {
			f := up
			if len(targets) > 1 {
				f.File = io.NewSectionReader(up.File.(io.ReaderAt), 0, up.Size)
			}
			if err := setUpload(params.Variables, p, f); err != nil {
				return nil, nil, err
			}
			paths = append(paths, p)
		}
	}
	return params, paths, nil
}

// field reads the next part, which must be the text field name, at most
// MaxOperationBytes long.
func (m multipartTransport) field(mr *multipart.Reader, name string) ([]byte, error) {
	part, err := mr.NextPart()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errs.New(errs.Invalid, "the %s part is missing", name)
		}
		return nil, readError(err)
	}
	if part.FormName() != name {
		return nil, errs.New(errs.Invalid, "the %s part must come next, not %q", name, part.FormName())
	}
	raw, err := io.ReadAll(io.LimitReader(part, m.u.MaxOperationBytes+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(raw)) > m.u.MaxOperationBytes {
		return nil, errs.New(errs.TooLarge, "The %s part is too large.", name)
	}
	return raw, nil
}

// heldFile is a file read ahead of the operation.
type heldFile interface {
	io.ReadSeeker
	io.ReaderAt
}

// hold reads a whole file: in memory while the budget lasts, then in a
// temporary file that cleanup removes. Errors: TooLarge (more than
// MaxFileBytes), Invalid (unreadable), Internal.
func (m multipartTransport) hold(part io.Reader, budget *int64, cleanup *[]func()) (heldFile, int64, error) {
	limit := m.u.MaxFileBytes
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(part, min(*budget, limit)+1))
	if err != nil {
		return nil, 0, readError(err)
	}
	if n <= min(*budget, limit) {
		*budget -= n
		return bytes.NewReader(buf.Bytes()), n, nil
	}
	if n > limit {
		return nil, 0, errs.New(errs.TooLarge, files.MsgFileTooLarge)
	}
	f, err := os.CreateTemp("", "urbackend-upload-*")
	if err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, files.MsgUploadFailed)
	}
	*cleanup = append(*cleanup, func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	})
	if _, err := f.Write(buf.Bytes()); err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, files.MsgUploadFailed)
	}
	rest, err := io.Copy(f, io.LimitReader(part, limit+1-n))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, 0, errs.Wrap(errs.Internal, err, files.MsgUploadFailed)
		}
		return nil, 0, readError(err)
	}
	if n += rest; n > limit {
		return nil, 0, errs.New(errs.TooLarge, files.MsgFileTooLarge)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, files.MsgUploadFailed)
	}
	return f, n, nil
}

// readError classifies an error reading the body: past the body limit it
// is TooLarge, else the client's body is unreadable.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.New(errs.TooLarge, files.MsgFileTooLarge)
	}
	return errs.Wrap(errs.Invalid, err, "failed to parse multipart form")
}

// stream is the last file of a request, read from the body as the
// resolver reads it. It cannot seek, except to tell where it is or to go
// to where it already is.
type stream struct {
	r   io.Reader
	pos int64
}

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.pos += int64(n)
	return n, err
}

func (s *stream) Seek(offset int64, whence int) (int64, error) {
	switch {
	case whence == io.SeekCurrent && offset == 0, whence == io.SeekStart && offset == s.pos:
		return s.pos, nil
	}
	return s.pos, errors.New("gqlhttp: a streamed upload cannot seek")
}

// setUpload puts a file into the variables at an operations path of the
// map ("variables.<name>[.<member or index>]…"). Errors: Invalid.
func setUpload(vars map[string]any, path string, f graphql.Upload) error {
	bad := func() error { return errs.New(errs.Invalid, "invalid operations path %q in the map", path) }
	segs := strings.Split(path, ".")
	if len(segs) < 2 || segs[0] != "variables" {
		return bad()
	}
	var cur any = vars
	for i, seg := range segs[1:] {
		last := i == len(segs)-2
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[seg] = f
				return nil
			}
			cur = c[seg]
		case []any:
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || idx >= len(c) {
				return bad()
			}
			if last {
				c[idx] = f
				return nil
			}
			cur = c[idx]
		default:
			return bad()
		}
	}
	return bad()
}

// checkUploadPath checks that an operations path that received a file
// names an Upload: a variable of type Upload, an element of a list of
// them, or such a member of an input object. Errors: Invalid.
func (m multipartTransport) checkUploadPath(op *ast.OperationDefinition, path string) error {
	segs := strings.Split(path, ".")[1:]
	bad := func() error {
		return errs.New(errs.Invalid, "operations path %q receives a file but is not of type Upload", path)
	}
	if op == nil {
		return bad()
	}
	v := op.VariableDefinitions.ForName(segs[0])
	if v == nil {
		return nil // not a variable of the operation: ignored, as any extra variable
	}
	t := v.Type
	for _, seg := range segs[1:] {
		if t.Elem != nil {
			if _, err := strconv.Atoi(seg); err != nil {
				return bad()
			}
			t = t.Elem
			continue
		}
		def := m.schema.Types[t.NamedType]
		if def == nil || def.Kind != ast.InputObject {
			return bad()
		}
		fd := def.Fields.ForName(seg)
		if fd == nil {
			return bad()
		}
		t = fd.Type
	}
	if t.Elem != nil || t.NamedType != "Upload" {
		return bad()
	}
	return nil
}

// fail answers a request refused before its operation ran, with the
// error's status and a GraphQL error body.
func (m multipartTransport) fail(ctx context.Context, w http.ResponseWriter, err error) {
	w.WriteHeader(errs.KindOf(err).Status())
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{m.present(ctx, err)}})
}

// statusFor is gqlgen's: 422 for a request that does not parse or
// validate, else 200.
func statusFor(list gqlerror.List) int {
	if errcode.GetErrorKind(list) == errcode.KindProtocol {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

func writeResponse(w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal error"}],"data":null}`)
	}
	_, _ = w.Write(b)
}
