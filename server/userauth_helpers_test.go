package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/mail/smtptest"
	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

// Helpers of the end-user auth tests (userauth_*_test.go). Names start
// with ua so that they do not clash with other tests of this package.

const (
	uaMsgAuthDisabled  = "Please enable Auth in the urBackend dashboard for this project to use this endpoint."
	uaMsgSignupsClosed = "Public signups are disabled for this project."
	uaMsgVerifyFirst   = "Please verify your email before logging in."
	uaMsgBadLogin      = "Invalid email or password"
	uaMsgTooManyLogins = "Too many failed login attempts. Please try again later."
	uaMsgBadOTP        = "Invalid or expired OTP"
	uaMsgUsedRefresh   = "Refresh token is invalid or already used"
	uaMsgForeign       = "Refresh token does not belong to this project"
	uaMsgRegistered    = "User registered successfully. Please verify your email."
	uaMsgResetSent     = "If that email exists, a reset code has been sent."
)

var (
	uaRefreshRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[0-9a-f]{64}$`)
	uaHexID     = regexp.MustCompile(`^[0-9a-f]{24}$`)
	uaCodeRE    = regexp.MustCompile(`\b([0-9]{6})\b`)
)

// uaClock is the server's clock; tests move it forward.
type uaClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *uaClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *uaClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// uaEnv is a server with an SMTP test server, an injected clock, a
// logged-in admin and one project with auth enabled (the default).
type uaEnv struct {
	*env
	clock *uaClock
	smtp  *smtptest.Server
	tok   string
	p     project
	seen  int // mails already returned by nextMail

	mu      sync.Mutex
	secrets []string // strings no response body or log line may contain
	codes   []string // e-mailed codes: no body or log line may hold them as a number
	logOnly []string // strings no log line may contain
}

func uaNew(t *testing.T, opts ...func(*server.Config)) *uaEnv {
	t.Helper()
	smtp := smtptest.Start(t)
	clock := &uaClock{t: time.Now().UTC().Truncate(time.Second)}
	all := append([]func(*server.Config){func(c *server.Config) {
		c.SMTPURL = smtp.URL()
		c.Now = clock.Now
		c.UserBcryptCost = 4
	}}, opts...)
	e := newEnv(t, all...)
	u := &uaEnv{env: e, clock: clock, smtp: smtp}
	u.tok = e.login()
	u.p = e.createProject(u.tok, map[string]any{"name": "p"})
	// Registered after newEnv's cleanups, so it runs first, while the
	// server still runs.
	t.Cleanup(func() { u.checkNoSecrets(t) })
	return u
}

// settings applies updateAuthSettings to the project.
func (u *uaEnv) settings(t *testing.T, p project, in map[string]any) {
	t.Helper()
	u.gql(u.tok, `mutation($p:ID!,$in:AuthSettingsInput!){updateAuthSettings(projectId:$p,input:$in){enabled}}`,
		map[string]any{"p": p.ID, "in": in}).ok(t)
}

// call sends a userAuth request with the project's publishable key.
func (u *uaEnv) call(method, route string, rq restReq) restResult {
	u.t.Helper()
	if rq.Key == "" {
		rq.Key = u.p.PublishableKey
	}
	return u.rest(method, "/api/userAuth"+route, rq)
}

// post is call for a POST with a body.
func (u *uaEnv) post(route string, body any) restResult {
	u.t.Helper()
	return u.call("POST", route, restReq{Body: body})
}

// uaTokens are the tokens of one issuance.
type uaTokens struct {
	Access, Refresh, UserID string
}

func (u *uaEnv) addSecret(s ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.secrets = append(u.secrets, s...)
}

func (u *uaEnv) addLogSecret(s ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.logOnly = append(u.logOnly, s...)
}

// signup registers a user in header mode and checks the 201 answer.
func (u *uaEnv) signup(t *testing.T, email, password string, extra map[string]any) uaTokens {
	t.Helper()
	body := map[string]any{"email": email, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	u.addLogSecret(password)
	r := u.call("POST", "/signup", restReq{Body: body, Headers: map[string]string{"x-refresh-token-mode": "header"}})
	if r.Status != 201 {
		t.Fatalf("signup %s: got %d %s, want 201", email, r.Status, r.Body)
	}
	b := r.json(t)
	if b["message"] != uaMsgRegistered {
		t.Fatalf("signup message: got %v, want %q", b["message"], uaMsgRegistered)
	}
	tk := uaTokens{Access: str(b, "accessToken"), Refresh: str(b, "refreshToken"), UserID: str(b, "userId")}
	u.addLogSecret(tk.Refresh)
	return tk
}

// login logs in in header mode and checks the 200 answer.
func (u *uaEnv) login(t *testing.T, email, password string) uaTokens {
	t.Helper()
	r := u.loginReq(email, password, true)
	if r.Status != 200 {
		t.Fatalf("login %s: got %d %s, want 200", email, r.Status, r.Body)
	}
	b := r.json(t)
	tk := uaTokens{Access: str(b, "accessToken"), Refresh: str(b, "refreshToken")}
	if tk.Access == "" || !uaRefreshRE.MatchString(tk.Refresh) {
		t.Fatalf("login %s: got %s, want an access and a refresh token", email, r.Body)
	}
	u.addLogSecret(tk.Refresh)
	return tk
}

func (u *uaEnv) loginReq(email, password string, headerMode bool) restResult {
	u.t.Helper()
	rq := restReq{Body: map[string]any{"email": email, "password": password}}
	if headerMode {
		rq.Headers = map[string]string{"x-refresh-token-mode": "header"}
	}
	return u.call("POST", "/login", rq)
}

// refresh presents a refresh token in the x-refresh-token header.
func (u *uaEnv) refresh(raw string) restResult {
	u.t.Helper()
	return u.call("POST", "/refresh-token", restReq{Headers: map[string]string{"x-refresh-token": raw}})
}

// refreshOK refreshes and returns the rotated tokens.
func (u *uaEnv) refreshOK(t *testing.T, raw string) uaTokens {
	t.Helper()
	r := u.refresh(raw)
	if r.Status != 200 {
		t.Fatalf("refresh: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	tk := uaTokens{Access: str(b, "accessToken"), Refresh: str(b, "refreshToken")}
	if !uaRefreshRE.MatchString(tk.Refresh) || tk.Refresh == raw {
		t.Fatalf("refresh: got refresh token %q, want a new one", tk.Refresh)
	}
	u.addLogSecret(tk.Refresh)
	return tk
}

// me calls GET /me with an access token.
func (u *uaEnv) me(token string) restResult {
	u.t.Helper()
	return u.call("GET", "/me", restReq{Token: token})
}

// meOK returns the signed-in user's document.
func (u *uaEnv) meOK(t *testing.T, token string) map[string]any {
	t.Helper()
	r := u.me(token)
	if r.Status != 200 {
		t.Fatalf("me: got %d %s, want 200", r.Status, r.Body)
	}
	return r.json(t)
}

// nextMail waits for the next e-mail the SMTP test server receives.
func (u *uaEnv) nextMail(t *testing.T) smtptest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := u.smtp.Wait(ctx, u.seen+1)
	if err != nil {
		t.Fatalf("waiting for mail %d: %v (got %d)", u.seen+1, err, len(msgs))
	}
	u.seen++
	return msgs[u.seen-1]
}

// noMail checks that no e-mail arrived since the last nextMail. Auth
// e-mails are sent before the response, so none can still be on its way.
func (u *uaEnv) noMail(t *testing.T) {
	t.Helper()
	if msgs := u.smtp.Messages(); len(msgs) != u.seen {
		t.Fatalf("got %d new mails (last to %v, %q), want none", len(msgs)-u.seen, msgs[len(msgs)-1].RcptTo, msgs[len(msgs)-1].Subject)
	}
}

// code waits for the next e-mail, checks its recipient and subject and
// returns the 6-digit code in its text.
func (u *uaEnv) code(t *testing.T, to, subject string) string {
	t.Helper()
	m := u.nextMail(t)
	if !slices.Equal(m.RcptTo, []string{to}) {
		t.Fatalf("mail recipients: got %v, want [%s]", m.RcptTo, to)
	}
	if m.Subject != subject {
		t.Fatalf("mail subject: got %q, want %q", m.Subject, subject)
	}
	found := uaCodeRE.FindAllStringSubmatch(m.Text, -1)
	if len(found) != 1 {
		t.Fatalf("mail text %q: got %d six-digit codes, want 1", m.Text, len(found))
	}
	c := found[0][1]
	if c < "100000" {
		t.Fatalf("code %s: want 100000-999999", c)
	}
	u.mu.Lock()
	u.codes = append(u.codes, c)
	u.mu.Unlock()
	return c
}

// users is the project's users collection, read directly.
func (u *uaEnv) users(t *testing.T) *mongo.Collection {
	t.Helper()
	return testdb.Client(t).Database(projectDB(t, u.p.ID)).Collection("users")
}

// storedUser reads a user document straight from the database.
func (u *uaEnv) storedUser(t *testing.T, email string) bson.M {
	t.Helper()
	var m bson.M
	if err := u.users(t).FindOne(context.Background(), bson.D{{Key: "email", Value: email}}).Decode(&m); err != nil {
		t.Fatalf("load user %s: %v", email, err)
	}
	if h, _ := m["password"].(string); h != "" {
		u.addSecret(h)
	}
	return m
}

// checkNoSecrets fails when a response body or a log line holds a
// password hash or an e-mailed code, or a log line a password or refresh
// token.
func (u *uaEnv) checkNoSecrets(t *testing.T) {
	t.Helper()
	u.env.mu.Lock()
	bodies := append([]string(nil), u.env.bodies...)
	u.env.mu.Unlock()
	logs := u.logs.String()
	u.mu.Lock()
	secrets := append([]string(nil), u.secrets...)
	logOnly := append([]string(nil), u.logOnly...)
	var codeREs []*regexp.Regexp
	for _, c := range u.codes {
		codeREs = append(codeREs, regexp.MustCompile(`(^|[^0-9A-Za-z])`+c+`($|[^0-9A-Za-z])`))
	}
	u.mu.Unlock()
	hashes := []string{"$2a$", "$2b$", "$2y$"}
	check := func(what, text string, plain []string) {
		for _, s := range plain {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s %q contains secret %q", what, text, s)
			}
		}
		for _, re := range codeREs {
			if re.MatchString(text) {
				t.Errorf("%s %q contains an e-mailed code (%s)", what, text, re)
			}
		}
	}
	for _, b := range bodies {
		check("response body", b, append(hashes, secrets...))
	}
	for _, line := range strings.Split(logs, "\n") {
		check("log line", line, append(hashes, append(secrets, logOnly...)...))
	}
}

// uaCookie returns the refreshToken Set-Cookie of a response, or nil.
func uaCookie(t *testing.T, r restResult) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("parse Set-Cookie %q: %v", line, err)
		}
		if c.Name == "refreshToken" {
			if found != nil {
				t.Fatalf("got two refreshToken cookies: %v", r.Header.Values("Set-Cookie"))
			}
			found = c
		}
	}
	return found
}

// uaWantCookieSet checks the refresh cookie of an issuance (§5.2).
func (u *uaEnv) wantCookieSet(t *testing.T, r restResult, raw string) {
	t.Helper()
	c := uaCookie(t, r)
	if c == nil {
		t.Fatalf("got no refreshToken cookie in %v, want one", r.Header.Values("Set-Cookie"))
	}
	if c.Value != raw {
		t.Errorf("cookie value: got %q, want %q", c.Value, raw)
	}
	if c.Path != "/" || c.MaxAge != 604800 || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode {
		t.Errorf("cookie attributes: got %q, want Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=None", c.Raw)
	}
	if want := u.clock.Now().Add(7 * 24 * time.Hour); !c.Expires.Equal(want) {
		t.Errorf("cookie Expires: got %v, want %v", c.Expires, want)
	}
}

// uaWantCookieCleared checks that a response clears the refresh cookie.
func uaWantCookieCleared(t *testing.T, r restResult) {
	t.Helper()
	c := uaCookie(t, r)
	if c == nil {
		t.Fatalf("got no refreshToken cookie in %v, want it cleared", r.Header.Values("Set-Cookie"))
	}
	if c.Value != "" || c.MaxAge >= 0 || c.Path != "/" || !c.HttpOnly || !c.Expires.Equal(time.Unix(0, 0)) {
		t.Errorf("cleared cookie: got %q, want an empty value, Path=/, Max-Age=0, Expires in 1970, HttpOnly", c.Raw)
	}
}

// uaWantNoCookie checks that a response leaves the refresh cookie alone.
func uaWantNoCookie(t *testing.T, r restResult) {
	t.Helper()
	if c := uaCookie(t, r); c != nil {
		t.Errorf("got Set-Cookie %q, want none", c.Raw)
	}
}

// uaWantBody checks a JSON body exactly.
func uaWantBody(t *testing.T, r restResult, status int, want map[string]any) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	raw, _ := json.Marshal(want)
	_ = json.Unmarshal(raw, &exp)
	if r.Status != status || !reflect.DeepEqual(got, exp) {
		t.Fatalf("got %d %s\nwant %d %s", r.Status, r.Body, status, raw)
	}
}

// uaKeys returns the sorted keys of a JSON object.
func uaKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// uaWantKeys checks the exact key set of a JSON object.
func uaWantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := uaKeys(m); !slices.Equal(got, want) {
		t.Errorf("%s keys: got %v, want %v", what, got, want)
	}
}

// uaClaims decodes the payload of a JWT, after checking its header.
func uaClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q: got %d parts, want 3", jwt, len(parts))
	}
	var hdr, claims map[string]any
	for i, dst := range []*map[string]any{&hdr, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	if hdr["alg"] != "HS256" {
		t.Errorf("token alg: got %v, want HS256", hdr["alg"])
	}
	return claims
}

func uaRepeat(s string, n int) string { return strings.Repeat(s, n) }
