package social

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/urbackend/urbackend/errs"
)

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// verify checks a fresh id_token signed with key under kid at clk's time.
func verify(t *testing.T, c *Client, clk *clock, kid string) error {
	t.Helper()
	tok := signRS256(t, testKey(), kid, validClaims(clk.Now()))
	_, err := c.verifyIDToken(context.Background(), googleClientID, tok)
	return err
}

func TestJWKSCacheMaxAge(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	g.set(func(g *fakeGoogle) { g.cacheControl = "public, max-age=300, must-revalidate, no-transform" })
	c := g.client(t, clk)

	for i := range 3 {
		if err := verify(t, c, clk, "kid-1"); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	if got := g.hits(); got != 1 {
		t.Fatalf("got %d certs requests after 3 verifications, want 1", got)
	}
	clk.Advance(299 * time.Second)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	if got := g.hits(); got != 1 {
		t.Fatalf("got %d certs requests within max-age, want 1", got)
	}
	clk.Advance(2 * time.Second)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	if got := g.hits(); got != 2 {
		t.Fatalf("got %d certs requests after max-age, want 2", got)
	}
}

func TestJWKSCacheDefaultTTL(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t) // no Cache-Control
	c := g.client(t, clk)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Minute)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	if got := g.hits(); got != 1 {
		t.Fatalf("got %d certs requests within an hour, want 1", got)
	}
	clk.Advance(2 * time.Minute)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	if got := g.hits(); got != 2 {
		t.Fatalf("got %d certs requests after an hour, want 2", got)
	}
}

func TestJWKSCacheUnknownKid(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	g.set(func(g *fakeGoogle) { g.cacheControl = "max-age=21600" })
	c := g.client(t, clk)
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}

	// Google rotates: kid-2 appears.
	g.set(func(g *fakeGoogle) { g.keys = append(g.keys, jwkOf("kid-2", testKey())) })

	// Right after a fetch an unknown kid does not hammer the endpoint.
	clk.Advance(10 * time.Second)
	wantErr(t, verify(t, c, clk, "kid-2"), errs.Internal, MsgGoogleSigningKey)
	if got := g.hits(); got != 1 {
		t.Fatalf("got %d certs requests, want 1 (refetch throttled)", got)
	}

	// Later, an unknown kid refreshes the cached set before max-age.
	clk.Advance(2 * time.Minute)
	if err := verify(t, c, clk, "kid-2"); err != nil {
		t.Fatalf("verify with rotated key: %v", err)
	}
	if got := g.hits(); got != 2 {
		t.Fatalf("got %d certs requests, want 2 (refetch on unknown kid)", got)
	}
	if err := verify(t, c, clk, "kid-1"); err != nil {
		t.Fatal(err)
	}
	if got := g.hits(); got != 2 {
		t.Fatalf("got %d certs requests, want 2 (both keys cached)", got)
	}

	// A kid that stays unknown after the refetch fails.
	clk.Advance(2 * time.Minute)
	wantErr(t, verify(t, c, clk, "kid-3"), errs.Internal, MsgGoogleSigningKey)
	if got := g.hits(); got != 3 {
		t.Fatalf("got %d certs requests, want 3", got)
	}
}

func TestJWKSCacheSingleFlight(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	c := g.client(t, clk)
	tok := signRS256(t, testKey(), "kid-1", validClaims(clk.Now()))
	var wg sync.WaitGroup
	errc := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.verifyIDToken(context.Background(), googleClientID, tok)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	if got := g.hits(); got != 1 {
		t.Errorf("got %d certs requests from 20 concurrent verifications, want 1", got)
	}
}

func TestJWKSCacheContext(t *testing.T) {
	clk := newClock()
	g := newFakeGoogle(t)
	c := g.client(t, clk)
	// Hold the fetch lock as a slow fetch would.
	c.keys.lock <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tok := signRS256(t, testKey(), "kid-1", validClaims(clk.Now()))
	_, err := c.verifyIDToken(ctx, googleClientID, tok)
	wantErr(t, err, errs.Internal, MsgGoogleSigningKey)
	<-c.keys.lock
	if got := g.hits(); got != 0 {
		t.Errorf("got %d certs requests, want 0", got)
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		in     []string
		want   time.Duration
		wantOK bool
	}{
		{nil, 0, false},
		{[]string{"public, max-age=19770, must-revalidate, no-transform"}, 19770 * time.Second, true},
		{[]string{"no-cache", "Max-Age=60"}, time.Minute, true},
		{[]string{`max-age="30"`}, 30 * time.Second, true},
		{[]string{"max-age=0"}, 0, true},
		{[]string{"max-age=-5"}, 0, false},
		{[]string{"max-age=abc"}, 0, false},
		{[]string{"s-maxage=10"}, 0, false},
	}
	for _, tt := range tests {
		got, ok := maxAge(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("maxAge(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
