package server_test

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestUserAuthPublicProfile checks §5.3.4: only public fields, exact
// username match.
func TestUserAuthPublicProfile(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", map[string]any{"username": "ada", "name": "Ada"})
	u.code(t, "ada@example.com", "Verify your account")
	// Fields only the server (or social sign-in) sets.
	if _, err := u.users(t).UpdateOne(t.Context(), bson.D{{Key: "email", Value: "ada@example.com"}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "emailVerified", Value: true}, {Key: "githubId", Value: "gh-1"}, {Key: "authProviders", Value: bson.A{"github"}},
		{Key: "avatarUrl", Value: "https://example.com/a.png"}, {Key: "bio", Value: "hidden"},
	}}}); err != nil {
		t.Fatal(err)
	}

	r := u.call("GET", "/public/ada", restReq{})
	if r.Status != 200 {
		t.Fatalf("public profile: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	uaWantKeys(t, "public profile", b, "_id", "username", "name", "avatarUrl", "createdAt", "updatedAt")
	if b["_id"] != ada.UserID || b["username"] != "ada" || b["name"] != "Ada" || b["avatarUrl"] != "https://example.com/a.png" {
		t.Errorf("public profile: got %v", b)
	}
	// With the secret key as well.
	if r := u.call("GET", "/public/ada", restReq{Key: u.p.SecretKey}); r.Status != 200 || r.Body != u.call("GET", "/public/ada", restReq{}).Body {
		t.Errorf("public profile with sk: got %d %s", r.Status, r.Body)
	}
	u.call("GET", "/public/ADA", restReq{}).wantError(t, 404, "User not found")
	u.call("GET", "/public/nobody", restReq{}).wantError(t, 404, "User not found")
	// Another project's users are not visible.
	q := u.createProject(u.tok, map[string]any{"name": "q"})
	u.call("GET", "/public/ada", restReq{Key: q.PublishableKey}).wantError(t, 404, "User not found")
}

// TestUserAuthUpdateProfile checks §5.3.6: only allowed fields change.
func TestUserAuthUpdateProfile(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", map[string]any{"username": "ada"})
	u.signup(t, "bob@example.com", "secret-pw-2", map[string]any{"username": "bob"})
	updated := map[string]any{"message": "Profile updated successfully"}
	put := func(token string, body any) restResult {
		t.Helper()
		return u.call("PUT", "/update-profile", restReq{Token: token, Body: body})
	}

	put("", map[string]any{"name": "x"}).wantError(t, 401, "Access Denied: No Token Provided")
	put("garbage", map[string]any{"name": "x"}).wantError(t, 401, "Access Denied: Invalid or expired token")
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"username short", map[string]any{"username": "ab"}, "Username must be between 3 and 50 characters."},
		{"username long", map[string]any{"username": uaRepeat("u", 51)}, "Username must be between 3 and 50 characters."},
		{"username not a string", map[string]any{"username": 12345}, "Username must be between 3 and 50 characters."},
		{"not an object", `["name"]`, "Request body must be a JSON object."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(ada.Access, tc.body).wantError(t, 400, tc.want)
		})
	}
	put(ada.Access, map[string]any{"username": "bob"}).wantError(t, 409, "Username is already taken.")

	before := u.meOK(t, ada.Access)
	u.clock.Advance(time.Minute)
	// Allowed fields change; privileged ones are ignored.
	uaWantBody(t, put(ada.Access, map[string]any{
		"name": "Ada L", "username": " ada2 ", "bio": "hi",
		"emailVerified": true, "githubId": "gh-evil", "googleId": "g-evil", "authProviders": []string{"github"},
		"email": "evil@example.com", "password": "hacked-pw-1", "_id": "0123456789abcdef01234567",
		"createdAt": "2000-01-01T00:00:00.000Z", "__v": 7,
	}), 200, updated)
	me := u.meOK(t, ada.Access)
	uaWantKeys(t, "/me after update", me, "_id", "email", "username", "name", "bio", "emailVerified", "createdAt", "updatedAt", "__v")
	want := map[string]any{"_id": ada.UserID, "email": "ada@example.com", "username": "ada2", "name": "Ada L", "bio": "hi", "emailVerified": false, "createdAt": before["createdAt"], "__v": float64(0)}
	for k, v := range want {
		if me[k] != v {
			t.Errorf("/me %s: got %v, want %v", k, me[k], v)
		}
	}
	if me["updatedAt"] == before["updatedAt"] {
		t.Errorf("updatedAt: got %v, want it moved on", me["updatedAt"])
	}
	u.loginReq("ada@example.com", "hacked-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	u.loginReq("evil@example.com", "secret-pw-1", false).wantError(t, 400, uaMsgBadLogin)
	u.login(t, "ada@example.com", "secret-pw-1")

	// Nor through other spellings: case, spaces, dotted paths.
	uaWantBody(t, put(ada.Access, map[string]any{
		"EmailVerified": true, " githubId ": "gh-evil", "authProviders.0": "github", "googleId.x": "y",
		"PASSWORD": "hacked-pw-2",
	}), 200, updated)
	doc := u.storedUser(t, "ada@example.com")
	for _, k := range []string{"githubId", "googleId", "authProviders", "EmailVerified", "PASSWORD", " githubId "} {
		if v, ok := doc[k]; ok {
			t.Errorf("stored user: got %s = %v, want it absent", k, v)
		}
	}
	if doc["emailVerified"] != false {
		t.Errorf("stored emailVerified: got %v, want false", doc["emailVerified"])
	}

	// The user no longer exists: still 200.
	uaWantBody(t, put(u.userToken(u.p.ID, "0123456789abcdef01234567"), map[string]any{"name": "x"}), 200, updated)
}

// TestUserAuthChangePassword checks §5.3.5 and that the user's other
// sessions are revoked.
func TestUserAuthChangePassword(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", nil)
	changed := map[string]any{"message": "Password changed successfully"}
	put := func(token string, body any, headers map[string]string) restResult {
		t.Helper()
		return u.call("PUT", "/change-password", restReq{Token: token, Body: body, Headers: headers})
	}

	put("", nil, nil).wantError(t, 401, "Access Denied: No Token Provided")
	put("garbage", nil, nil).wantError(t, 401, "Access Denied: Invalid or expired token")
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no body", nil, "Invalid input: expected string, received undefined"},
		{"current not a string", map[string]any{"currentPassword": 1, "newPassword": "new-pw-123"}, "Invalid input: expected string, received number"},
		{"current empty", map[string]any{"currentPassword": "", "newPassword": "new-pw-123"}, "Current password is required"},
		{"new missing", map[string]any{"currentPassword": "secret-pw-1"}, "Invalid input: expected string, received undefined"},
		{"new short", map[string]any{"currentPassword": "secret-pw-1", "newPassword": "12345"}, "New password must be at least 6 characters"},
		{"wrong current", map[string]any{"currentPassword": "wrong-pw-1", "newPassword": "new-pw-123"}, "Invalid current password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(ada.Access, tc.body, nil).wantError(t, 400, tc.want)
		})
	}
	put(u.userToken(u.p.ID, "0123456789abcdef01234567"), map[string]any{"currentPassword": "secret-pw-1", "newPassword": "new-pw-123"}, nil).wantError(t, 404, "User not found")

	// The session that changes the password (its refresh token sent
	// along) stays; the user's other sessions are revoked.
	mine := u.login(t, "ada@example.com", "secret-pw-1")
	other := u.login(t, "ada@example.com", "secret-pw-1")
	u.addLogSecret("new-pw-123")
	uaWantBody(t, put(mine.Access, map[string]any{"currentPassword": "secret-pw-1", "newPassword": "new-pw-123"}, map[string]string{"x-refresh-token": mine.Refresh}), 200, changed)
	u.refreshOK(t, mine.Refresh)
	u.refresh(other.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	u.refresh(ada.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	u.loginReq("ada@example.com", "secret-pw-1", false).wantError(t, 400, uaMsgBadLogin)

	// Through the cookie as well.
	mine = u.login(t, "ada@example.com", "new-pw-123")
	other = u.login(t, "ada@example.com", "new-pw-123")
	long := uaRepeat("N", 100)
	u.addLogSecret(long)
	uaWantBody(t, put(mine.Access, map[string]any{"currentPassword": "new-pw-123", "newPassword": long}, map[string]string{"Cookie": "refreshToken=" + mine.Refresh}), 200, changed)
	u.refreshOK(t, mine.Refresh)
	u.refresh(other.Refresh).wantError(t, 403, uaMsgUsedRefresh)

	// Without a refresh token the session the access token belongs to
	// stays (its id travels in the token), the others go.
	mine = u.login(t, "ada@example.com", long)
	other = u.login(t, "ada@example.com", long)
	u.addLogSecret("third-pw-1")
	uaWantBody(t, put(mine.Access, map[string]any{"currentPassword": long, "newPassword": "third-pw-1"}, nil), 200, changed)
	u.refreshOK(t, mine.Refresh)
	u.refresh(other.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	u.login(t, "ada@example.com", "third-pw-1")

	// A token that names no session (minted elsewhere) spares none.
	mine = u.login(t, "ada@example.com", "third-pw-1")
	u.addLogSecret("fourth-pw-1")
	uaWantBody(t, put(u.userToken(u.p.ID, ada.UserID), map[string]any{"currentPassword": "third-pw-1", "newPassword": "fourth-pw-1"}, nil), 200, changed)
	u.refresh(mine.Refresh).wantError(t, 403, uaMsgUsedRefresh)
	// Access tokens stay valid until they expire.
	u.meOK(t, mine.Access)
}

// TestUserAuthPopulate checks that a Ref to users populates the public
// profile only.
func TestUserAuthPopulate(t *testing.T) {
	u := uaNew(t)
	ada := u.signup(t, "ada@example.com", "secret-pw-1", map[string]any{"username": "ada", "name": "Ada"})
	if _, err := u.users(t).UpdateOne(t.Context(), bson.D{{Key: "email", Value: "ada@example.com"}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "githubId", Value: "gh-1"}, {Key: "authProviders", Value: bson.A{"github"}}, {Key: "bio", Value: "private"},
	}}}); err != nil {
		t.Fatal(err)
	}
	define(u.env, u.tok, u.p.ID, map[string]any{"name": "posts", "fields": []any{
		field("title", "String"),
		field("owner", "Ref", "ref", "users"),
		field("fans", "Array", "items", map[string]any{"type": "Ref", "ref": "users"}),
	}}).ok(t)
	ins := u.rest("POST", "/api/data/posts", restReq{Key: u.p.SecretKey, Body: map[string]any{"title": "t", "owner": ada.UserID, "fans": []string{ada.UserID}}})
	if ins.Status != 201 {
		t.Fatalf("insert: got %d %s, want 201", ins.Status, ins.Body)
	}
	pid := str(ins.json(t), "_id")

	wantUser := func(t *testing.T, what string, v any) {
		t.Helper()
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: got %v, want a user object", what, v)
		}
		uaWantKeys(t, what, m, "_id", "username", "name", "createdAt", "updatedAt")
		if m["_id"] != ada.UserID || m["username"] != "ada" || m["name"] != "Ada" {
			t.Errorf("%s: got %v", what, m)
		}
	}
	for _, key := range []string{u.p.SecretKey, u.p.PublishableKey} {
		r := u.rest("GET", "/api/data/posts/"+pid+"?populate=owner,fans", restReq{Key: key})
		if r.Status != 200 {
			t.Fatalf("get populated: got %d %s, want 200", r.Status, r.Body)
		}
		doc := r.json(t)
		wantUser(t, "populated owner", doc["owner"])
		fans, _ := doc["fans"].([]any)
		if len(fans) != 1 {
			t.Fatalf("populated fans: got %v, want one user", doc["fans"])
		}
		wantUser(t, "populated fan", fans[0])

		r = u.rest("GET", "/api/data/posts?populate=owner", restReq{Key: key})
		if r.Status != 200 {
			t.Fatalf("list populated: got %d %s, want 200", r.Status, r.Body)
		}
		items, _ := get(r.json(t), "data", "items").([]any)
		if len(items) != 1 {
			t.Fatalf("list: got %s, want one item", r.Body)
		}
		wantUser(t, "listed owner", get(items[0], "owner"))
	}
}
