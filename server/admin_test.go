package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/urbackend/urbackend/server"
)

func TestAdminLogin(t *testing.T) {
	e := newEnv(t)
	d := e.gql("", `mutation{adminLogin(email:"OWNER@example.com ",password:"correct horse battery"){token admin{id email}}}`, nil).ok(t)
	if got := str(d, "adminLogin", "admin", "email"); got != adminEmail {
		t.Errorf("got email %q, want %q", got, adminEmail)
	}
	tok := str(d, "adminLogin", "token")
	me := e.gql(tok, `{me{email}}`, nil).ok(t)
	if got := str(me, "me", "email"); got != adminEmail {
		t.Errorf("me: got %q, want %q", got, adminEmail)
	}

	for name, vars := range map[string]map[string]any{
		"wrong password": {"e": adminEmail, "p": "wrong password!"},
		"unknown e-mail": {"e": "nobody@example.com", "p": adminPassword},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.gql("", `mutation($e:String!,$p:String!){adminLogin(email:$e,password:$p){token}}`, vars)
			r.fails(t, "UNAUTHENTICATED", "invalid e-mail or password")
		})
	}
}

func TestAdminOperationsNeedToken(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})

	// A token signed with another key, one with alg none, and an expired one.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "000000000000000000000000", Audience: jwt.ClaimStrings{"urbackend-admin"}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString([]byte("not the key"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: "000000000000000000000000", Audience: jwt.ClaimStrings{"urbackend-admin"}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tokens := map[string]string{"no token": "", "garbage": "abc.def.ghi", "forged": forged, "alg none": none}

	ops := map[string]string{
		"me":                 `{me{id}}`,
		"projects":           `{projects{id}}`,
		"project":            `{project(id:"` + p.ID + `"){id}}`,
		"createProject":      `mutation{createProject(input:{name:"x"}){secretKey}}`,
		"updateProject":      `mutation{updateProject(id:"` + p.ID + `",input:{name:"y"}){id}}`,
		"deleteProject":      `mutation{deleteProject(id:"` + p.ID + `")}`,
		"rotateKey":          `mutation{rotateKey(projectId:"` + p.ID + `",kind:SECRET)}`,
		"defineCollection":   `mutation{defineCollection(projectId:"` + p.ID + `",input:{name:"c",fields:[]}){name}}`,
		"dropCollection":     `mutation{dropCollection(projectId:"` + p.ID + `",name:"c")}`,
		"updateAuthSettings": `mutation{updateAuthSettings(projectId:"` + p.ID + `",input:{enabled:false}){enabled}}`,
		"createAdmin":        `mutation{createAdmin(email:"x@example.com",password:"long enough pw"){id}}`,
	}
	for tname, token := range tokens {
		for op, q := range ops {
			t.Run(tname+"/"+op, func(t *testing.T) {
				e.gql(token, q, nil).fails(t, "UNAUTHENTICATED", "")
			})
		}
	}
	// Nothing was changed by the refused calls.
	d := e.gql(tok, `{projects{id name}}`, nil).ok(t)
	if ps := get(d, "projects").([]any); len(ps) != 1 || str(ps[0], "name") != "p" {
		t.Errorf("got projects %v, want the one project named p", ps)
	}
}

func TestAdminTokenExpires(t *testing.T) {
	// The clock is read by background work too: keep it race-free.
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	e := newEnv(t, func(c *server.Config) { c.Now = clock; c.AdminTokenTTL = time.Hour })
	tok := e.login()
	e.gql(tok, `{me{id}}`, nil).ok(t)
	now.Add(int64(time.Hour + time.Second))
	e.gql(tok, `{me{id}}`, nil).fails(t, "UNAUTHENTICATED", "")
}

func TestAdminsSeeOnlyTheirProjects(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	pa := e.createProject(a, map[string]any{"name": "A's"})

	e.gql(a, `mutation{createAdmin(email:"second@example.com",password:"another long pw"){email}}`, nil).ok(t)
	e.gql(a, `mutation{createAdmin(email:"second@example.com",password:"another long pw"){email}}`, nil).
		fails(t, "CONFLICT", "already exists")
	e.gql(a, `mutation{createAdmin(email:"third@example.com",password:"short"){email}}`, nil).
		fails(t, "BAD_USER_INPUT", "at least 10 characters")
	e.gql(a, `mutation{createAdmin(email:"not-an-email",password:"another long pw"){email}}`, nil).
		fails(t, "BAD_USER_INPUT", "invalid e-mail")

	b := e.loginAs("second@example.com", "another long pw")
	pb := e.createProject(b, map[string]any{"name": "B's"})

	d := e.gql(b, `{projects{id name}}`, nil).ok(t)
	if ps := get(d, "projects").([]any); len(ps) != 1 || str(ps[0], "id") != pb.ID {
		t.Errorf("B sees %v, want only its own project", ps)
	}
	if d := e.gql(b, `{project(id:"`+pa.ID+`"){id}}`, nil).ok(t); d["project"] != nil {
		t.Errorf("B reads A's project: %v", d)
	}
	for _, q := range []string{
		`mutation{updateProject(id:"` + pa.ID + `",input:{name:"mine"}){id}}`,
		`mutation{deleteProject(id:"` + pa.ID + `")}`,
		`mutation{rotateKey(projectId:"` + pa.ID + `",kind:SECRET)}`,
		`mutation{defineCollection(projectId:"` + pa.ID + `",input:{name:"c",fields:[]}){name}}`,
		`mutation{dropCollection(projectId:"` + pa.ID + `",name:"c")}`,
		`mutation{updateAuthSettings(projectId:"` + pa.ID + `",input:{enabled:false}){enabled}}`,
	} {
		name, _, _ := strings.Cut(strings.TrimPrefix(q, "mutation{"), "(")
		t.Run(name, func(t *testing.T) {
			e.gql(b, q, nil).fails(t, "NOT_FOUND", "project not found")
		})
	}
	d = e.gql(a, `{project(id:"`+pa.ID+`"){name collections{name}}}`, nil).ok(t)
	if got := str(d, "project", "name"); got != "A's" {
		t.Errorf("A's project name is now %q, want unchanged", got)
	}
}
