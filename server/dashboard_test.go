package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The dashboard is mounted: /dashboard redirects, client routes get the
// app, and its assets keep their content types and security headers.
func TestDashboardMounted(t *testing.T) {
	e := newEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantHeader string
	}{
		{"/dashboard", http.StatusMovedPermanently, "", "/dashboard/"},
		{"/dashboard/", http.StatusOK, "text/html; charset=utf-8", ""},
		{"/dashboard/p/0123456789abcdef01234567/analytics", http.StatusOK, "text/html; charset=utf-8", ""},
		{"/dashboard/app.js", http.StatusOK, "text/javascript; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := client.Get(e.ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantType != "" && res.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", res.Header.Get("Content-Type"), tt.wantType)
			}
			if tt.wantHeader != "" && res.Header.Get("Location") != tt.wantHeader {
				t.Errorf("Location: got %q, want %q", res.Header.Get("Location"), tt.wantHeader)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy: got %q", csp)
			}
		})
	}
}
