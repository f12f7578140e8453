package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"
)

// TestUserAuthSignupValidation checks every §5.3.1 message and that the
// first failure wins, in the order username, email, password.
func TestUserAuthSignupValidation(t *testing.T) {
	u := uaNew(t)
	const ok, okPW = "ada@example.com", "secret-pw-1"
	long := uaRepeat("a", 90) + "@example.com" // 102 characters
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"username too short", map[string]any{"username": "ab", "email": ok, "password": okPW}, "Username must be at least 3 characters."},
		{"username too short after trim", map[string]any{"username": "  ab  ", "email": ok, "password": okPW}, "Username must be at least 3 characters."},
		{"username too long", map[string]any{"username": uaRepeat("u", 51), "email": ok, "password": okPW}, "Username must be between 3 and 50 characters."},
		{"username not a string", map[string]any{"username": 123, "email": ok, "password": okPW}, "Invalid input: expected string, received number"},
		{"username wins over email and password", map[string]any{"username": "ab", "email": "bad", "password": "1"}, "Username must be at least 3 characters."},
		{"email missing", map[string]any{"password": okPW}, "Invalid input: expected string, received undefined"},
		{"email not a string", map[string]any{"email": 42, "password": okPW}, "Invalid input: expected string, received number"},
		{"email null", map[string]any{"email": nil, "password": okPW}, "Invalid input: expected string, received null"},
		{"email empty", map[string]any{"email": "", "password": okPW}, "Email is required."},
		{"email without at", map[string]any{"email": "not-an-email", "password": okPW}, "Invalid email format."},
		{"email leading dot", map[string]any{"email": ".ada@example.com", "password": okPW}, "Invalid email format."},
		{"email double dot", map[string]any{"email": "a..da@example.com", "password": okPW}, "Invalid email format."},
		{"email short tld", map[string]any{"email": "ada@example.c", "password": okPW}, "Invalid email format."},
		{"email too long", map[string]any{"email": long, "password": okPW}, "Email is too long."},
		{"email wins over password", map[string]any{"email": "bad", "password": "1"}, "Invalid email format."},
		{"password missing", map[string]any{"email": ok}, "Invalid input: expected string, received undefined"},
		{"password not a string", map[string]any{"email": ok, "password": 123456}, "Invalid input: expected string, received number"},
		{"password too short", map[string]any{"email": ok, "password": "12345"}, "Password must be at least 6 characters."},
		{"password too long", map[string]any{"email": ok, "password": uaRepeat("p", 101)}, "Password is too long."},
		{"no body", nil, "Invalid input: expected string, received undefined"},
		{"malformed JSON", `{"email":`, "Invalid JSON format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u.post("/signup", tc.body).wantError(t, 400, tc.want)
		})
	}
	u.noMail(t)
	if n, err := u.users(t).CountDocuments(context.Background(), bson.D{}); err != nil || n != 0 {
		t.Errorf("users after invalid sign-ups: got %d (%v), want 0", n, err)
	}
}

// TestUserAuthSignup checks the 201 answer, the stored user, the
// verification mail, and both token transports of §5.2.
func TestUserAuthSignup(t *testing.T) {
	u := uaNew(t)
	t0 := u.clock.Now()

	r := u.call("POST", "/signup", restReq{
		Body:    map[string]any{"email": "  Ada@Example.COM ", "password": "secret-pw-1", "username": " ada ", "name": "Ada", "emailVerified": true, "githubId": "gh-1", "authProviders": []string{"github"}},
		Headers: map[string]string{"x-refresh-token-mode": "header", "User-Agent": "urbackend-sdk-js/0.4.2"},
	})
	if r.Status != 201 {
		t.Fatalf("signup: got %d %s, want 201", r.Status, r.Body)
	}
	b := r.json(t)
	uaWantKeys(t, "signup body", b, "message", "token", "accessToken", "expiresIn", "refreshToken", "userId")
	if b["message"] != uaMsgRegistered {
		t.Errorf("message: got %v, want %q", b["message"], uaMsgRegistered)
	}
	if b["token"] != b["accessToken"] || str(b, "token") == "" {
		t.Errorf("token %v and accessToken %v: want the same non-empty value", b["token"], b["accessToken"])
	}
	if b["expiresIn"] != "15m" {
		t.Errorf("expiresIn: got %v, want \"15m\"", b["expiresIn"])
	}
	rt, uid := str(b, "refreshToken"), str(b, "userId")
	if !uaRefreshRE.MatchString(rt) {
		t.Errorf("refreshToken: got %q, want <uuid-v4>.<64 hex>", rt)
	}
	if !uaHexID.MatchString(uid) {
		t.Errorf("userId: got %q, want 24 hex digits", uid)
	}
	u.addLogSecret(rt, "secret-pw-1")
	u.wantCookieSet(t, r, rt)

	claims := uaClaims(t, str(b, "accessToken"))
	// The original's claims, plus sid: the refresh session the token
	// belongs to.
	uaWantKeys(t, "access token claims", claims, "userId", "projectId", "sid", "iat", "exp")
	if sid, _ := claims["sid"].(string); sid == "" || !strings.HasPrefix(rt, sid+".") {
		t.Errorf("claims sid %v: want the refresh session id %s", claims["sid"], rt[:36])
	}
	if claims["userId"] != uid || claims["projectId"] != u.p.ID {
		t.Errorf("claims: got %v, want userId %s, projectId %s", claims, uid, u.p.ID)
	}
	if iat, exp := claims["iat"].(float64), claims["exp"].(float64); int64(iat) != t0.Unix() || exp-iat != 900 {
		t.Errorf("claims iat %v exp %v: want iat %d and a 15 minute lifetime", iat, exp, t0.Unix())
	}

	// The verification code goes to the lower-cased address.
	code := u.code(t, "ada@example.com", "Verify your account")
	_ = code

	// Stored: e-mail lower-cased, bcrypt hash, unverified, privileged
	// fields of the body ignored.
	doc := u.storedUser(t, "ada@example.com")
	if got := doc["_id"].(bson.ObjectID).Hex(); got != uid {
		t.Errorf("stored _id: got %s, want %s", got, uid)
	}
	hash, _ := doc["password"].(string)
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != 4 {
		t.Errorf("stored password: got cost %d (%v), want a bcrypt hash of cost 4", cost, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("secret-pw-1")) != nil {
		t.Errorf("stored hash does not match the password")
	}
	if doc["emailVerified"] != false || doc["username"] != "ada" || doc["name"] != "Ada" {
		t.Errorf("stored user: got emailVerified %v, username %v, name %v; want false, ada, Ada", doc["emailVerified"], doc["username"], doc["name"])
	}
	for _, k := range []string{"githubId", "authProviders"} {
		if _, ok := doc[k]; ok {
			t.Errorf("stored user has %s = %v, want it ignored at signup", k, doc[k])
		}
	}

	// /me shows the user without the password.
	me := u.meOK(t, str(b, "accessToken"))
	uaWantKeys(t, "/me", me, "_id", "email", "username", "name", "emailVerified", "createdAt", "updatedAt", "__v")
	want := time.UnixMilli(t0.UnixMilli()).UTC().Format("2006-01-02T15:04:05.000Z")
	if me["_id"] != uid || me["email"] != "ada@example.com" || me["emailVerified"] != false || me["createdAt"] != want || me["__v"] != float64(0) {
		t.Errorf("/me: got %v", me)
	}

	// Without header mode the refresh token is only in the cookie.
	r = u.post("/signup", map[string]any{"email": "bob@example.com", "password": "secret-pw-2"})
	if r.Status != 201 {
		t.Fatalf("signup: got %d %s, want 201", r.Status, r.Body)
	}
	b = r.json(t)
	uaWantKeys(t, "cookie-mode signup body", b, "message", "token", "accessToken", "expiresIn", "userId")
	c := uaCookie(t, r)
	if c == nil || !uaRefreshRE.MatchString(c.Value) {
		t.Fatalf("cookie-mode signup: got cookie %v, want a refresh token", c)
	}
	u.addLogSecret(c.Value, "secret-pw-2")
	u.wantCookieSet(t, r, c.Value)
	u.code(t, "bob@example.com", "Verify your account")

	// The cookie alone refreshes.
	r = u.call("POST", "/refresh-token", restReq{Headers: map[string]string{"Cookie": "refreshToken=" + c.Value}})
	if r.Status != 200 {
		t.Fatalf("cookie refresh: got %d %s, want 200", r.Status, r.Body)
	}
	uaWantKeys(t, "cookie refresh body", r.json(t), "token", "accessToken", "expiresIn")
	if nc := uaCookie(t, r); nc == nil || nc.Value == c.Value || !uaRefreshRE.MatchString(nc.Value) {
		t.Errorf("cookie refresh: got cookie %v, want a rotated token", nc)
	} else {
		u.addLogSecret(nc.Value)
	}
}

// TestUserAuthAccounts checks case-insensitive e-mails, unique e-mails and
// usernames, and a second sign-up of an unverified or verified address.
func TestUserAuthAccounts(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "Ada@Example.COM", "secret-pw-1", map[string]any{"username": "ada"})
	code := u.code(t, "ada@example.com", "Verify your account")

	// Login with any case and surrounding spaces.
	u.login(t, "  ADA@example.com ", "secret-pw-1")

	// Same address, another case, unverified, within the cooldown.
	u.post("/signup", map[string]any{"email": "ada@EXAMPLE.com", "password": "other-pw-1"}).
		wantError(t, 429, "Please wait 60 seconds before requesting another code.")
	u.noMail(t)

	// After the cooldown: a new code, no tokens, password unchanged.
	u.clock.Advance(61 * time.Second)
	r := u.post("/signup", map[string]any{"email": "ada@EXAMPLE.com", "password": "other-pw-1"})
	uaWantBody(t, r, 200, map[string]any{"success": true, "message": "User already exists but is unverified. A new verification code has been sent.", "userId": ada.UserID})
	uaWantNoCookie(t, r)
	code2 := u.code(t, "ada@example.com", "Verify your account")
	u.loginReq("ada@example.com", "other-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	u.login(t, "ada@example.com", "secret-pw-1")
	if n, _ := u.users(t).CountDocuments(context.Background(), bson.D{}); n != 1 {
		t.Errorf("users: got %d, want 1", n)
	}

	// The first code was replaced by the second.
	u.post("/verify-email", map[string]any{"email": "ada@example.com", "otp": code}).wantError(t, 400, uaMsgBadOTP)
	uaWantBody(t, u.post("/verify-email", map[string]any{"email": "ADA@example.com", "otp": code2}), 200, map[string]any{"message": "Email verified successfully"})

	// Verified: a sign-up with the address is refused.
	u.post("/signup", map[string]any{"email": "ADA@EXAMPLE.COM", "password": "other-pw-1"}).wantError(t, 400, "User already exists with this email.")
	u.noMail(t)

	// Usernames are unique.
	u.clock.Advance(61 * time.Second)
	u.post("/signup", map[string]any{"email": "eve@example.com", "password": "secret-pw-3", "username": "ada"}).wantError(t, 409, "Username is already taken.")
	u.noMail(t)
	if n, _ := u.users(t).CountDocuments(context.Background(), bson.D{}); n != 1 {
		t.Errorf("users: got %d, want 1", n)
	}

	// A password of the maximum length (100) works, beyond bcrypt's 72
	// bytes.
	long := uaRepeat("L", 99) + "!"
	u.signup(t, "long@example.com", long, nil)
	u.code(t, "long@example.com", "Verify your account")
	u.login(t, "long@example.com", long)
	// Like the original's bcryptjs, only the first 72 bytes count.
	u.login(t, "long@example.com", uaRepeat("L", 72))
	u.loginReq("long@example.com", uaRepeat("L", 71)+"!", false).wantError(t, 400, uaMsgBadLogin)
}

// TestUserAuthLogin checks the §5.3.2 messages and answers.
func TestUserAuthLogin(t *testing.T) {
	u := uaNew(t)
	u.signup(t, "ada@example.com", "secret-pw-1", nil)
	u.code(t, "ada@example.com", "Verify your account")

	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"email missing", map[string]any{"password": "secret-pw-1"}, "Invalid input: expected string, received undefined"},
		{"email empty", map[string]any{"email": "", "password": "secret-pw-1"}, "Email is required."},
		{"email invalid", map[string]any{"email": "ada", "password": "secret-pw-1"}, "Invalid email format."},
		{"email too long", map[string]any{"email": uaRepeat("a", 90) + "@example.com", "password": "secret-pw-1"}, "Email is too long."},
		{"password missing", map[string]any{"email": "ada@example.com"}, "Invalid input: expected string, received undefined"},
		{"password too short", map[string]any{"email": "ada@example.com", "password": "12345"}, "Password must be at least 6 characters"},
		{"password too long", map[string]any{"email": "ada@example.com", "password": uaRepeat("p", 101)}, "Password is too long."},
		{"unknown email", map[string]any{"email": "nobody@example.com", "password": "secret-pw-1"}, uaMsgBadLogin},
		{"wrong password", map[string]any{"email": "ada@example.com", "password": "secret-pw-X"}, uaMsgBadLogin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := u.post("/login", tc.body)
			r.wantError(t, 400, tc.want)
			uaWantNoCookie(t, r)
		})
	}

	// Unverified users log in by default. Cookie mode: no refreshToken in
	// the body.
	r := u.loginReq("ada@example.com", "secret-pw-1", false)
	if r.Status != 200 {
		t.Fatalf("login: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	uaWantKeys(t, "login body", b, "token", "accessToken", "expiresIn")
	if b["token"] != b["accessToken"] || b["expiresIn"] != "15m" {
		t.Errorf("login body: got %v", b)
	}
	c := uaCookie(t, r)
	if c == nil {
		t.Fatal("login: got no refresh cookie")
	}
	u.addLogSecret(c.Value)
	u.wantCookieSet(t, r, c.Value)

	// Header mode: the same token in body and cookie.
	r = u.loginReq("ada@example.com", "secret-pw-1", true)
	b = r.json(t)
	uaWantKeys(t, "header-mode login body", b, "token", "accessToken", "expiresIn", "refreshToken")
	u.addLogSecret(str(b, "refreshToken"))
	u.wantCookieSet(t, r, str(b, "refreshToken"))
	if me := u.meOK(t, str(b, "token")); me["email"] != "ada@example.com" {
		t.Errorf("/me after login: got %v", me)
	}
	u.noMail(t)
}

// TestUserAuthLoginThrottle checks the per-account limit on failed logins
// and that a success resets it.
func TestUserAuthLoginThrottle(t *testing.T) {
	u := uaNew(t)
	u.signup(t, "ada@example.com", "secret-pw-1", nil)
	u.signup(t, "bob@example.com", "secret-pw-2", nil)

	fail := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			u.loginReq("ada@example.com", "wrong-pw-1", false).wantError(t, 400, uaMsgBadLogin)
		}
	}
	fail(5)
	// Blocked now, even with the right password, and in any case.
	u.loginReq("ada@example.com", "secret-pw-1", false).wantError(t, 429, uaMsgTooManyLogins)
	u.loginReq("ADA@example.com", "wrong-pw-1", false).wantError(t, 429, uaMsgTooManyLogins)
	// Another account is not affected.
	u.login(t, "bob@example.com", "secret-pw-2")

	// The block ends with the window.
	u.clock.Advance(14 * time.Minute)
	u.loginReq("ada@example.com", "secret-pw-1", false).wantError(t, 429, uaMsgTooManyLogins)
	u.clock.Advance(time.Minute)
	u.login(t, "ada@example.com", "secret-pw-1")

	// A success resets the count.
	fail(4)
	u.login(t, "ada@example.com", "secret-pw-1")
	fail(5)
	u.loginReq("ada@example.com", "secret-pw-1", false).wantError(t, 429, uaMsgTooManyLogins)

	// Unknown addresses are throttled alike.
	for i := 0; i < 5; i++ {
		u.loginReq("ghost@example.com", "wrong-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	}
	u.loginReq("ghost@example.com", "wrong-pw-1", false).wantError(t, 429, uaMsgTooManyLogins)
}
