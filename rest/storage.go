package rest

import (
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/files"
)

// Storage routes (contract/REST.md §6) and the public file links.
//
//	POST   /api/storage/upload          sk, multipart field "file"
//	POST   /api/storage/upload-request  sk, project limit: mints a signed upload URL
//	PUT    /api/storage/upload/{token}  no key: the signed upload URL (raw bytes)
//	POST   /api/storage/upload-confirm  sk, project limit
//	DELETE /api/storage/file            sk, body {path}
//	DELETE /api/storage/all             sk
//	GET    /files/{projectId}/{uuid}_{name}  no key: public link (also HEAD)

// maxFormField caps a non-file multipart field; multipartSlack is what a
// multipart body may carry besides the file.
const (
	maxFormField   = 64 << 10
	multipartSlack = 1 << 20
)

// mountStorage adds the keyed JSON routes (inside parseJSON and requireKey).
func (a *API) mountStorage(r chi.Router) {
	r.With(a.projectLimit, a.secretOnly).Post("/storage/upload-request", a.uploadRequest)
	r.With(a.projectLimit, a.secretOnly).Post("/storage/upload-confirm", a.uploadConfirm)
	r.With(a.secretOnly).Delete("/storage/file", a.deleteFile)
	r.With(a.secretOnly).Delete("/storage/all", a.deleteAllFiles)
}

// mountStorageRaw adds the routes whose body is not JSON: the multipart
// upload (keyed) and the signed upload URL (no key).
func (a *API) mountStorageRaw(r chi.Router) {
	r.With(a.requireKey, a.secretOnly).Post("/storage/upload", a.uploadMultipart)
	r.Put("/storage/upload/{token}", a.putUpload)
}

// MountFiles adds the public file links, /files/<path>, outside /api:
// no key, no rate limit, CORS for any origin.
func (a *API) MountFiles(r chi.Router) {
	// Public links share the per-address safety-net limit of /api.
	r.With(cors, a.ipLimit).Get("/files/*", a.serveFile)
	r.With(cors, a.ipLimit).Head("/files/*", a.serveFile)
	// cors answers preflights; a plain OPTIONS gets the same empty answer.
	r.With(cors).Options("/files/*", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

// LogPath is a request path as logs may show it: the token of a signed
// upload URL is replaced by "…".
func LogPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/api/storage/upload/"); ok && rest != "" {
		return "/api/storage/upload/…"
	}
	return p
}

// fileURL is the public link of a stored path.
func (a *API) fileURL(path string) string { return files.URL(a.PublicURL, path) }

// field returns a top-level value of a JSON object body.
func field(body any, key string) any {
	d, _ := body.(bson.D)
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// sizeOf reads a declared size: a whole number, or a string holding one
// (contract/REST.md §6.3). Anything else is 0, which the operation refuses.
func sizeOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
	}
	return 0
}

func (a *API) uploadMultipart(w http.ResponseWriter, r *http.Request) {
	limit := a.Files.Config().MaxFileBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		a.fail(w, r, errs.New(errs.Invalid, files.MsgNoFile))
		return
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if tooLarge(err) {
				a.fail(w, r, errs.New(errs.TooLarge, files.MsgFileTooLarge))
				return
			}
			a.fail(w, r, errs.New(errs.Invalid, files.MsgNoFile))
			return
		}
		if part.FileName() == "" {
			// A text field: the original accepts and ignores them.
			if n, _ := io.CopyN(io.Discard, part, maxFormField+1); n > maxFormField {
				a.fail(w, r, errs.New(errs.TooLarge, "Request body too large."))
				return
			}
			continue
		}
		if part.FormName() != "file" {
			a.fail(w, r, errs.New(errs.Invalid, "Unexpected field"))
			return
		}
		ct := part.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		f, err := a.Files.Upload(r.Context(), caller(r), part.FileName(), ct, -1, part)
		if err != nil {
			if tooLarge(err) {
				err = errs.New(errs.TooLarge, files.MsgFileTooLarge)
			}
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, struct {
			Message  string `json:"message"`
			URL      string `json:"url"`
			Path     string `json:"path"`
			Provider string `json:"provider"`
		}{"File uploaded successfully", a.fileURL(f.Path), f.Path, "internal"})
		return
	}
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (a *API) uploadRequest(w http.ResponseWriter, r *http.Request) {
	body := bodyFrom(r)
	name, _ := field(body, "filename").(string)
	ct, _ := field(body, "contentType").(string)
	t, err := a.Files.RequestUpload(r.Context(), caller(r), name, ct, sizeOf(field(body, "size")))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SignedURL string `json:"signedUrl"`
		Token     string `json:"token"`
		FilePath  string `json:"filePath"`
	}{a.PublicURL + "/api/storage/upload/" + t.Token, t.Token, t.Path})
}

// putUpload is the signed upload URL: no key, raw bytes, CORS as every
// /api route (contract/REST.md §1.3, §6.3).
func (a *API) putUpload(w http.ResponseWriter, r *http.Request) {
	f, err := a.Files.PutUpload(r.Context(), chi.URLParam(r, "token"), r.Header.Get("Content-Type"), r.ContentLength, r.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Message string `json:"message"`
		Path    string `json:"path"`
	}{"Upload received", f.Path})
}

func (a *API) uploadConfirm(w http.ResponseWriter, r *http.Request) {
	body := bodyFrom(r)
	p, _ := field(body, "filePath").(string)
	f, err := a.Files.ConfirmUpload(r.Context(), caller(r), p, sizeOf(field(body, "size")))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Message  string `json:"message"`
		Path     string `json:"path"`
		Provider string `json:"provider"`
		URL      string `json:"url"`
	}{"Upload confirmed", f.Path, "internal", a.fileURL(f.Path)})
}

func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) {
	p, _ := field(bodyFrom(r), "path").(string)
	// The public link names the file too.
	deleted, err := a.Files.Delete(r.Context(), caller(r), files.PathOf(a.PublicURL, p))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Message string `json:"message"`
		Deleted bool   `json:"deleted"`
	}{"File deleted successfully", deleted})
}

func (a *API) deleteAllFiles(w http.ResponseWriter, r *http.Request) {
	n, err := a.Files.DeleteAll(r.Context(), caller(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success  bool   `json:"success"`
		Deleted  int64  `json:"deleted"`
		Provider string `json:"provider"`
	}{true, n, "internal"})
}

// serveFile streams a public file: ranges (206), ETag and If-None-Match
// (304), Last-Modified, a year of caching (paths are never reused), the
// stored type with nosniff, and types a browser would run (HTML, SVG, XML,
// script) only as attachments, so a public link runs nothing on this
// origin.
func (a *API) serveFile(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/files/")
	pidHex, _, _ := strings.Cut(p, "/")
	pid, err := bson.ObjectIDFromHex(pidHex)
	if err != nil {
		a.fail(w, r, errs.New(errs.NotFound, files.MsgFileNotFound))
		return
	}
	d, err := a.Files.Open(r.Context(), pid, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer d.Content.Close()
	f := d.File
	ct, disposition := servedType(f.ContentType)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", f.ETag)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.Header.Get("Origin") != "" {
		h.Set("Access-Control-Expose-Headers", "Content-Range, Content-Disposition, ETag, Accept-Ranges, Content-Length, Last-Modified")
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}); v != "" {
		h.Set("Content-Disposition", v)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	http.ServeContent(w, r, "", f.UploadedAt, d.Content)
}

// servedType returns the Content-Type to serve a stored type with, and
// "attachment" for types a browser would execute or render as a document
// with script, and for opaque bytes (else "inline").
func servedType(stored string) (contentType, disposition string) {
	mt, params, err := mime.ParseMediaType(stored)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream", "attachment"
	}
	contentType = mime.FormatMediaType(mt, params)
	if contentType == "" {
		contentType = mt
	}
	if scriptable(mt) || mt == "application/octet-stream" {
		return contentType, "attachment"
	}
	return contentType, "inline"
}

// scriptable reports whether a browser may run script in a response of
// media type mt (lower case, no parameters): HTML, SVG and every XML type
// (XSLT, XHTML), JavaScript and other script types, and a few legacy
// active types.
func scriptable(mt string) bool {
	switch mt {
	case "application/x-shockwave-flash", "multipart/x-mixed-replace", "text/xsl", "text/cache-manifest":
		return true
	}
	return strings.Contains(mt, "html") || strings.Contains(mt, "xml") || strings.Contains(mt, "svg") ||
		strings.Contains(mt, "script")
}
