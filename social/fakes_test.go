package social

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/urbackend/urbackend/errs"
)

// clock is an injected, manually advanced time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rsaKeys are generated once per test binary: 2048-bit generation is slow
// under -race.
var rsaKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

func testKey() *rsa.PrivateKey  { return rsaKeys()[0] }
func otherKey() *rsa.PrivateKey { return rsaKeys()[1] }

// jwkOf is the JWKS entry of k's public key.
func jwkOf(kid string, k *rsa.PrivateKey) jwk {
	return jwk{
		Kid: kid, Kty: "RSA", Alg: "RS256", Use: "sig",
		N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fakeGitHub serves GitHub's token endpoint at /login/oauth/access_token
// and its API under /api (as GitHub Enterprise does under /api/v3).
type fakeGitHub struct {
	srv *httptest.Server

	mu           sync.Mutex
	tokenStatus  int
	tokenBody    any
	tokenRaw     string // sent as text/html instead of tokenBody when set
	userStatus   int
	userBody     any
	emailsStatus int
	emailsBody   any

	tokenForm    url.Values
	tokenHeader  http.Header
	userHeader   http.Header
	emailsHeader http.Header
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	g := &fakeGitHub{
		tokenStatus: 200,
		tokenBody:   map[string]any{"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"},
		userStatus:  200,
		userBody: map[string]any{
			"id": 583231, "login": "octocat", "name": "The Octocat",
			"email": "octocat@public.example", "avatar_url": "https://avatars.example/u/583231",
		},
		emailsStatus: 200,
		emailsBody: []map[string]any{
			{"email": "secondary@example.com", "primary": false, "verified": true},
			{"email": "octocat@example.com", "primary": true, "verified": true},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.tokenForm, g.tokenHeader = r.PostForm, r.Header.Clone()
		if g.tokenRaw != "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(g.tokenStatus)
			w.Write([]byte(g.tokenRaw))
			return
		}
		writeJSON(w, g.tokenStatus, g.tokenBody)
	})
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.userHeader = r.Header.Clone()
		writeJSON(w, g.userStatus, g.userBody)
	})
	mux.HandleFunc("GET /api/user/emails", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.emailsHeader = r.Header.Clone()
		writeJSON(w, g.emailsStatus, g.emailsBody)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) set(f func(g *fakeGitHub)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

func (g *fakeGitHub) client(t *testing.T, clk *clock) *Client {
	t.Helper()
	return New(Endpoints{GitHubURL: g.srv.URL + "/", GitHubAPIURL: g.srv.URL + "/api"}, g.srv.Client(), clk.Now)
}

// fakeGoogle serves Google's token (/token), userinfo (/userinfo) and
// certs (/certs) endpoints.
type fakeGoogle struct {
	srv *httptest.Server

	mu           sync.Mutex
	tokenStatus  int
	tokenBody    map[string]any // id_token is added from idToken unless empty
	idToken      string
	keys         []jwk
	cacheControl string
	certsStatus  int
	userinfo     map[string]any

	tokenForm      url.Values
	certsHits      int
	userinfoHits   int
	userinfoHeader http.Header
}

func newFakeGoogle(t *testing.T) *fakeGoogle {
	t.Helper()
	g := &fakeGoogle{
		tokenStatus: 200,
		tokenBody:   map[string]any{"access_token": "ya29.test", "token_type": "Bearer", "expires_in": 3599},
		keys:        []jwk{jwkOf("kid-1", testKey())},
		certsStatus: 200,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.tokenForm = r.PostForm
		body := map[string]any{}
		for k, v := range g.tokenBody {
			body[k] = v
		}
		if g.idToken != "" && g.tokenStatus == 200 {
			body["id_token"] = g.idToken
		}
		writeJSON(w, g.tokenStatus, body)
	})
	mux.HandleFunc("GET /certs", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.certsHits++
		if g.cacheControl != "" {
			w.Header().Set("Cache-Control", g.cacheControl)
		}
		writeJSON(w, g.certsStatus, map[string]any{"keys": g.keys})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.userinfoHits++
		g.userinfoHeader = r.Header.Clone()
		if g.userinfo == nil {
			writeJSON(w, 401, map[string]any{"error": "invalid_token"})
			return
		}
		writeJSON(w, 200, g.userinfo)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGoogle) set(f func(g *fakeGoogle)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

func (g *fakeGoogle) hits() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.certsHits
}

func (g *fakeGoogle) endpoints() Endpoints {
	return Endpoints{
		GoogleAuthURL:     g.srv.URL + "/auth",
		GoogleTokenURL:    g.srv.URL + "/token",
		GoogleUserinfoURL: g.srv.URL + "/userinfo",
		GoogleCertsURL:    g.srv.URL + "/certs",
	}
}

func (g *fakeGoogle) client(t *testing.T, clk *clock) *Client {
	t.Helper()
	return New(g.endpoints(), g.srv.Client(), clk.Now)
}

const googleClientID = "123-abc.apps.googleusercontent.com"

// googleClaims returns valid id_token claims at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":            "https://accounts.google.com",
		"aud":            googleClientID,
		"sub":            "110169484474386276334",
		"email":          "jane.doe@gmail.com",
		"email_verified": true,
		"name":           "Jane Doe",
		"picture":        "https://lh3.example/photo.jpg",
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
}

// signRS256 signs claims with key under kid ("" for no kid header).
func signRS256(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantErr checks that err is an *errs.Error of kind with client message msg.
func wantErr(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", msg)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *errs.Error", err, err)
	}
	if got := errs.KindOf(err); got != kind {
		t.Errorf("got kind %v, want %v (err %v)", got, kind, err)
	}
	if got := errs.ClientMessage(err); got != msg {
		t.Errorf("got message %q, want %q (err %v)", got, msg, err)
	}
}
