package dynschema

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/gqlhttp"
	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
)

// File storage in the per-project schema: the files query and the
// uploadFile and deleteFile mutations call the files operations, which
// take the secret key only (contract/REST.md §6), with the caller of the
// operation. uploadFile takes its file from a multipart request (the
// GraphQL multipart request spec, gqlhttp.Uploads), streamed into
// storage.

// FileService is the file operations the executor calls (*files.Service).
type FileService interface {
	Config() files.Config
	Upload(ctx context.Context, c *principal.Caller, name, contentType string, size int64, r io.Reader) (*files.File, error)
	List(ctx context.Context, c *principal.Caller, o files.ListOptions) (*files.Listing, error)
	Delete(ctx context.Context, c *principal.Caller, path string) (bool, error)
}

// The names of the file operations' types and root fields.
const (
	fileType       = "File"
	uploadScalar   = "Upload"
	filesField     = "files"
	uploadFileName = "uploadFile"
	deleteFileName = "deleteFile"
)

// fileSDL declares the file types.
const fileSDL = `"""A file upload: a file part of a multipart request (the GraphQL multipart request spec)."""
scalar Upload

"""A stored file of the project."""
type File {
  """<projectId>/<uuid>_<name>: what deleteFile takes."""
  path: String!
  """The public link, served to anyone who has it."""
  url: String!
  """Bytes."""
  size: Float!
  contentType: String!
  createdAt: Time
}
`

// addFiles registers the file operations, leaving out those whose names
// a collection already generates (collections defined before these names
// were reserved keep theirs).
func (m *model) addFiles() {
	taken := map[string]bool{}
	for _, ci := range m.colls {
		types, roots := collections.GraphQLNames(ci.name, ci.fields)
		for _, n := range types {
			taken["type "+n] = true
		}
		for _, n := range roots {
			taken["field "+n] = true
		}
	}
	m.fileTypes = !taken["type "+fileType] && !taken["type "+uploadScalar]
	if m.fileTypes {
		m.objects[fileType] = &objInfo{kind: objFile}
		if !taken["field "+filesField] {
			m.roots[ast.Query][filesField] = rootField{kind: rootFiles}
		}
		if !taken["field "+uploadFileName] {
			m.roots[ast.Mutation][uploadFileName] = rootField{kind: rootUploadFile}
		}
	}
	if !taken["field "+deleteFileName] {
		m.roots[ast.Mutation][deleteFileName] = rootField{kind: rootDeleteFile}
	}
}

// writeFileQueries writes the file fields of Query.
func (m *model) writeFileQueries(w *sdlWriter) {
	if m.roots[ast.Query][filesField].kind == rootFiles {
		w.fieldDoc("The project's files, newest first (secret key only). prefix: a path prefix (<projectId>/…) or the start of the file name; limit: 1 to 100 (default 100).")
		w.line("  files(prefix: String, limit: Int, skip: Int): [File!]!")
	}
}

// writeFileMutations writes the file fields of Mutation.
func (m *model) writeFileMutations(w *sdlWriter) {
	if m.roots[ast.Mutation][uploadFileName].kind == rootUploadFile {
		w.fieldDoc("Stores a file (secret key only): send the request as multipart/form-data. name replaces the file part's name.")
		w.line("  uploadFile(file: Upload!, name: String): File!")
	}
	if m.roots[ast.Mutation][deleteFileName].kind == rootDeleteFile {
		w.fieldDoc("Deletes a file by path or public link (secret key only); false when there was none.")
		w.line("  deleteFile(path: String!): Boolean!")
	}
}

// errNoStorage answers the file operations of an executor without a
// files service.
var errNoStorage = errs.New(errs.Unavailable, "File storage is not available.")

// fileValue is a value of File.
type fileValue struct {
	f   *files.File
	url string
}

func (v *fileValue) field(name string) any {
	switch name {
	case "path":
		return v.f.Path
	case "url":
		return v.url
	case "size":
		return float64(v.f.Size)
	case "contentType":
		return v.f.ContentType
	case "createdAt":
		if v.f.UploadedAt.IsZero() {
			return nil
		}
		return v.f.UploadedAt
	}
	return nil
}

func (r *run) fileValue(f *files.File) *fileValue {
	return &fileValue{f: f, url: files.URL(r.x.deps.PublicURL, f.Path)}
}

// listFiles resolves Query.files.
func (r *run) listFiles(ctx context.Context, c *principal.Caller, args map[string]any) (any, error) {
	fs := r.x.deps.Files
	if fs == nil {
		return nil, errNoStorage
	}
	o := files.ListOptions{Prefix: stringArg(args, "prefix")}
	o.Limit, _ = intArg(args, "limit")
	o.Skip, _ = intArg(args, "skip")
	l, err := fs.List(ctx, c, o)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l.Files))
	for i, f := range l.Files {
		out[i] = r.fileValue(f)
	}
	return out, nil
}

// uploadFile resolves Mutation.uploadFile: the file streams from the
// request into storage. Errors: as files.Upload; Invalid "No file
// uploaded." when file is not a file part.
func (r *run) uploadFile(ctx context.Context, c *principal.Caller, args map[string]any) (any, error) {
	fs := r.x.deps.Files
	if fs == nil {
		return nil, errNoStorage
	}
	up, ok := args["file"].(graphql.Upload)
	if !ok || up.File == nil {
		if err := policy.RequireSecret(c.Policy()); err != nil {
			return nil, err // as REST: the key is checked first
		}
		return nil, errs.New(errs.Invalid, files.MsgNoFile)
	}
	name := up.Filename
	if n := stringArg(args, "name"); n != "" {
		name = n
	}
	ct := up.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	f, err := fs.Upload(ctx, c, name, ct, max(up.Size, -1), up.File)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = errs.New(errs.TooLarge, files.MsgFileTooLarge)
		}
		return nil, err
	}
	return r.fileValue(f), nil
}

// deleteFile resolves Mutation.deleteFile.
func (r *run) deleteFile(ctx context.Context, c *principal.Caller, args map[string]any) (any, error) {
	fs := r.x.deps.Files
	if fs == nil {
		return nil, errNoStorage
	}
	return fs.Delete(ctx, c, files.PathOf(r.x.deps.PublicURL, stringArg(args, "path")))
}

// uploads configures the multipart transport from the files service: a
// file may be as large as the service accepts.
func (h *Handler) uploads() gqlhttp.Uploads {
	if h.opts.Deps.Files == nil {
		return gqlhttp.Uploads{}
	}
	return gqlhttp.Uploads{MaxFileBytes: h.opts.Deps.Files.Config().MaxFileBytes}
}
