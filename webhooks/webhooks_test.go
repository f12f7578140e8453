package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/events"
)

func TestBlocked(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.31.255.255", "private"},
		{"192.168.0.1", "private"},
		{"fd12::1", "private"},
		{"100.64.0.1", "private"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"100.100.100.200", "metadata"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"239.1.2.3", "multicast"},
		{"255.255.255.255", "reserved"},
		{"64:ff9b::a00:1", "private"}, // NAT64 of 10.0.0.1
		{"2002:7f00:1::", "loopback"}, // 6to4 of 127.0.0.1
		{"64:ff9b::5db8:d70e", ""},    // NAT64 of a public address
		{"93.184.215.14", ""},         // public
		{"2606:2800:21f:cb07::1", ""}, // public
		{"172.32.0.1", ""},            // just outside 172.16/12
		{"100.128.0.1", ""},           // just outside 100.64/10
		{"8.8.8.8", ""},
	} {
		if got := blocked(net.ParseIP(tc.ip)); got != tc.want {
			t.Errorf("blocked(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

// TestGuardRefusesAtDial checks the guard after DNS: the delivery client
// refuses a loopback peer even though the URL was never validated.
func TestGuardRefusesAtDial(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	for _, host := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		_, err := newClient(false).Post(host, "application/json", strings.NewReader("{}"))
		var re *RefusedError
		if !errors.As(err, &re) || re.Why != "loopback" {
			t.Errorf("POST %s: got %v, want a loopback refusal", host, err)
		}
	}
	if called {
		t.Error("the guarded client reached the loopback server")
	}
	res, err := newClient(true).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	res.Body.Close()
	if !called {
		t.Error("the unguarded client did not reach the server")
	}
}

func TestValidateEvents(t *testing.T) {
	got, err := ValidateEvents([]string{" posts.insert ", "posts.insert", "*.delete", "blog_posts.*", "*.*", "users.insert"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "posts.insert *.delete blog_posts.* *.* users.insert"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	for _, bad := range [][]string{nil, {"posts"}, {"posts.upsert"}, {".insert"}, {"Users.insert"}, {"a$b.insert"}, {"posts.insert.x"}} {
		if _, err := ValidateEvents(bad); err == nil {
			t.Errorf("ValidateEvents(%q) accepted", bad)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		names    []string
		coll, op string
		want     bool
	}{
		{[]string{"posts.insert"}, "posts", "insert", true},
		{[]string{"posts.insert"}, "posts", "update", false},
		{[]string{"posts.insert"}, "post", "insert", false},
		{[]string{"posts.*"}, "posts", "delete", true},
		{[]string{"*.delete"}, "comments", "delete", true},
		{[]string{"*.delete", "x.insert"}, "comments", "insert", false},
		{[]string{"*.*"}, "any", "update", true},
	} {
		if got := matches(tc.names, tc.coll, tc.op); got != tc.want {
			t.Errorf("matches(%v, %s.%s) = %v, want %v", tc.names, tc.coll, tc.op, got, tc.want)
		}
	}
}

func TestBodyAndSignature(t *testing.T) {
	pid, id := bson.NewObjectID(), bson.NewObjectID()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ev := events.Event{Seq: 7, ProjectID: pid, Collection: "posts", Op: "insert", ID: id, At: at,
		Doc: bson.D{{Key: "_id", Value: id}, {Key: "title", Value: "Hello <you> & me"}, {Key: "n", Value: int32(3)}}}
	b, err := eventBody(&ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"posts.insert","timestamp":"2026-05-01T10:00:00.000Z","projectId":"` + pid.Hex() + `","collection":"posts","action":"insert","documentId":"` + id.Hex() + `","data":{"_id":"` + id.Hex() + `","title":"Hello <you> & me","n":3}}`
	if string(b) != want {
		t.Errorf("body\n got %s\nwant %s", b, want)
	}
	m := hmac.New(sha256.New, []byte("whsec_x"))
	m.Write(b)
	if got, want := signature("whsec_x", b), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	p, err := pingBody(pid, "test-1", at)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"event":"test.ping","timestamp":"2026-05-01T10:00:00.000Z","projectId":"` + pid.Hex() + `","collection":"test","action":"ping","documentId":"test-1","data":{"message":"This is a test webhook from urBackend","triggeredBy":"dashboard"}}`; string(p) != want {
		t.Errorf("ping\n got %s\nwant %s", p, want)
	}
}

func TestValidateURL(t *testing.T) {
	strict := &Service{opts: Options{}.withDefaults()}
	open := &Service{opts: Options{AllowPrivate: true}.withDefaults()}
	ctx := context.Background()
	for _, tc := range []struct {
		s    *Service
		url  string
		want string // "" accepted, else part of the error
	}{
		{strict, "https://93.184.215.14/h", ""},
		{strict, "https://127.0.0.1/h", "not a public address (loopback)"},
		{strict, "http://93.184.215.14/h", "must use https"},
		{strict, "ftp://93.184.215.14/h", "absolute http(s)"},
		{strict, "/relative", "absolute http(s)"},
		{strict, "", "required"},
		{open, "http://127.0.0.1:9/h", ""},
		{open, "http://localhost/h", ""},
	} {
		_, err := tc.s.ValidateURL(ctx, tc.url)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.url, err, tc.want)
		}
	}
}

func TestAdvanceWaitsForGaps(t *testing.T) {
	now := time.Unix(1000, 0)
	s := &Service{opts: Options{GapWait: time.Second, Now: func() time.Time { return now }}.withDefaults()}
	tl := &tail{cursor: 4, seen: map[int64]bool{5: true, 6: true, 8: true, 9: true}}
	s.advance(tl)
	if tl.cursor != 6 || len(tl.seen) != 2 {
		t.Fatalf("after 5,6: cursor %d seen %v", tl.cursor, tl.seen)
	}
	now = now.Add(500 * time.Millisecond)
	s.advance(tl)
	if tl.cursor != 6 {
		t.Fatalf("skipped 7 before GapWait: cursor %d", tl.cursor)
	}
	tl.seen[7] = true // it arrived
	s.advance(tl)
	if tl.cursor != 9 || len(tl.seen) != 0 {
		t.Fatalf("cursor %d seen %v, want 9 and none", tl.cursor, tl.seen)
	}
	tl.seen[11] = true
	s.advance(tl)
	now = now.Add(2 * time.Second)
	s.advance(tl)
	if tl.cursor != 11 {
		t.Fatalf("10 was not skipped after GapWait: cursor %d", tl.cursor)
	}
}
