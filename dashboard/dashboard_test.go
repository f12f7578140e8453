package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/urbackend/urbackend/dashboard"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const wantCSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'"

func TestServesTheApp(t *testing.T) {
	h := dashboard.Handler()
	tests := []struct {
		path, wantType, wantBody string
	}{
		{"/dashboard/", "text/html; charset=utf-8", `<script type="module" src="/dashboard/app.js">`},
		{"/dashboard/index.html", "text/html; charset=utf-8", `<div id="app"`},
		// Client-side routes get the app, so a reload keeps the page.
		{"/dashboard/p/0123456789abcdef01234567/data/posts", "text/html; charset=utf-8", `<div id="app"`},
		{"/dashboard/login", "text/html; charset=utf-8", `<div id="app"`},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", "import "},
		{"/dashboard/style.css", "text/css; charset=utf-8", "{"},
		{"/dashboard/js/api.js", "text/javascript; charset=utf-8", "export "},
		{"/dashboard/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(t, h, http.MethodGet, tt.path, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if got := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(got, wantCSP) {
				t.Errorf("Content-Security-Policy: got %q, want it to start with %q", got, wantCSP)
			}
			if got := w.Header().Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options: got %q, want DENY", got)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
		})
	}
}

func TestRedirectsAndRefusals(t *testing.T) {
	h := dashboard.Handler()
	tests := []struct {
		method, path string
		wantStatus   int
		wantLocation string
	}{
		{http.MethodGet, "/dashboard", http.StatusMovedPermanently, "/dashboard/"},
		{http.MethodGet, "/dashboard?x=1", http.StatusMovedPermanently, "/dashboard/?x=1"},
		{http.MethodGet, "/dashboard/missing.js", http.StatusNotFound, ""},
		{http.MethodGet, "/dashboardx", http.StatusNotFound, ""},
		{http.MethodPost, "/dashboard/", http.StatusMethodNotAllowed, ""},
		{http.MethodHead, "/dashboard/app.js", http.StatusOK, ""},
		// Dot segments cannot leave the embedded directory.
		{http.MethodGet, "/dashboard/../dashboard.go", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := get(t, h, tt.method, tt.path, nil)
			if w.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if got := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(got, wantCSP) {
				t.Errorf("Content-Security-Policy: got %q", got)
			}
		})
	}
}

func TestRevalidation(t *testing.T) {
	h := dashboard.Handler()
	w := get(t, h, http.MethodGet, "/dashboard/app.js", nil)
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, w.Header().Get("Cache-Control"))
	}
	w = get(t, h, http.MethodGet, "/dashboard/app.js", map[string]string{"If-None-Match": etag})
	if w.Code != http.StatusNotModified {
		t.Fatalf("with If-None-Match: got %d, want 304", w.Code)
	}
}
