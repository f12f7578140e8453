package server_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/urbackend/urbackend/server"
)

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.RateLimitPerMinute = 3 })
	for i := 1; i <= 3; i++ {
		r := e.rest(http.MethodGet, "/api/health", restReq{})
		if r.Status != 200 || r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(3-i) {
			t.Fatalf("request %d: got %d, limit %q remaining %q", i, r.Status, r.Header.Get("RateLimit-Limit"), r.Header.Get("RateLimit-Remaining"))
		}
	}
	r := e.rest(http.MethodGet, "/api/data/anything", restReq{Key: "pk_live_x"})
	r.wantError(t, 429, "Too many requests, please try again later.")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	// The admin API is not behind the /api limiter.
	e.login()
}

func TestRateLimitsCoverPublicFileLinks(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.RateLimitPerMinute = 2 })
	for i := 1; i <= 2; i++ {
		if r := e.rest(http.MethodGet, "/files/000000000000000000000000/x_y.txt", restReq{}); r.Status != 404 {
			t.Fatalf("request %d: got %d %s, want 404", i, r.Status, r.Body)
		}
	}
	e.rest(http.MethodGet, "/files/000000000000000000000000/x_y.txt", restReq{}).wantError(t, 429, "Too many requests, please try again later.")
}
