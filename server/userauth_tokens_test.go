package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urbackend/urbackend/server"
)

// TestUserAuthRefreshRotation checks that every refresh rotates the token
// and that replaying a rotated token revokes the whole chain.
func TestUserAuthRefreshRotation(t *testing.T) {
	u := uaNew(t)
	first := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	other := u.login(t, "ada@example.com", "secret-pw-1") // another chain

	// Rotation: new token in body and cookie, new access token works.
	r := u.refresh(first.Refresh)
	if r.Status != 200 {
		t.Fatalf("refresh: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	uaWantKeys(t, "refresh body", b, "token", "accessToken", "expiresIn", "refreshToken")
	if b["token"] != b["accessToken"] || b["expiresIn"] != "15m" {
		t.Errorf("refresh body: got %v", b)
	}
	second := uaTokens{Access: str(b, "accessToken"), Refresh: str(b, "refreshToken")}
	if !uaRefreshRE.MatchString(second.Refresh) || second.Refresh == first.Refresh {
		t.Fatalf("rotated token: got %q, want a new <uuid>.<hex> token", second.Refresh)
	}
	u.addLogSecret(second.Refresh)
	u.wantCookieSet(t, r, second.Refresh)
	if claims := uaClaims(t, second.Access); claims["userId"] != first.UserID || claims["projectId"] != u.p.ID {
		t.Errorf("rotated access token claims: got %v", claims)
	}
	u.meOK(t, second.Access)
	third := u.refreshOK(t, second.Refresh)

	// Reuse of the first token: refused, cookie cleared, and the chain
	// is revoked: the newest token stops working too.
	r = u.refresh(first.Refresh)
	r.wantError(t, 403, uaMsgUsedRefresh)
	uaWantCookieCleared(t, r)
	r = u.refresh(third.Refresh)
	r.wantError(t, 403, uaMsgUsedRefresh)
	uaWantCookieCleared(t, r)
	u.refresh(second.Refresh).wantError(t, 403, uaMsgUsedRefresh)

	// Another chain of the same user is not affected.
	u.refreshOK(t, other.Refresh)

	// Reuse detection through the cookie as well.
	a := u.login(t, "ada@example.com", "secret-pw-1")
	cookie := func(raw string) restResult {
		return u.call("POST", "/refresh-token", restReq{Headers: map[string]string{"Cookie": "refreshToken=" + raw}})
	}
	r = cookie(a.Refresh)
	if r.Status != 200 {
		t.Fatalf("cookie refresh: got %d %s, want 200", r.Status, r.Body)
	}
	uaWantKeys(t, "cookie refresh body", r.json(t), "token", "accessToken", "expiresIn")
	nc := uaCookie(t, r)
	u.addLogSecret(nc.Value)
	cookie(a.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	cookie(nc.Value).wantError(t, 403, uaMsgUsedRefresh)

	// The cookie wins over the header; the body then carries the new token.
	c := u.login(t, "ada@example.com", "secret-pw-1")
	r = u.call("POST", "/refresh-token", restReq{Headers: map[string]string{"Cookie": "refreshToken=" + c.Refresh, "x-refresh-token": "not-a-token"}})
	if r.Status != 200 {
		t.Fatalf("cookie+header refresh: got %d %s, want 200", r.Status, r.Body)
	}
	b = r.json(t)
	u.addLogSecret(str(b, "refreshToken"))
	u.wantCookieSet(t, r, str(b, "refreshToken"))
	if !uaRefreshRE.MatchString(str(b, "refreshToken")) {
		t.Errorf("cookie+header refresh: got body %v, want the rotated refreshToken", b)
	}
}

// TestUserAuthRefreshErrors walks the checks of §5.3.11.
func TestUserAuthRefreshErrors(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	q := u.createProject(u.tok, map[string]any{"name": "q"})
	qr := u.call("POST", "/signup", restReq{Key: q.PublishableKey, Body: map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}, Headers: map[string]string{"x-refresh-token-mode": "header"}})
	if qr.Status != 201 {
		t.Fatalf("signup in q: got %d %s", qr.Status, qr.Body)
	}
	foreign := str(qr.json(t), "refreshToken")
	u.addLogSecret(foreign)

	unknown := "0b8e3b0e-2d2c-4c1a-9f3e-1a2b3c4d5e6f." + strings.Repeat("ab", 32)
	id, _, _ := strings.Cut(ada.Refresh, ".")
	mismatch := id + "." + strings.Repeat("0", 64)

	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		want    string
		cleared bool
	}{
		{"missing", nil, 401, "Refresh token missing", true},
		{"empty cookie", map[string]string{"Cookie": "refreshToken="}, 401, "Refresh token missing", true},
		{"bad format", map[string]string{"x-refresh-token": "abc.def"}, 401, "Invalid refresh token format", true},
		{"bad format cookie", map[string]string{"Cookie": "refreshToken=" + strings.ToUpper(ada.Refresh)}, 401, "Invalid refresh token format", true},
		{"unknown session", map[string]string{"x-refresh-token": unknown}, 401, "Refresh session not found", true},
		{"another project", map[string]string{"x-refresh-token": foreign}, 403, uaMsgForeign, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := u.call("POST", "/refresh-token", restReq{Headers: tc.headers})
			r.wantError(t, tc.status, tc.want)
			if tc.cleared {
				uaWantCookieCleared(t, r)
			} else {
				uaWantNoCookie(t, r)
			}
		})
	}
	// The foreign token still works in its own project.
	if r := u.call("POST", "/refresh-token", restReq{Key: q.PublishableKey, Headers: map[string]string{"x-refresh-token": foreign}}); r.Status != 200 {
		t.Errorf("foreign token in its project: got %d %s, want 200", r.Status, r.Body)
	} else {
		u.addLogSecret(str(r.json(t), "refreshToken"))
	}

	// A wrong secret for a real session: refused, and the session's chain
	// is revoked.
	r := u.refresh(mismatch)
	r.wantError(t, 403, "Refresh token mismatch")
	uaWantCookieCleared(t, r)
	u.refresh(ada.Refresh).wantError(t, 403, uaMsgUsedRefresh)

	// Expiry after 7 days.
	b := u.login(t, "ada@example.com", "secret-pw-1")
	c := u.login(t, "ada@example.com", "secret-pw-1")
	u.clock.Advance(7*24*time.Hour - time.Second)
	u.refreshOK(t, b.Refresh)
	u.clock.Advance(time.Second)
	r = u.refresh(c.Refresh)
	r.wantError(t, 403, uaMsgUsedRefresh)
	uaWantCookieCleared(t, r)

	// A deleted user: refused, chain revoked.
	u.clock.Advance(-7 * 24 * time.Hour)
	d := u.login(t, "ada@example.com", "secret-pw-1")
	if _, err := u.users(t).DeleteMany(t.Context(), map[string]any{}); err != nil {
		t.Fatal(err)
	}
	r = u.refresh(d.Refresh)
	r.wantError(t, 401, "User not found for refresh token")
	uaWantCookieCleared(t, r)
}

// TestUserAuthRefreshLimits checks the per-user, per-token and per-IP
// refresh limits of §1.7.5.
func TestUserAuthRefreshLimits(t *testing.T) {
	u := uaNew(t)
	tk := u.signup(t, "ada@example.com", "secret-pw-1", nil)

	// 20 refreshes per user and minute.
	raw := tk.Refresh
	for i := 0; i < 20; i++ {
		raw = u.refreshOK(t, raw).Refresh
	}
	r := u.refresh(raw)
	r.wantError(t, 429, "Too many refresh attempts for this user")
	uaWantCookieCleared(t, r)
	u.clock.Advance(time.Minute)
	raw = u.refreshOK(t, raw).Refresh // the limited attempt did not use it up

	// 10 attempts per token and minute.
	u.clock.Advance(time.Minute)
	unknown := "0b8e3b0e-2d2c-4c1a-9f3e-1a2b3c4d5e6f." + strings.Repeat("ab", 32)
	for i := 0; i < 10; i++ {
		u.refresh(unknown).wantError(t, 401, "Refresh session not found")
	}
	r = u.refresh(unknown)
	r.wantError(t, 429, "Too many refresh attempts for this token")
	uaWantCookieCleared(t, r)

	// 30 attempts per client address and minute.
	for i := 0; i < 19; i++ {
		other := "0b8e3b0e-2d2c-4c1a-9f3e-1a2b3c4d5e6f." + strings.Repeat("c", 62) + string("0123456789abcdef"[i%16]) + string("0123456789abcdef"[i/16])
		u.refresh(other).wantError(t, 401, "Refresh session not found")
	}
	r = u.refresh(raw)
	r.wantError(t, 429, "Too many refresh attempts from this IP")
	uaWantCookieCleared(t, r)
	u.clock.Advance(time.Minute)
	u.refreshOK(t, raw)
}

// TestUserAuthLogout checks §5.3.12.
func TestUserAuthLogout(t *testing.T) {
	u := uaNew(t)
	a := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	b := u.login(t, "ada@example.com", "secret-pw-1")
	ok := map[string]any{"success": true, "message": "Logged out successfully"}

	r := u.call("POST", "/logout", restReq{Headers: map[string]string{"x-refresh-token": a.Refresh}})
	uaWantBody(t, r, 200, ok)
	uaWantCookieCleared(t, r)
	u.refresh(a.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	// Only that session: the other still refreshes; access tokens stay
	// valid until they expire.
	b = u.refreshOK(t, b.Refresh)
	u.meOK(t, a.Access)

	// Through the cookie.
	r = u.call("POST", "/logout", restReq{Headers: map[string]string{"Cookie": "refreshToken=" + b.Refresh}})
	uaWantBody(t, r, 200, ok)
	uaWantCookieCleared(t, r)
	u.refresh(b.Refresh).wantError(t, 403, uaMsgUsedRefresh)

	// No, malformed, unknown or already revoked tokens: nothing happens.
	for _, h := range []map[string]string{
		nil,
		{"x-refresh-token": "garbage"},
		{"x-refresh-token": "0b8e3b0e-2d2c-4c1a-9f3e-1a2b3c4d5e6f." + strings.Repeat("ab", 32)},
		{"x-refresh-token": a.Refresh},
	} {
		r := u.call("POST", "/logout", restReq{Headers: h})
		uaWantBody(t, r, 200, ok)
		uaWantCookieCleared(t, r)
	}

	// Another project's token.
	q := u.createProject(u.tok, map[string]any{"name": "q"})
	qr := u.call("POST", "/signup", restReq{Key: q.PublishableKey, Body: map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}, Headers: map[string]string{"x-refresh-token-mode": "header"}})
	foreign := str(qr.json(t), "refreshToken")
	u.addLogSecret(foreign)
	u.call("POST", "/logout", restReq{Headers: map[string]string{"x-refresh-token": foreign}}).wantError(t, 403, uaMsgForeign)
	if r := u.call("POST", "/refresh-token", restReq{Key: q.PublishableKey, Headers: map[string]string{"x-refresh-token": foreign}}); r.Status != 200 {
		t.Errorf("foreign token after refused logout: got %d %s, want 200", r.Status, r.Body)
	} else {
		u.addLogSecret(str(r.json(t), "refreshToken"))
	}
}

// TestUserAuthMe checks §5.3.3 and the access token lifetime.
func TestUserAuthMe(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	q := u.createProject(u.tok, map[string]any{"name": "q"})

	u.me("").wantError(t, 401, "Access Denied: No Token Provided")
	u.call("GET", "/me", restReq{Headers: map[string]string{"Authorization": "Basic abc"}}).wantError(t, 401, "Access Denied: No Token Provided")
	u.me("garbage").wantError(t, 401, "Invalid or Expired Token")
	u.me(u.userToken(q.ID, ada.UserID)).wantError(t, 401, "Invalid or Expired Token")
	u.me(u.userToken(u.p.ID, "not-an-object-id")).wantError(t, 401, "Invalid or Expired Token")
	u.me(u.userToken(u.p.ID, "0123456789abcdef01234567")).wantError(t, 404, "User not found")
	// The access token of one project is no key to another.
	u.call("GET", "/me", restReq{Key: q.PublishableKey, Token: ada.Access}).wantError(t, 401, "Invalid or Expired Token")
	// Any case of "Bearer".
	if r := u.call("GET", "/me", restReq{Headers: map[string]string{"Authorization": "bearer " + ada.Access}}); r.Status != 200 {
		t.Errorf("lower-case bearer: got %d %s, want 200", r.Status, r.Body)
	}

	// 15 minutes.
	u.clock.Advance(15*time.Minute - time.Second)
	u.meOK(t, ada.Access)
	u.clock.Advance(time.Second)
	u.me(ada.Access).wantError(t, 401, "Invalid or Expired Token")
	fresh := u.refreshOK(t, ada.Refresh)
	if me := u.meOK(t, fresh.Access); me["_id"] != ada.UserID {
		t.Errorf("/me after refresh: got %v", me)
	}
}

// TestUserAuthCookieInsecure checks the refresh cookie of a server whose
// public URL is plain http: SameSite=Lax, not Secure.
func TestUserAuthCookieInsecure(t *testing.T) {
	u := uaNew(t, func(c *server.Config) { c.PublicURL = "http://localhost:8080" })
	r := u.call("POST", "/signup", restReq{Body: map[string]any{"email": "ada@example.com", "password": "secret-pw-1"}})
	if r.Status != 201 {
		t.Fatalf("signup: got %d %s, want 201", r.Status, r.Body)
	}
	c := uaCookie(t, r)
	if c == nil {
		t.Fatal("signup: got no refresh cookie")
	}
	u.addLogSecret(c.Value, "secret-pw-1")
	if c.Secure || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || c.Path != "/" || c.MaxAge != 604800 {
		t.Errorf("cookie: got %q, want Path=/; Max-Age=604800; HttpOnly; SameSite=Lax without Secure", c.Raw)
	}
}
