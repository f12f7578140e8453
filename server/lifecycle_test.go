package server_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/secret"
	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

func TestRestartKeepsEverything(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "kept", "siteUrl": "https://a.example.com", "allowedOrigins": []string{"https://a.example.com"}})
	define(e, tok, p.ID, map[string]any{"name": "notes", "fields": []any{field("title", "String", "unique", true)}, "rls": map[string]any{"enabled": true, "mode": "OWNER_WRITE_ONLY"}}).ok(t)
	e.gql(tok, `mutation{updateAuthSettings(projectId:"`+p.ID+`",input:{requireEmailVerification:true,github:{enabled:true,clientId:"gh-id",clientSecret:"gh-secret-value"}}){enabled}}`, nil).ok(t)

	e.restart()
	if strings.Count(e.console.String(), "password:") != 0 {
		t.Errorf("a configured admin must not be printed: %q", e.console.String())
	}
	tok = e.login() // the old token works too, but log in again as a user would
	d := e.gql(tok, `{project(id:"`+p.ID+`"){name allowedOrigins authSettings{requireEmailVerification github{enabled clientId}}
		collection(name:"notes"){rls{mode} fields{key unique}}}}`, nil).ok(t)
	want := `{"project":{"allowedOrigins":["https://a.example.com"],"authSettings":{"github":{"clientId":"gh-id","enabled":true},"requireEmailVerification":true},"collection":{"fields":[{"key":"title","unique":true}],"rls":{"mode":"OWNER_WRITE_ONLY"}},"name":"kept"}}`
	if got, _ := json.Marshal(d); string(got) != want {
		t.Errorf("after restart:\n got %s\nwant %s", got, want)
	}
	if _, _, err := e.app.Projects.Authenticate(context.Background(), p.SecretKey); err != nil {
		t.Errorf("secret key after restart: %v", err)
	}
	// Only one admin exists: the restart did not create another.
	n, _ := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("admins").CountDocuments(context.Background(), bson.D{})
	if n != 1 {
		t.Errorf("%d admins after restart, want 1", n)
	}
}

func TestWrongMasterKeyRefusesToStart(t *testing.T) {
	e := newEnv(t)
	e.stop()
	cfg := e.cfg
	cfg.MasterKey = hex.EncodeToString(secret.NewKey())
	_, err := server.New(context.Background(), cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
	if err == nil || !strings.Contains(err.Error(), "UB_MASTER_KEY is not the key this database was set up with") {
		t.Errorf("got %v, want a master key mismatch", err)
	}
	cfg.MasterKey = "short"
	if _, err := server.New(context.Background(), cfg, &net.TCPAddr{}); err == nil || !strings.Contains(err.Error(), "UB_MASTER_KEY must be 32 bytes") {
		t.Errorf("got %v, want a master key format error", err)
	}
	cfg.MasterKey = ""
	if _, err := server.New(context.Background(), cfg, &net.TCPAddr{}); err == nil || !strings.Contains(err.Error(), "UB_MASTER_KEY is required with UB_MONGODB_URI") {
		t.Errorf("got %v, want master key required", err)
	}
}

func TestGeneratedAdminPasswordIsPrintedOnce(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AdminEmail, c.AdminPassword = "", "" })
	out := e.console.String()
	_, after, ok := strings.Cut(out, "password: ")
	if !ok {
		t.Fatalf("console: %q, want a generated password", out)
	}
	pw := strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
	if len(pw) < 20 {
		t.Errorf("generated password %q is too short", pw)
	}
	e.loginAs("admin@urbackend.local", pw)
	if strings.Contains(e.logs.String(), pw) {
		t.Error("the generated password appears in the logs")
	}
	e.restart()
	if n := strings.Count(e.console.String(), "password: "); n != 1 {
		t.Errorf("password printed %d times, want once", n)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/api/health", nil)
	res, body := e.do(req)
	var h struct {
		Status       string            `json:"status"`
		Timestamp    string            `json:"timestamp"`
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || h.Status != "ok" || h.Dependencies["mongodb"] != "connected" || !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("got %d %s", res.StatusCode, body)
	}
	if _, err := time.Parse(time.RFC3339, h.Timestamp); err != nil {
		t.Errorf("timestamp %q: %v", h.Timestamp, err)
	}

	// With the database connections closed, health says so.
	handler := e.app.Handler()
	e.app.Close(context.Background())
	rec := newRecorder()
	handler.ServeHTTP(rec, httptestRequest("GET", "/api/health"))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"status":"error"`) || !strings.Contains(rec.Body.String(), `"mongodb":"disconnected"`) {
		t.Errorf("got %d %s, want 503 with mongodb disconnected", rec.Code, rec.Body.String())
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/api/nothing", nil)
	res, body := e.do(req)
	if res.StatusCode != 404 || body != `{"success":false,"error":"Not Found","message":"Not Found","code":404}`+"\n" {
		t.Errorf("got %d %q", res.StatusCode, body)
	}
}

func TestAuthSettings(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	bare := e.createProject(tok, map[string]any{"name": "no site"})
	e.gql(tok, `mutation{updateAuthSettings(projectId:"`+bare.ID+`",input:{github:{enabled:true,clientId:"x",clientSecret:"y"}}){enabled}}`, nil).
		fails(t, "BAD_USER_INPUT", "set the project's siteUrl before enabling github sign-in")
	p := e.createProject(tok, map[string]any{"name": "p", "siteUrl": "https://app.example.com"})
	q := `mutation($p:ID!,$in:AuthSettingsInput!){updateAuthSettings(projectId:$p,input:$in){enabled allowPublicSignups requireEmailVerification
		github{enabled clientId callbackUrl} google{enabled clientId callbackUrl}}}`
	d := e.gql(tok, q, map[string]any{"p": p.ID, "in": map[string]any{
		"enabled": true, "allowPublicSignups": false,
		"google": map[string]any{"enabled": true, "clientId": "g-id", "clientSecret": "google-secret-value"},
	}}).ok(t)
	want := `{"updateAuthSettings":{"allowPublicSignups":false,"enabled":true,"github":{"callbackUrl":"https://api.example.test/api/userAuth/social/github/callback","clientId":"","enabled":false},"google":{"callbackUrl":"https://api.example.test/api/userAuth/social/google/callback","clientId":"g-id","enabled":true},"requireEmailVerification":false}}`
	if got, _ := json.Marshal(d); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Keeping the stored secret: no clientSecret given.
	e.gql(tok, q, map[string]any{"p": p.ID, "in": map[string]any{"google": map[string]any{"enabled": true, "clientId": "g-id-2"}}}).ok(t)
	// Enabling a provider without a secret is refused.
	e.gql(tok, q, map[string]any{"p": p.ID, "in": map[string]any{"github": map[string]any{"enabled": true, "clientId": "x"}}}).
		fails(t, "BAD_USER_INPUT", "github sign-in needs a clientId and a clientSecret")

	pid, _ := bson.ObjectIDFromHex(p.ID)
	var raw bson.M
	if err := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("projects").FindOne(context.Background(), bson.D{{Key: "_id", Value: pid}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	stored, _ := bson.MarshalExtJSON(raw, false, false)
	if strings.Contains(string(stored), "google-secret-value") {
		t.Errorf("the client secret is stored in the clear: %s", stored)
	}
	proj, err := e.app.Projects.Get(context.Background(), mustAdminID(t, e), pid)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := e.app.Projects.OAuthClientSecret(proj, "google"); err != nil || s != "google-secret-value" {
		t.Errorf("sealed client secret opens to %q, %v", s, err)
	}
}

func mustAdminID(t *testing.T, e *env) bson.ObjectID {
	var a struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("admins").FindOne(context.Background(), bson.D{}).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// TestSecretsNeverLeak drives every admin operation, then checks that no
// response body (outside the one that hands out a key) and no log line
// contains a secret.
func TestSecretsNeverLeak(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	own := testdb.Name(t)
	uri := strings.TrimSuffix(testdb.URI(t), "/") + "/" + own
	p := e.createProject(tok, map[string]any{"name": "p", "siteUrl": "https://app.example.com", "databaseUri": uri})
	e.mu.Lock()
	e.bodies = nil // the create response hands out the secret key, as it must
	e.mu.Unlock()
	rotated := str(e.gql(tok, `mutation{rotateKey(projectId:"`+p.ID+`",kind:SECRET)}`, nil).ok(t), "rotateKey")
	e.mu.Lock()
	e.bodies = nil
	e.mu.Unlock()

	define(e, tok, p.ID, map[string]any{"name": "c", "fields": []any{field("a", "String", "unique", true)}}).ok(t)
	e.gql(tok, `mutation{updateAuthSettings(projectId:"`+p.ID+`",input:{github:{enabled:true,clientId:"id",clientSecret:"oauth-client-secret-xyz"}}){enabled}}`, nil).ok(t)
	e.gql(tok, `mutation{updateProject(id:"`+p.ID+`",input:{databaseUri:"`+uri+`"}){id}}`, nil).ok(t)
	e.gql(tok, `{projects{id name description publishableKey siteUrl allowedOrigins externalDatabase createdAt
		authSettings{enabled github{enabled clientId callbackUrl} google{clientId}} collections{name documentCount fields{key}}}}`, nil).ok(t)
	e.gql(tok, `{__schema{types{name fields{name}}}}`, nil).ok(t)
	e.gql("", `mutation{adminLogin(email:"`+adminEmail+`",password:"wrong password"){token}}`, nil)
	e.gql("", `mutation{createProject(input:{name:"x",databaseUri:"mongodb://user:hunter2pass@127.0.0.1:1/db"}){secretKey}}`, nil)

	secrets := map[string]string{
		"secret key":        p.SecretKey,
		"rotated key":       rotated,
		"database uri":      own,
		"oauth secret":      "oauth-client-secret-xyz",
		"admin password":    adminPassword,
		"uri password":      "hunter2pass",
		"admin token":       tok,
		"master key":        e.cfg.MasterKey,
		"secret key hash":   secret.Hash(p.SecretKey),
		"jwtSecret field":   "jwtSecret",
		"secretKeyHash key": "secretKeyHash",
		"clientSecret key":  "clientSecret",
	}
	e.mu.Lock()
	bodies := strings.Join(e.bodies, "\n")
	e.mu.Unlock()
	logs := e.logs.String()
	for name, s := range secrets {
		if strings.Contains(bodies, s) {
			t.Errorf("%s appears in a response", name)
		}
		if strings.Contains(logs, s) {
			t.Errorf("%s appears in the logs", name)
		}
	}
}
