package server_test

import (
	"testing"
)

func TestGraphQLAuth(t *testing.T) {
	g := gqNew(t)
	pk := gqReq{Key: g.p.PublishableKey}
	const payload = `accessToken refreshToken expiresIn user { _id username name avatarUrl createdAt }`

	d := g.gqDo(pk, `mutation { signUp(email: "Bob@Example.com", password: "Sup3r-secret!", name: "Bob") { `+payload+` } }`, nil).ok(t)
	su := d["signUp"].(map[string]any)
	bob := str(su, "user", "_id")
	if !gqHexID.MatchString(bob) || str(su, "expiresIn") != "15m" || str(su, "accessToken") == "" || !uaRefreshRE.MatchString(str(su, "refreshToken")) {
		t.Fatalf("signUp: %v", su)
	}
	if str(su, "user", "name") != "Bob" || get(su, "user", "username") != nil {
		t.Errorf("user: %v", su["user"])
	}

	// Signing up again with a verified-or-not address: REST's answers.
	r := g.gqDo(pk, `mutation { signUp(email: "bob@example.com", password: "Sup3r-secret!") { accessToken user { _id } } }`, nil)
	if len(r.Errors) == 0 {
		gqWant(t, "unverified sign-up again", r.Data, `{"signUp":{"accessToken":null,"user":{"_id":"`+bob+`"}}}`)
	} else {
		r.gqFails(t, "RATE_LIMITED", 429, r.Errors[0].Message) // a new code within the cooldown
	}
	g.gqDo(pk, `mutation { signUp(email: "nope", password: "Sup3r-secret!") { accessToken } }`, nil).
		gqFails(t, "BAD_USER_INPUT", 400, g.rest("POST", "/api/userAuth/signup", restReq{Key: g.p.PublishableKey, Body: map[string]any{"email": "nope", "password": "Sup3r-secret!"}}).json(t)["message"].(string))

	// me reads the bearer token.
	tok := str(su, "accessToken")
	d = g.gqDo(gqReq{Key: g.p.PublishableKey, Token: tok}, `{ me { _id name username } }`, nil).ok(t)
	gqWant(t, "me", d["me"], `{"_id":"`+bob+`","name":"Bob","username":null}`)
	g.gqDo(pk, `{ me { _id } }`, nil).gqFails(t, "UNAUTHENTICATED", 401, "Access Denied: No Token Provided")

	// login, refresh (rotating), logout.
	g.gqDo(pk, `mutation { login(email: "bob@example.com", password: "wrong-password") { accessToken } }`, nil).
		gqFails(t, "BAD_USER_INPUT", 400, "Invalid email or password")
	d = g.gqDo(pk, `mutation { login(email: "bob@example.com", password: "Sup3r-secret!") { `+payload+` } }`, nil).ok(t)
	rt := str(d, "login", "refreshToken")
	if str(d, "login", "user", "_id") != bob || rt == "" {
		t.Fatalf("login: %v", d)
	}
	d = g.gqDo(pk, `mutation($rt: String!) { refreshToken(refreshToken: $rt) { accessToken refreshToken user { _id } } }`, map[string]any{"rt": rt}).ok(t)
	rt2 := str(d, "refreshToken", "refreshToken")
	if rt2 == "" || rt2 == rt || str(d, "refreshToken", "user", "_id") != bob {
		t.Fatalf("refresh: %v", d)
	}
	g.gqDo(pk, `mutation($rt: String!) { refreshToken(refreshToken: $rt) { accessToken } }`, map[string]any{"rt": rt}).
		gqFails(t, "FORBIDDEN", 403, uaMsgUsedRefresh)
	d = g.gqDo(pk, `mutation { login(email: "bob@example.com", password: "Sup3r-secret!") { refreshToken } }`, nil).ok(t)
	rt3 := str(d, "login", "refreshToken")
	d = g.gqDo(pk, `mutation($rt: String) { logout(refreshToken: $rt) }`, map[string]any{"rt": rt3}).ok(t)
	if d["logout"] != true {
		t.Errorf("logout: %v", d)
	}
	g.gqDo(pk, `mutation($rt: String!) { refreshToken(refreshToken: $rt) { accessToken } }`, map[string]any{"rt": rt3}).
		gqFails(t, "FORBIDDEN", 403, uaMsgUsedRefresh)
	if d := g.gqDo(pk, `mutation { logout }`, nil).ok(t); d["logout"] != true {
		t.Errorf("logout without a token: %v", d)
	}

	// With auth turned off, as REST: refused.
	off := g.createProject(g.tok, map[string]any{"name": "off"})
	g.gql(g.tok, `mutation($p:ID!){updateAuthSettings(projectId:$p,input:{enabled:false}){enabled}}`, map[string]any{"p": off.ID}).ok(t)
	g.gqDo(gqReq{Key: off.PublishableKey}, `mutation { login(email: "bob@example.com", password: "Sup3r-secret!") { accessToken } }`, nil).
		gqFails(t, "FORBIDDEN", 403, uaMsgAuthDisabled)
}
