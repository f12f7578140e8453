package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWebhooksAccountEvents: a webhook on users.* hears sign-ups, profile
// changes and deletions, never with the password hash.
func TestWebhooksAccountEvents(t *testing.T) {
	e, tok, p := whEnv(t, []time.Duration{time.Second})
	rcv := whListen(t, nil)
	_, secret := whCreate(t, e, tok, p.ID, rcv.url(), "users.*")

	r := e.rest(http.MethodPost, "/api/userAuth/signup", restReq{Key: p.PublishableKey, Body: map[string]any{"email": "Ann@Example.com", "password": "secret12", "username": "ann"}})
	if r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	uid := str(r.json(t), "userId")
	access := str(r.json(t), "accessToken")
	if r := e.rest(http.MethodPut, "/api/userAuth/update-profile", restReq{Key: p.PublishableKey, Token: access, Body: map[string]any{"name": "Ann B"}}); r.Status != 200 {
		t.Fatalf("update-profile: %d %s", r.Status, r.Body)
	}
	e.gql(tok, `mutation{deleteUser(projectId:"`+p.ID+`",userId:"`+uid+`")}`, nil).ok(t)

	hits := rcv.nextN(t, 3)
	for i, want := range []string{"users.insert", "users.update", "users.delete"} {
		body := whVerify(t, secret, hits[i])
		if hits[i].event() != want || body["documentId"] != uid || str(body, "data", "email") != "ann@example.com" {
			t.Errorf("event %d: %s %v, want %s for %s", i, hits[i].event(), body, want, uid)
		}
		if strings.Contains(string(hits[i].Body), "password") || strings.Contains(string(hits[i].Body), "$2a$") {
			t.Errorf("event %d carries the password: %s", i, hits[i].Body)
		}
	}
	if got := str(whVerify(t, secret, hits[1]), "data", "name"); got != "Ann B" {
		t.Errorf("update event name: %q, want Ann B", got)
	}
}
