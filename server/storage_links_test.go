package server_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Public file links: streaming with ranges, validators, caching, types.

func TestStoragePublicLinkHeaders(t *testing.T) {
	s := stNew(t)
	data := stBytes(700 << 10)
	up := s.stUpload("pic.png", "image/png", data)
	link := s.stLocal(up["url"].(string))

	r := s.stRaw("GET", link, nil, nil)
	if r.Status != 200 || !bytes.Equal([]byte(r.Body), data) {
		t.Fatalf("GET: %d, %d bytes", r.Status, len(r.Body))
	}
	h := r.Header
	etag := h.Get("ETag")
	for k, want := range map[string]string{
		"Content-Type":           "image/png",
		"Content-Length":         fmt.Sprint(len(data)),
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "public, max-age=31536000, immutable",
		"Accept-Ranges":          "bytes",
		"Content-Disposition":    `inline; filename=pic.png`,
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Errorf("ETag %q is not a strong validator", etag)
	}
	lm, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil || lm.Sub(s.clock.Now()).Abs() > time.Second {
		t.Errorf("Last-Modified %q (upload at %v): %v", h.Get("Last-Modified"), s.clock.Now(), err)
	}

	// HEAD: the headers, no body.
	hd := s.stRaw("HEAD", link, nil, nil)
	if hd.Status != 200 || hd.Body != "" || hd.Header.Get("ETag") != etag || hd.Header.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Fatalf("HEAD: %d %q %v", hd.Status, hd.Body, hd.Header)
	}

	// Conditional requests.
	if nm := s.stRaw("GET", link, nil, map[string]string{"If-None-Match": etag}); nm.Status != 304 || nm.Body != "" {
		t.Errorf("If-None-Match: %d %q", nm.Status, nm.Body)
	}
	if nm := s.stRaw("GET", link, nil, map[string]string{"If-None-Match": `"other", ` + etag}); nm.Status != 304 {
		t.Errorf("If-None-Match list: %d", nm.Status)
	}
	if nm := s.stRaw("GET", link, nil, map[string]string{"If-None-Match": `"other"`}); nm.Status != 200 {
		t.Errorf("If-None-Match other: %d", nm.Status)
	}
	if ims := s.stRaw("GET", link, nil, map[string]string{"If-Modified-Since": h.Get("Last-Modified")}); ims.Status != 304 {
		t.Errorf("If-Modified-Since: %d", ims.Status)
	}

	// CORS for pages on other origins.
	if c := s.stRaw("GET", link, nil, map[string]string{"Origin": "https://app.example.com"}); c.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(c.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
		t.Errorf("CORS: %v", c.Header)
	}
	pre := s.stRaw("OPTIONS", link, nil, map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range, if-none-match",
	})
	if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Headers") != "range, if-none-match" {
		t.Errorf("preflight: %d %v", pre.Status, pre.Header)
	}
	if c := s.stRaw("GET", link, nil, nil); c.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("CORS without Origin: %v", c.Header)
	}
}

func TestStoragePublicLinkRanges(t *testing.T) {
	s := stNew(t)
	data := stBytes(1 << 20) // five chunks of 255 KiB
	up := s.stUpload("big.bin", stOctetStream, data)
	link := s.stLocal(up["url"].(string))
	n := len(data)
	for _, tc := range []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-9", 0, 9},
		{"bytes=10-19", 10, 19},
		{"bytes=261110-261130", 261110, 261130}, // across a chunk boundary
		{"bytes=800000-", 800000, n - 1},        // from a later chunk
		{"bytes=-100", n - 100, n - 1},          // suffix
		{fmt.Sprintf("bytes=%d-%d", n-1, n+50), n - 1, n - 1},
		{"bytes=0-", 0, n - 1},
	} {
		r := s.stRaw("GET", link, nil, map[string]string{"Range": tc.rng})
		want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
		if r.Status != 206 || r.Header.Get("Content-Range") != want || !bytes.Equal([]byte(r.Body), data[tc.start:tc.end+1]) {
			t.Errorf("Range %s: %d %q (want %q), %d bytes", tc.rng, r.Status, r.Header.Get("Content-Range"), want, len(r.Body))
		}
	}

	// Several ranges, out of order: multipart/byteranges.
	r := s.stRaw("GET", link, nil, map[string]string{"Range": "bytes=900000-900009,0-4"})
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Status != 206 || err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multi-range: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(r.Body), params["boundary"])
	for _, want := range [][]byte{data[900000:900010], data[0:5]} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) {
			t.Errorf("multi-range part: got %x, want %x", got, want)
		}
	}

	// Unsatisfiable.
	if r := s.stRaw("GET", link, nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", n)}); r.Status != 416 {
		t.Errorf("range past the end: %d", r.Status)
	}
	// If-Range with a stale validator: the whole file.
	if r := s.stRaw("GET", link, nil, map[string]string{"Range": "bytes=0-9", "If-Range": `"stale"`}); r.Status != 200 || len(r.Body) != n {
		t.Errorf("If-Range stale: %d, %d bytes", r.Status, len(r.Body))
	}
}

// TestStoragePublicLinkAttachment: types a browser would execute are
// served as downloads, so a public link runs no script on this origin.
func TestStoragePublicLinkAttachment(t *testing.T) {
	s := stNew(t)
	for _, tc := range []struct {
		ct, served string
		attach     bool
	}{
		{"text/html", "text/html", true},
		{"text/html; charset=utf-8", "text/html; charset=utf-8", true},
		{"TEXT/HTML", "text/html", true},
		{"application/xhtml+xml", "application/xhtml+xml", true},
		{"image/svg+xml", "image/svg+xml", true},
		{"text/javascript", "text/javascript", true},
		{"application/javascript", "application/javascript", true},
		{"text/xml", "text/xml", true},
		{"application/xml", "application/xml", true},
		{"application/rss+xml", "application/rss+xml", true},
		{"not a type", stOctetStream, true},
		{"image/png", "image/png", false},
		{"application/pdf", "application/pdf", false},
		{"text/plain", "text/plain", false},
		{"application/json", "application/json", false},
		{"video/mp4", "video/mp4", false},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			up := s.stUpload("page.html", tc.ct, []byte("<script>alert(document.cookie)</script>"))
			r := s.stRaw("GET", s.stLocal(up["url"].(string)), nil, nil)
			if r.Status != 200 {
				t.Fatalf("GET: %d %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); got != tc.served {
				t.Errorf("Content-Type: got %q, want %q", got, tc.served)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			disp, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
			want := "inline"
			if tc.attach {
				want = "attachment"
			}
			if disp != want || params["filename"] != "page.html" {
				t.Errorf("Content-Disposition: got %q, want %s; filename=page.html", r.Header.Get("Content-Disposition"), want)
			}
		})
	}
}

func TestStoragePublicLinkNotFound(t *testing.T) {
	s := stNew(t)
	up := s.stUpload("a.txt", "text/plain", []byte("a"))
	path := up["path"].(string)
	for _, u := range []string{
		"/files/",
		"/files/nothex/x.txt",
		"/files/" + s.p.ID,
		"/files/" + s.p.ID + "/",
		"/files/" + s.p.ID + "/nope.txt",
		"/files/0123456789abcdef01234567/" + strings.TrimPrefix(path, s.p.ID+"/"),
		"/files/" + strings.ToUpper(path[:1]) + path[1:] + "x",
	} {
		s.stRaw("GET", s.ts.URL+u, nil, nil).wantError(t, 404, "File not found.")
	}
	// Unconfirmed uploads are not public.
	signed, p := s.stRequest("b.txt", "text/plain", 1)
	if r := s.stPut(signed, "text/plain", []byte("b")); r.Status != 200 {
		t.Fatal(r.Body)
	}
	s.stRaw("GET", s.ts.URL+"/files/"+p, nil, nil).wantError(t, 404, "File not found.")
	// The name part is URL-escaped in links and found again.
	odd := s.stUpload("a#b?c d&é.txt", "text/plain", []byte("odd"))
	if u := odd["url"].(string); strings.ContainsAny(strings.TrimPrefix(u, stPublicURL), "#? ") {
		t.Errorf("url %q is not escaped", u)
	}
	if r := s.stRaw("GET", s.stLocal(odd["url"].(string)), nil, nil); r.Status != 200 || r.Body != "odd" {
		t.Errorf("odd name: %d %q", r.Status, r.Body)
	}
}
