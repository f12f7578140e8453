package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/social"
)

// End-to-end social sign-in (contract/REST.md §5.4) through the real
// router, against fake GitHub and Google servers reached through the
// configurable endpoints (server.Config.Social).

const (
	socSiteURL      = "https://app.example.test"
	socCallbackURL  = socSiteURL + "/auth/callback"
	socGitHubID     = "gh-client-id-1"
	socGitHubSecret = "gh-oauth-secret-5b9c0e7a"
	socGoogleID     = "123-abc.apps.googleusercontent.com"
	socGoogleSecret = "google-oauth-secret-8f2d41c6"
	socGoogleKID    = "soc-kid-1"
)

// socRedirectURI is the provider redirect URI the server registers: its
// PublicURL (newEnv: https://api.example.test) plus the callback path.
func socRedirectURI(provider string) string {
	return "https://api.example.test/api/userAuth/social/" + provider + "/callback"
}

var (
	socRTCode  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	socHexID   = regexp.MustCompile(`^[0-9a-f]{24}$`)
	socRefresh = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[0-9a-f]{64}$`)
)

// socRSAKey signs the fake Google's id_tokens; generated once per binary.
var socRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func socWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// socS256 is the RFC 7636 S256 code challenge of a verifier.
func socS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ---- fake GitHub ----

// socGitHubAccount is what the fake GitHub says about the account that
// authorised a code: GET /user and GET /user/emails.
type socGitHubAccount struct {
	User   map[string]any
	Emails []map[string]any
}

// socGitHub serves the token endpoint at /login/oauth/access_token and the
// REST API under /api. Codes are single use.
type socGitHub struct {
	srv *httptest.Server

	mu         sync.Mutex
	codes      map[string]socGitHubAccount // by authorization code
	tokens     map[string]socGitHubAccount // by access token
	tokenForms []url.Values
	apiHeaders []http.Header
}

func socNewGitHub(t *testing.T) *socGitHub {
	t.Helper()
	g := &socGitHub{codes: map[string]socGitHubAccount{}, tokens: map[string]socGitHubAccount{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.tokenForms = append(g.tokenForms, r.PostForm)
		f := r.PostForm
		acct, ok := g.codes[f.Get("code")]
		if !ok || f.Get("client_id") != socGitHubID || f.Get("client_secret") != socGitHubSecret ||
			f.Get("redirect_uri") != socRedirectURI("github") || r.Header.Get("Accept") != "application/json" {
			// GitHub answers 200 with an error object.
			socWriteJSON(w, 200, map[string]any{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
			return
		}
		delete(g.codes, f.Get("code"))
		tok := "gho_" + f.Get("code")
		g.tokens[tok] = acct
		socWriteJSON(w, 200, map[string]any{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"})
	})
	account := func(r *http.Request) (socGitHubAccount, bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.apiHeaders = append(g.apiHeaders, r.Header.Clone())
		if r.Header.Get("User-Agent") != "urBackend-social-auth" {
			return socGitHubAccount{}, false
		}
		a, ok := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		return a, ok
	}
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		a, ok := account(r)
		if !ok {
			socWriteJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return
		}
		socWriteJSON(w, 200, a.User)
	})
	mux.HandleFunc("GET /api/user/emails", func(w http.ResponseWriter, r *http.Request) {
		a, ok := account(r)
		if !ok {
			socWriteJSON(w, 401, map[string]any{"message": "Bad credentials"})
			return
		}
		socWriteJSON(w, 200, a.Emails)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// authorize registers a fresh code for the account, as GitHub does when
// the user consents.
func (g *socGitHub) authorize(code string, a socGitHubAccount) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.codes[code] = a
}

func (g *socGitHub) tokenRequests() []url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]url.Values(nil), g.tokenForms...)
}

// ---- fake Google ----

// socGoogleGrant is one authorization: the PKCE challenge the authorize
// URL carried and the id_token claims to hand out.
type socGoogleGrant struct {
	challenge string
	claims    jwt.MapClaims
}

// socGoogle serves /token, /certs (the JWKS) and /userinfo.
type socGoogle struct {
	srv *httptest.Server

	mu           sync.Mutex
	grants       map[string]socGoogleGrant // by authorization code
	tokenForms   []url.Values
	userinfoHits int
}

func socNewGoogle(t *testing.T) *socGoogle {
	t.Helper()
	g := &socGoogle{grants: map[string]socGoogleGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.tokenForms = append(g.tokenForms, r.PostForm)
		f := r.PostForm
		gr, ok := g.grants[f.Get("code")]
		if !ok || f.Get("grant_type") != "authorization_code" || f.Get("client_id") != socGoogleID ||
			f.Get("client_secret") != socGoogleSecret || f.Get("redirect_uri") != socRedirectURI("google") ||
			socS256(f.Get("code_verifier")) != gr.challenge {
			socWriteJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "Bad Request"})
			return
		}
		delete(g.grants, f.Get("code"))
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, gr.claims)
		tok.Header["kid"] = socGoogleKID
		idToken, err := tok.SignedString(socRSAKey())
		if err != nil {
			socWriteJSON(w, 500, map[string]any{"error": err.Error()})
			return
		}
		socWriteJSON(w, 200, map[string]any{"access_token": "ya29." + f.Get("code"), "token_type": "Bearer", "expires_in": 3599, "id_token": idToken})
	})
	mux.HandleFunc("GET /certs", func(w http.ResponseWriter, r *http.Request) {
		k := socRSAKey()
		w.Header().Set("Cache-Control", "public, max-age=3600")
		socWriteJSON(w, 200, map[string]any{"keys": []map[string]any{{
			"kid": socGoogleKID, "kty": "RSA", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.userinfoHits++
		g.mu.Unlock()
		socWriteJSON(w, 401, map[string]any{"error": "invalid_token"})
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// authorize registers a code for the claims, bound to the PKCE challenge
// of the authorize URL.
func (g *socGoogle) authorize(code, challenge string, claims jwt.MapClaims) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.grants[code] = socGoogleGrant{challenge: challenge, claims: claims}
}

func (g *socGoogle) tokenRequests() []url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]url.Values(nil), g.tokenForms...)
}

// socGoogleClaims are valid id_token claims for a Google account.
func socGoogleClaims(sub, email string, verified bool) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://accounts.google.com", "aud": socGoogleID, "sub": sub,
		"email": email, "email_verified": verified,
		"name": "Jane Doe", "picture": "https://lh3.example.test/photo.jpg",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// socOctocat is a GitHub account with a verified primary address.
func socOctocat() socGitHubAccount {
	return socGitHubAccount{
		User: map[string]any{
			"id": 583231, "login": "octocat", "name": "The Octocat",
			"email": "octocat@public.example.test", "avatar_url": "https://avatars.example.test/u/583231",
		},
		Emails: []map[string]any{
			{"email": "secondary@example.test", "primary": false, "verified": true},
			{"email": "octocat@example.test", "primary": true, "verified": true},
		},
	}
}

// ---- fixture ----

const socAuthQ = `mutation($p:ID!,$in:AuthSettingsInput!){updateAuthSettings(projectId:$p,input:$in){
	enabled github{enabled clientId callbackUrl} google{enabled clientId callbackUrl}}}`

// socFixture is a server whose provider endpoints point at the fakes, and
// a project (siteUrl https://app.example.test) with both providers on.
type socFixture struct {
	e     *env
	admin string
	p     project
	gh    *socGitHub
	gg    *socGoogle

	mu        sync.Mutex
	locations []string // every Location header seen
	n         int      // code counter
}

func socNew(t *testing.T) *socFixture {
	t.Helper()
	gh, gg := socNewGitHub(t), socNewGoogle(t)
	e := newEnv(t, func(c *server.Config) {
		c.Social = social.Endpoints{
			GitHubURL:         gh.srv.URL,
			GitHubAPIURL:      gh.srv.URL + "/api",
			GoogleAuthURL:     gg.srv.URL + "/o/oauth2/v2/auth",
			GoogleTokenURL:    gg.srv.URL + "/token",
			GoogleUserinfoURL: gg.srv.URL + "/userinfo",
			GoogleCertsURL:    gg.srv.URL + "/certs",
		}
	})
	f := &socFixture{e: e, admin: e.login(), gh: gh, gg: gg}
	f.p = e.createProject(f.admin, map[string]any{"name": "p", "siteUrl": socSiteURL})
	d := e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{
		"github": map[string]any{"enabled": true, "clientId": socGitHubID, "clientSecret": socGitHubSecret},
		"google": map[string]any{"enabled": true, "clientId": socGoogleID, "clientSecret": socGoogleSecret},
	}}).ok(t)
	want := map[string]any{"updateAuthSettings": map[string]any{
		"enabled": true,
		"github":  map[string]any{"enabled": true, "clientId": socGitHubID, "callbackUrl": socRedirectURI("github")},
		"google":  map[string]any{"enabled": true, "clientId": socGoogleID, "callbackUrl": socRedirectURI("google")},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatalf("updateAuthSettings (-want +got):\n%s", diff)
	}
	return f
}

func (f *socFixture) code(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("%s-code-%d", prefix, f.n)
}

// socResponse is one response, redirects not followed.
type socResponse struct {
	Status   int
	Location string
	Cookies  []*http.Cookie
	Body     string
}

// get sends a GET to the server without following redirects, recording
// the body and the Location for the leak check.
func (f *socFixture) get(t *testing.T, path string, header map[string]string) socResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	f.e.mu.Lock()
	f.e.bodies = append(f.e.bodies, string(b))
	f.e.mu.Unlock()
	loc := res.Header.Get("Location")
	f.mu.Lock()
	f.locations = append(f.locations, loc, strings.Join(res.Header.Values("Set-Cookie"), "\n"))
	f.mu.Unlock()
	return socResponse{Status: res.StatusCode, Location: loc, Cookies: res.Cookies(), Body: string(b)}
}

// wantError checks a JSON error answer (no redirect).
func (r socResponse) wantError(t *testing.T, status int, msg string) {
	t.Helper()
	if r.Location != "" {
		t.Fatalf("got redirect %d to %q, want %d %q", r.Status, r.Location, status, msg)
	}
	restResult{Status: r.Status, Body: r.Body}.wantError(t, status, msg)
}

// wantRedirectError checks a failure redirect to <siteUrl>/auth/callback?error=….
func (r socResponse) wantRedirectError(t *testing.T, msg string) {
	t.Helper()
	want := socCallbackURL + "?" + url.Values{"error": {msg}}.Encode()
	if r.Status != http.StatusFound || r.Location != want {
		t.Fatalf("got %d Location %q (body %s)\nwant 302 Location %q", r.Status, r.Location, r.Body, want)
	}
	if c := socCookie(r.Cookies); c != nil {
		t.Errorf("failure redirect sets a refresh cookie %q", c.Value)
	}
}

func socCookie(cs []*http.Cookie) *http.Cookie {
	for _, c := range cs {
		if c.Name == "refreshToken" {
			return c
		}
	}
	return nil
}

// start calls the start route with the key as ?key= (or as x-api-key when
// header is true) and returns the authorize URL it redirects to.
func (f *socFixture) start(t *testing.T, provider string, header bool) *url.URL {
	t.Helper()
	var r socResponse
	if header {
		r = f.get(t, "/api/userAuth/social/"+provider+"/start", map[string]string{"x-api-key": f.p.PublishableKey})
	} else {
		r = f.get(t, "/api/userAuth/social/"+provider+"/start?key="+url.QueryEscape(f.p.PublishableKey), nil)
	}
	if r.Status != http.StatusFound {
		t.Fatalf("start %s: got %d %s, want 302", provider, r.Status, r.Body)
	}
	if c := socCookie(r.Cookies); c != nil {
		t.Errorf("start sets a refresh cookie")
	}
	u, err := url.Parse(r.Location)
	if err != nil {
		t.Fatalf("start %s: Location %q: %v", provider, r.Location, err)
	}
	return u
}

func (f *socFixture) callback(t *testing.T, provider string, q url.Values) socResponse {
	t.Helper()
	return f.get(t, "/api/userAuth/social/"+provider+"/callback?"+q.Encode(), nil)
}

// signInGitHub runs start, consent (as the account) and callback.
func (f *socFixture) signInGitHub(t *testing.T, a socGitHubAccount) socResponse {
	t.Helper()
	state := f.start(t, "github", false).Query().Get("state")
	code := f.code("gh")
	f.gh.authorize(code, a)
	return f.callback(t, "github", url.Values{"code": {code}, "state": {state}})
}

// signInGoogle runs start, consent (for the claims) and callback.
func (f *socFixture) signInGoogle(t *testing.T, claims jwt.MapClaims) socResponse {
	t.Helper()
	q := f.start(t, "google", true).Query()
	code := f.code("4/0g")
	f.gg.authorize(code, q.Get("code_challenge"), claims)
	return f.callback(t, "google", url.Values{"code": {code}, "state": {q.Get("state")}})
}

// socSignIn is a successful callback's outcome.
type socSignIn struct {
	RTCode, UserID, Token, Refresh string
}

// wantSuccess checks a success redirect exactly (§5.4.2) and the refresh
// cookie, and returns what it carries.
func (f *socFixture) wantSuccess(t *testing.T, r socResponse, provider string, isNew, linked bool) socSignIn {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("callback: got %d %s, want 302", r.Status, r.Body)
	}
	u, err := url.Parse(r.Location)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	s := socSignIn{RTCode: q.Get("rtCode"), UserID: q.Get("userId"), Token: strings.TrimPrefix(u.Fragment, "token=")}
	if q.Get("error") != "" {
		t.Fatalf("callback redirected with error %q", q.Get("error"))
	}
	if !socRTCode.MatchString(s.RTCode) {
		t.Errorf("rtCode %q: want 32 hex characters", s.RTCode)
	}
	if !socHexID.MatchString(s.UserID) {
		t.Errorf("userId %q: want 24 hex characters", s.UserID)
	}
	want := socCallbackURL + "?rtCode=" + s.RTCode + "&provider=" + provider + "&userId=" + s.UserID +
		"&projectId=" + f.p.ID + "&isNewUser=" + boolStr(isNew) + "&linkedByEmail=" + boolStr(linked) + "#token=" + s.Token
	if r.Location != want {
		t.Errorf("got Location\n%s\nwant\n%s", r.Location, want)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(s.Token, claims); err != nil {
		t.Fatalf("fragment token %q: %v", s.Token, err)
	}
	if claims["userId"] != s.UserID || claims["projectId"] != f.p.ID {
		t.Errorf("access token claims %v: want userId %s, projectId %s", claims, s.UserID, f.p.ID)
	}

	c := socCookie(r.Cookies)
	if c == nil {
		t.Fatalf("callback set no refreshToken cookie (cookies %v)", r.Cookies)
	}
	if !socRefresh.MatchString(c.Value) || c.MaxAge != 604800 || c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode {
		t.Errorf("got cookie %q, want refreshToken=<uuid>.<64 hex>; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=None", c.String())
	}
	if strings.Contains(r.Location, c.Value) {
		t.Errorf("the refresh token is in the redirect URL")
	}
	s.Refresh = c.Value
	return s
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// exchange posts to /social/exchange with the publishable key.
func (f *socFixture) exchange(body any) restResult {
	return f.e.rest(http.MethodPost, "/api/userAuth/social/exchange", restReq{Key: f.p.PublishableKey, Body: body})
}

// me returns GET /api/userAuth/me for the access token, without the
// timestamps (checked to be present).
func (f *socFixture) me(t *testing.T, token string) map[string]any {
	t.Helper()
	r := f.e.rest(http.MethodGet, "/api/userAuth/me", restReq{Key: f.p.PublishableKey, Token: token})
	if r.Status != http.StatusOK {
		t.Fatalf("me: got %d %s, want 200", r.Status, r.Body)
	}
	m := r.json(t)
	for _, k := range []string{"createdAt", "updatedAt"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("me: %s is %v, want a timestamp string", k, m[k])
		}
		delete(m, k)
	}
	return m
}

// signUp creates a user through /api/userAuth/signup and returns its id
// and access token.
func (f *socFixture) signUp(t *testing.T, email string) (string, string) {
	t.Helper()
	r := f.e.rest(http.MethodPost, "/api/userAuth/signup", restReq{Key: f.p.PublishableKey, Body: map[string]any{"email": email, "password": "s3cret-pass"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("signup %s: got %d %s, want 201", email, r.Status, r.Body)
	}
	m := r.json(t)
	return str(m, "userId"), str(m, "accessToken")
}

// noSecretLeak checks that no response body, redirect, cookie or log line
// of the test carried an OAuth client secret.
func (f *socFixture) noSecretLeak(t *testing.T) {
	t.Helper()
	f.e.mu.Lock()
	bodies := strings.Join(f.e.bodies, "\n")
	f.e.mu.Unlock()
	f.mu.Lock()
	locs := strings.Join(f.locations, "\n")
	f.mu.Unlock()
	logs := f.e.logs.String()
	for _, s := range []string{socGitHubSecret, socGoogleSecret} {
		for where, text := range map[string]string{"a response body": bodies, "a Location or Set-Cookie header": locs, "the logs": logs} {
			if strings.Contains(text, s) {
				t.Errorf("the client secret %q appears in %s", s, where)
			}
		}
	}
}

// ---- tests ----

func TestSocialGitHubSignIn(t *testing.T) {
	f := socNew(t)

	// Start: 302 to the (fake) authorize URL. The key comes as ?key=.
	u := f.start(t, "github", false)
	if got, want := u.Scheme+"://"+u.Host+u.Path, f.gh.srv.URL+"/login/oauth/authorize"; got != want {
		t.Errorf("authorize URL %q: want %s", u, want)
	}
	q := u.Query()
	state := q.Get("state")
	if state == "" {
		t.Fatalf("authorize URL %q has no state", u)
	}
	wantQ := url.Values{
		"client_id":     {socGitHubID},
		"redirect_uri":  {socRedirectURI("github")},
		"scope":         {"read:user user:email"},
		"state":         {state},
		"response_type": {"code"}, // always added by x/oauth2; GitHub ignores it
	}
	if diff := cmp.Diff(wantQ, q); diff != "" {
		t.Errorf("authorize query (-want +got):\n%s", diff)
	}

	// Callback with the code and the state the start produced.
	f.gh.authorize("gh-code-1", socOctocat())
	r := f.callback(t, "github", url.Values{"code": {"gh-code-1"}, "state": {state}})
	s := f.wantSuccess(t, r, "github", true, false)

	// The fake received the project's client id and secret.
	wantForm := url.Values{
		"client_id": {socGitHubID}, "client_secret": {socGitHubSecret}, "code": {"gh-code-1"},
		"grant_type": {"authorization_code"}, "redirect_uri": {socRedirectURI("github")},
	}
	if reqs := f.gh.tokenRequests(); len(reqs) != 1 || !cmp.Equal(wantForm, reqs[0]) {
		t.Errorf("token requests %v, want one %v", reqs, wantForm)
	}

	// The access token works.
	wantMe := map[string]any{
		"_id": s.UserID, "email": "octocat@example.test", "username": "octocat", "name": "The Octocat",
		"avatarUrl": "https://avatars.example.test/u/583231", "emailVerified": true,
		"githubId": "583231", "authProviders": []any{"github"}, "__v": float64(0),
	}
	if diff := cmp.Diff(wantMe, f.me(t, s.Token)); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}

	// Exchange: the refresh token of the cookie, once.
	ex := f.exchange(map[string]any{"rtCode": s.RTCode, "token": s.Token})
	if ex.Status != http.StatusOK {
		t.Fatalf("exchange: got %d %s, want 200", ex.Status, ex.Body)
	}
	wantEx := map[string]any{"success": true, "data": map[string]any{"refreshToken": s.Refresh}, "message": "Refresh token exchanged successfully"}
	if diff := cmp.Diff(wantEx, ex.json(t)); diff != "" {
		t.Errorf("exchange (-want +got):\n%s", diff)
	}
	f.exchange(map[string]any{"rtCode": s.RTCode, "token": s.Token}).wantError(t, 400, "Invalid or expired refresh token exchange code")

	// The refresh token is a live session.
	rr := f.e.rest(http.MethodPost, "/api/userAuth/refresh-token", restReq{Key: f.p.PublishableKey, Headers: map[string]string{"x-refresh-token": s.Refresh}})
	if rr.Status != http.StatusOK || !socRefresh.MatchString(str(rr.json(t), "refreshToken")) {
		t.Errorf("refresh with the exchanged token: got %d %s, want 200 with a rotated refreshToken", rr.Status, rr.Body)
	}

	// Reusing the consumed state fails, even with a fresh code.
	f.gh.authorize("gh-code-2", socOctocat())
	f.callback(t, "github", url.Values{"code": {"gh-code-2"}, "state": {state}}).wantError(t, 400, "Invalid or expired OAuth state")

	// A second sign-in with the same GitHub id (its primary e-mail has
	// changed meanwhile) is the same user.
	again := socOctocat()
	again.Emails = []map[string]any{{"email": "new-octo@example.test", "primary": true, "verified": true}}
	s2 := f.wantSuccess(t, f.signInGitHub(t, again), "github", false, false)
	if s2.UserID != s.UserID {
		t.Errorf("second sign-in: got user %s, want %s", s2.UserID, s.UserID)
	}
	if s2.RTCode == s.RTCode || s2.Refresh == s.Refresh {
		t.Errorf("second sign-in reused the rtCode or refresh token")
	}

	f.noSecretLeak(t)
}

func TestSocialGoogleSignIn(t *testing.T) {
	f := socNew(t)

	// Start with the key as x-api-key; the provider name is trimmed and
	// lower-cased.
	r := f.get(t, "/api/userAuth/social/Google/start", map[string]string{"x-api-key": f.p.PublishableKey})
	if r.Status != http.StatusFound {
		t.Fatalf("start: got %d %s, want 302", r.Status, r.Body)
	}
	u, err := url.Parse(r.Location)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, f.gg.srv.URL+"/o/oauth2/v2/auth"; got != want {
		t.Errorf("authorize URL %q: want %s", u, want)
	}
	q := u.Query()
	state, challenge := q.Get("state"), q.Get("code_challenge")
	if state == "" || len(challenge) != 43 {
		t.Fatalf("authorize URL %q: want a state and a 43-character S256 code_challenge", u)
	}
	wantQ := url.Values{
		"client_id":             {socGoogleID},
		"redirect_uri":          {socRedirectURI("google")},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {state},
		"access_type":           {"offline"},
		"prompt":                {"consent"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	if diff := cmp.Diff(wantQ, q); diff != "" {
		t.Errorf("authorize query (-want +got):\n%s", diff)
	}

	// The fake token endpoint only accepts the verifier of that challenge.
	f.gg.authorize("4/0g-code-1", challenge, socGoogleClaims("110169484474386276334", "jane.doe@gmail.example", true))
	s := f.wantSuccess(t, f.callback(t, "google", url.Values{"code": {"4/0g-code-1"}, "state": {state}}), "google", true, false)

	reqs := f.gg.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("got %d token requests, want 1", len(reqs))
	}
	if v := reqs[0].Get("code_verifier"); socS256(v) != challenge {
		t.Errorf("code_verifier %q does not match the challenge %q", v, challenge)
	}
	wantForm := url.Values{
		"client_id": {socGoogleID}, "client_secret": {socGoogleSecret}, "code": {"4/0g-code-1"},
		"code_verifier": {reqs[0].Get("code_verifier")}, "grant_type": {"authorization_code"}, "redirect_uri": {socRedirectURI("google")},
	}
	if diff := cmp.Diff(wantForm, reqs[0]); diff != "" {
		t.Errorf("token request (-want +got):\n%s", diff)
	}
	f.gg.mu.Lock()
	if f.gg.userinfoHits != 0 {
		t.Errorf("userinfo asked %d times, want 0: the id_token had an e-mail", f.gg.userinfoHits)
	}
	f.gg.mu.Unlock()

	wantMe := map[string]any{
		"_id": s.UserID, "email": "jane.doe@gmail.example", "username": "jane.doe", "name": "Jane Doe",
		"avatarUrl": "https://lh3.example.test/photo.jpg", "emailVerified": true,
		"googleId": "110169484474386276334", "authProviders": []any{"google"}, "__v": float64(0),
	}
	if diff := cmp.Diff(wantMe, f.me(t, s.Token)); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}

	// Exchange: a wrong token burns the code; then the right one is too late.
	f.exchange(map[string]any{"rtCode": s.RTCode}).wantError(t, 400, "rtCode and token are required")
	f.exchange(map[string]any{"rtCode": s.RTCode, "token": s.Token + "x"}).wantError(t, 403, "Invalid refresh token exchange payload")
	f.exchange(map[string]any{"rtCode": s.RTCode, "token": s.Token}).wantError(t, 400, "Invalid or expired refresh token exchange code")

	// Second sign-in: same Google sub, same user, and the exchange works.
	s2 := f.wantSuccess(t, f.signInGoogle(t, socGoogleClaims("110169484474386276334", "jane.doe@gmail.example", true)), "google", false, false)
	if s2.UserID != s.UserID {
		t.Errorf("second sign-in: got user %s, want %s", s2.UserID, s.UserID)
	}
	ex := f.exchange(map[string]any{"rtCode": s2.RTCode, "token": s2.Token})
	wantEx := map[string]any{"success": true, "data": map[string]any{"refreshToken": s2.Refresh}, "message": "Refresh token exchanged successfully"}
	if diff := cmp.Diff(wantEx, ex.json(t)); ex.Status != http.StatusOK || diff != "" {
		t.Errorf("exchange: got %d (-want +got):\n%s", ex.Status, diff)
	}

	f.noSecretLeak(t)
}

func TestSocialLinkByEmail(t *testing.T) {
	f := socNew(t)

	// A verified provider e-mail links to the user who signed up with it
	// (matched case-insensitively) and verifies them.
	uid, tok := f.signUp(t, "hubot@example.test")
	if got := f.me(t, tok)["emailVerified"]; got != false {
		t.Fatalf("after signup emailVerified = %v, want false", got)
	}
	hubot := socGitHubAccount{
		User:   map[string]any{"id": 4242, "login": "hubot", "name": "", "email": nil, "avatar_url": "https://avatars.example.test/u/4242"},
		Emails: []map[string]any{{"email": "Hubot@Example.test", "primary": true, "verified": true}},
	}
	s := f.wantSuccess(t, f.signInGitHub(t, hubot), "github", false, true)
	if s.UserID != uid {
		t.Errorf("linked sign-in: got user %s, want the signed-up %s", s.UserID, uid)
	}
	wantMe := map[string]any{
		"_id": uid, "email": "hubot@example.test", "emailVerified": true, "githubId": "4242",
		"authProviders": []any{"github"}, "avatarUrl": "https://avatars.example.test/u/4242", "__v": float64(0),
	}
	if diff := cmp.Diff(wantMe, f.me(t, s.Token)); diff != "" {
		t.Errorf("me after linking (-want +got):\n%s", diff)
	}
	// From now on the GitHub id finds the user: no second link.
	f.wantSuccess(t, f.signInGitHub(t, hubot), "github", false, false)

	// Google can link the same user too; providers accumulate.
	s3 := f.wantSuccess(t, f.signInGoogle(t, socGoogleClaims("g-4242", "hubot@example.test", true)), "google", false, true)
	if s3.UserID != uid {
		t.Errorf("google link: got user %s, want %s", s3.UserID, uid)
	}
	if got := f.me(t, s3.Token)["authProviders"]; !cmp.Equal(got, []any{"github", "google"}) {
		t.Errorf("authProviders = %v, want [github google]", got)
	}

	// An unverified provider e-mail never links to an existing user.
	monaID, monaTok := f.signUp(t, "mona@example.test")
	mona := socGitHubAccount{
		User:   map[string]any{"id": 777, "login": "mona", "name": "Mona", "email": "mona@example.test", "avatar_url": ""},
		Emails: []map[string]any{{"email": "mona@example.test", "primary": true, "verified": false}},
	}
	f.signInGitHub(t, mona).wantRedirectError(t, "Cannot link github account: the provider email is not verified. Please verify your email with github first.")
	wantMona := map[string]any{"_id": monaID, "email": "mona@example.test", "emailVerified": false, "__v": float64(0)}
	if diff := cmp.Diff(wantMona, f.me(t, monaTok)); diff != "" {
		t.Errorf("me after the refused link (-want +got):\n%s", diff)
	}
	f.signInGoogle(t, socGoogleClaims("g-777", "mona@example.test", false)).
		wantRedirectError(t, "Cannot link google account: the provider email is not verified. Please verify your email with google first.")

	f.noSecretLeak(t)
}

func TestSocialCallbackFailures(t *testing.T) {
	f := socNew(t)

	t.Run("denied consent", func(t *testing.T) {
		state := f.start(t, "github", false).Query().Get("state")
		r := f.callback(t, "github", url.Values{
			"error": {"access_denied"}, "error_description": {"The user has denied your application access."}, "state": {state},
		})
		r.wantRedirectError(t, "The user has denied your application access.")
		if r.Location != "https://app.example.test/auth/callback?error=The+user+has+denied+your+application+access." {
			t.Errorf("got Location %q", r.Location)
		}
		// The denial consumed the state.
		f.gh.authorize("gh-after-denial", socOctocat())
		f.callback(t, "github", url.Values{"code": {"gh-after-denial"}, "state": {state}}).wantError(t, 400, "Invalid or expired OAuth state")
		// Without a description the error code is the message.
		state = f.start(t, "google", false).Query().Get("state")
		f.callback(t, "google", url.Values{"error": {"access_denied"}, "state": {state}}).wantRedirectError(t, "access_denied")
		// Without a state the callback URL is unknown: JSON.
		f.callback(t, "github", url.Values{"error": {"access_denied"}, "error_description": {"denied"}}).wantError(t, 400, "denied")
	})

	t.Run("missing code or state", func(t *testing.T) {
		f.callback(t, "github", url.Values{"code": {"c"}}).wantError(t, 400, "Missing code or state")
		state := f.start(t, "github", false).Query().Get("state")
		f.callback(t, "github", url.Values{"state": {state}}).wantRedirectError(t, "Missing code or state")
	})

	t.Run("tampered state", func(t *testing.T) {
		state := f.start(t, "github", false).Query().Get("state")
		payload, sig, ok := strings.Cut(state, ".")
		if !ok {
			t.Fatalf("state %q: want payload.signature", state)
		}
		flip := func(s string) string {
			last := s[len(s)-1]
			c := byte('A')
			if last == 'A' {
				c = 'B'
			}
			return s[:len(s)-1] + string(c)
		}
		for _, bad := range []string{
			payload + "." + flip(sig),
			flip(payload) + "." + sig,
			payload,
			"0123456789abcdef0123456789abcdef0123456789abcdef",
		} {
			f.gh.authorize("gh-tamper", socOctocat())
			f.callback(t, "github", url.Values{"code": {"gh-tamper"}, "state": {bad}}).wantError(t, 400, "Invalid or expired OAuth state")
		}
		if n := len(f.gh.tokenRequests()); n != 0 {
			t.Errorf("a bad state reached the provider (%d token requests)", n)
		}
		// The genuine state still works, once.
		f.wantSuccess(t, f.callback(t, "github", url.Values{"code": {"gh-tamper"}, "state": {state}}), "github", true, false)
		f.gh.authorize("gh-tamper-2", socOctocat())
		f.callback(t, "github", url.Values{"code": {"gh-tamper-2"}, "state": {state}}).wantError(t, 400, "Invalid or expired OAuth state")
	})

	t.Run("provider mismatch", func(t *testing.T) {
		before := len(f.gg.tokenRequests())
		state := f.start(t, "github", false).Query().Get("state")
		f.callback(t, "google", url.Values{"code": {"4/0g-mismatch"}, "state": {state}}).wantRedirectError(t, "OAuth state mismatch")
		if n := len(f.gg.tokenRequests()); n != before {
			t.Errorf("a mismatched state reached Google")
		}
		// The state was consumed by that attempt.
		f.gh.authorize("gh-mismatch", socOctocat())
		f.callback(t, "github", url.Values{"code": {"gh-mismatch"}, "state": {state}}).wantError(t, 400, "Invalid or expired OAuth state")
	})

	t.Run("provider rejects the code", func(t *testing.T) {
		state := f.start(t, "github", false).Query().Get("state")
		f.callback(t, "github", url.Values{"code": {"never-issued"}, "state": {state}}).wantRedirectError(t, "The code passed is incorrect or expired.")
	})

	t.Run("no e-mail", func(t *testing.T) {
		anon := socGitHubAccount{User: map[string]any{"id": 31337, "login": "anon", "name": nil, "email": nil, "avatar_url": ""}, Emails: []map[string]any{}}
		f.signInGitHub(t, anon).wantRedirectError(t, "github did not return an email address for this account.")
	})

	t.Run("unsupported provider", func(t *testing.T) {
		r := f.get(t, "/api/userAuth/social/twitter/start?key="+url.QueryEscape(f.p.PublishableKey), nil)
		r.wantError(t, 404, "Unsupported social auth provider")
		state := f.start(t, "github", false).Query().Get("state")
		f.callback(t, "twitter", url.Values{"code": {"c"}, "state": {state}}).wantError(t, 404, "Unsupported social auth provider")
	})

	t.Run("provider disabled", func(t *testing.T) {
		pending := f.start(t, "github", false).Query().Get("state")
		f.e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{
			"github": map[string]any{"enabled": false, "clientId": socGitHubID},
		}}).ok(t)
		r := f.get(t, "/api/userAuth/social/github/start?key="+url.QueryEscape(f.p.PublishableKey), nil)
		r.wantError(t, 422, "github social auth is disabled or incomplete for this project.")
		// A sign-in started before is refused at the callback.
		f.gh.authorize("gh-disabled", socOctocat())
		f.callback(t, "github", url.Values{"code": {"gh-disabled"}, "state": {pending}}).
			wantRedirectError(t, "github social auth is disabled or incomplete for this project.")
		// Google is untouched.
		f.start(t, "google", false)
	})

	t.Run("public signups off", func(t *testing.T) {
		known := f.wantSuccess(t, f.signInGoogle(t, socGoogleClaims("g-known", "known@example.test", true)), "google", true, false)
		f.e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{"allowPublicSignups": false}}).ok(t)
		f.signInGoogle(t, socGoogleClaims("g-new", "new@example.test", true)).wantRedirectError(t, "Public signups are disabled for this project.")
		// Existing users still sign in.
		again := f.wantSuccess(t, f.signInGoogle(t, socGoogleClaims("g-known", "known@example.test", true)), "google", false, false)
		if again.UserID != known.UserID {
			t.Errorf("got user %s, want %s", again.UserID, known.UserID)
		}
		f.e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{"allowPublicSignups": true}}).ok(t)
	})

	t.Run("auth disabled", func(t *testing.T) {
		pending := f.start(t, "google", false).Query()
		f.e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{"enabled": false}}).ok(t)
		r := f.get(t, "/api/userAuth/social/google/start?key="+url.QueryEscape(f.p.PublishableKey), nil)
		r.wantError(t, 403, "Please enable Auth in the urBackend dashboard for this project to use this endpoint.")
		f.gg.authorize("4/0g-auth-off", pending.Get("code_challenge"), socGoogleClaims("g-auth-off", "off@example.test", true))
		f.callback(t, "google", url.Values{"code": {"4/0g-auth-off"}, "state": {pending.Get("state")}}).
			wantRedirectError(t, "Authentication service is disabled")
		f.e.gql(f.admin, socAuthQ, map[string]any{"p": f.p.ID, "in": map[string]any{"enabled": true}}).ok(t)
	})

	f.noSecretLeak(t)
}

func TestSocialSettingsNeedSiteURL(t *testing.T) {
	f := socNew(t)
	bare := f.e.createProject(f.admin, map[string]any{"name": "bare"})
	for _, prov := range []string{"github", "google"} {
		msg := f.e.gql(f.admin, socAuthQ, map[string]any{"p": bare.ID, "in": map[string]any{
			prov: map[string]any{"enabled": true, "clientId": "id", "clientSecret": "oauth-secret-no-site"},
		}}).fails(t, "BAD_USER_INPUT", "set the project's siteUrl before enabling "+prov+" sign-in")
		if want := "set the project's siteUrl before enabling " + prov + " sign-in: users are sent back to <siteUrl>/auth/callback"; msg != want {
			t.Errorf("got %q, want %q", msg, want)
		}
	}
	// Nothing was enabled.
	r := f.get(t, "/api/userAuth/social/github/start?key="+url.QueryEscape(bare.PublishableKey), nil)
	r.wantError(t, 422, "github social auth is disabled or incomplete for this project.")

	// Removing the siteUrl of a project with a provider on is refused too.
	f.e.gql(f.admin, `mutation($id:ID!){updateProject(id:$id,input:{siteUrl:""}){id}}`, map[string]any{"id": f.p.ID}).
		fails(t, "BAD_USER_INPUT", "siteUrl cannot be removed while GitHub or Google sign-in is enabled")

	// The admin API never returns a client secret.
	d := f.e.gql(f.admin, `query($id:ID!){project(id:$id){siteUrl authSettings{github{enabled clientId callbackUrl} google{enabled clientId callbackUrl}}}}`,
		map[string]any{"id": f.p.ID}).ok(t)
	if raw, _ := json.Marshal(d); strings.Contains(string(raw), socGitHubSecret) || strings.Contains(string(raw), socGoogleSecret) {
		t.Errorf("project query returned a client secret: %s", raw)
	}
	f.noSecretLeak(t)
}
