package server_test

import (
	"net/http"
	"testing"
)

func TestAdminDataBrowserAndUsers(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	define(e, tok, p.ID, map[string]any{"name": "notes", "fields": []any{field("title", "String", "required", true), field("n", "Number")}}).ok(t)

	ins := `mutation($p:ID!,$d:JSON!){insertDocument(projectId:$p,collection:"notes",doc:$d)}`
	a := e.gql(tok, ins, map[string]any{"p": p.ID, "d": map[string]any{"title": "a", "n": 1}}).ok(t)
	id := str(a, "insertDocument", "_id")
	e.gql(tok, ins, map[string]any{"p": p.ID, "d": map[string]any{"title": "b", "n": 5}}).ok(t)
	e.gql(tok, ins, map[string]any{"p": p.ID, "d": map[string]any{"n": 5}}).fails(t, "BAD_USER_INPUT", "Field 'title' is required.")

	d := e.gql(tok, `{documents(projectId:"`+p.ID+`",collection:"notes",query:"n_gt=2"){total items}}`, nil).ok(t)
	if get(d, "documents", "total") != float64(1) || str(get(d, "documents", "items").([]any)[0], "title") != "b" {
		t.Errorf("documents n_gt=2: %v", d)
	}
	e.gql(tok, `{documents(projectId:"`+p.ID+`",collection:"notes",query:"n_gt=x"){total}}`, nil).fails(t, "BAD_USER_INPUT", "expected a number")
	e.gql(tok, `{documents(projectId:"`+p.ID+`",collection:"nope"){total}}`, nil).fails(t, "NOT_FOUND", "Collection not found")

	up := e.gql(tok, `mutation($p:ID!,$id:ID!){updateDocument(projectId:$p,collection:"notes",id:$id,set:{n:9})}`, map[string]any{"p": p.ID, "id": id}).ok(t)
	if get(up, "updateDocument", "n") != float64(9) {
		t.Errorf("update: %v", up)
	}
	e.gql(tok, `mutation($p:ID!,$id:ID!){deleteDocument(projectId:$p,collection:"notes",id:$id)}`, map[string]any{"p": p.ID, "id": id}).ok(t)
	e.gql(tok, `mutation($p:ID!,$id:ID!){deleteDocument(projectId:$p,collection:"notes",id:$id)}`, map[string]any{"p": p.ID, "id": id}).fails(t, "NOT_FOUND", "Document not found.")

	// Users: sign one up through the REST API, find, revoke, delete.
	r := e.rest(http.MethodPost, "/api/userAuth/signup", restReq{Key: p.PublishableKey, Headers: map[string]string{"x-refresh-token-mode": "header"}, Body: map[string]any{"email": "Ann@Example.com", "password": "secret12", "username": "ann"}})
	if r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	rt := str(r.json(t), "refreshToken")
	uid := str(r.json(t), "userId")
	u := e.gql(tok, `{users(projectId:"`+p.ID+`",search:"ANN"){total items{id email username emailVerified authProviders}}}`, nil).ok(t)
	if get(u, "users", "total") != float64(1) || str(get(u, "users", "items").([]any)[0], "email") != "ann@example.com" {
		t.Errorf("users: %v", u)
	}
	if d := e.gql(tok, `{users(projectId:"`+p.ID+`",search:"zed"){total}}`, nil).ok(t); get(d, "users", "total") != float64(0) {
		t.Errorf("search zed: %v", d)
	}
	e.gql(tok, `mutation{revokeUserSessions(projectId:"`+p.ID+`",userId:"`+uid+`")}`, nil).ok(t)
	if r := e.rest(http.MethodPost, "/api/userAuth/refresh-token", restReq{Key: p.PublishableKey, Headers: map[string]string{"x-refresh-token": rt}}); r.Status != 403 {
		t.Errorf("refresh after revoke: %d %s", r.Status, r.Body)
	}
	e.gql(tok, `mutation{deleteUser(projectId:"`+p.ID+`",userId:"`+uid+`")}`, nil).ok(t)
	e.gql(tok, `mutation{deleteUser(projectId:"`+p.ID+`",userId:"`+uid+`")}`, nil).fails(t, "NOT_FOUND", "User not found")

	// Another admin cannot browse this project.
	e.gql(tok, `mutation{createAdmin(email:"b@example.com",password:"another long pw"){id}}`, nil).ok(t)
	other := e.loginAs("b@example.com", "another long pw")
	e.gql(other, `{documents(projectId:"`+p.ID+`",collection:"notes"){total}}`, nil).fails(t, "NOT_FOUND", "project not found")
}
