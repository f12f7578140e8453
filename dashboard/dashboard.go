// Package dashboard serves the admin web app: plain HTML, CSS and ES
// modules embedded in the binary (no build step, no CDN), under
// /dashboard/. The app talks only to the admin GraphQL API on the same
// origin (/admin/graphql, websockets included).
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path the app lives under.
const Prefix = "/dashboard/"

// CSP is the Content-Security-Policy of every dashboard response: the app
// loads nothing from anywhere but this server, runs no inline script or
// style, and talks to the admin API over fetch and websockets.
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// contentTypes by extension; not taken from the system's MIME tables, which
// differ between machines (some map .js to text/plain).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

type handler struct {
	assets map[string]*asset // by path below static/, e.g. "app.js"
}

// Handler serves the dashboard. Mount it for /dashboard and everything
// below: /dashboard redirects to /dashboard/; a path naming an embedded
// file serves it; any other path without a file extension serves
// index.html, so that the app's own routes (/dashboard/p/<id>/data/posts)
// survive a reload. Only GET and HEAD are allowed.
func Handler() http.Handler {
	h := &handler{assets: map[string]*asset{}}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		h.assets[p] = &asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	if h.assets["index.html"] == nil {
		panic("dashboard: static/index.html is missing")
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")

	p := r.URL.Path
	if p == strings.TrimSuffix(Prefix, "/") {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(p, Prefix) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	rel := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(p, Prefix)), "/")
	a := h.assets[rel]
	if a == nil || rel == "index.html" {
		if path.Ext(rel) != "" && rel != "index.html" {
			// A missing asset: a 404, not the app's HTML under a .js name.
			http.NotFound(w, r)
			return
		}
		a = h.assets["index.html"]
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	// No hashed file names (no build step): let the browser revalidate
	// every time; an unchanged file costs a 304.
	hdr.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
