package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/server"
	"github.com/urbackend/urbackend/testdb"
)

func TestCreateProject(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	d := e.gql(tok, `mutation{createProject(input:{name:" Shop ",description:"d",siteUrl:"https://shop.example.com/",allowedOrigins:["https://shop.example.com","*.example.org","localhost"]}){
		secretKey project{id name description siteUrl publishableKey allowedOrigins externalDatabase createdAt
		authSettings{enabled allowPublicSignups requireEmailVerification github{enabled clientId callbackUrl} google{callbackUrl}}}}}`, nil).ok(t)
	p := get(d, "createProject", "project").(map[string]any)
	sk := str(d, "createProject", "secretKey")
	pk := str(p, "publishableKey")
	if !strings.HasPrefix(pk, "pk_live_") || len(pk) != 51 {
		t.Errorf("publishable key %q: want pk_live_ and 51 characters", pk)
	}
	if !strings.HasPrefix(sk, "sk_live_") || len(sk) != 51 {
		t.Errorf("secret key %q: want sk_live_ and 51 characters", sk)
	}
	for k, want := range map[string]any{"name": "Shop", "description": "d", "siteUrl": "https://shop.example.com", "externalDatabase": false} {
		if p[k] != want {
			t.Errorf("%s: got %v, want %v", k, p[k], want)
		}
	}
	if got := str(p, "authSettings", "github", "callbackUrl"); got != "https://api.example.test/api/userAuth/social/github/callback" {
		t.Errorf("github callbackUrl: got %q", got)
	}

	// Stored: the secret key only as its hash, the JWT secret sealed.
	var raw bson.M
	id, _ := bson.ObjectIDFromHex(str(p, "id"))
	if err := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("projects").FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	doc, _ := bson.MarshalExtJSON(raw, false, false)
	if strings.Contains(string(doc), sk) || strings.Contains(string(doc), strings.TrimPrefix(sk, "sk_live_")) {
		t.Errorf("the stored project contains the secret key: %s", doc)
	}
	if js, _ := raw["jwtSecret"].(string); !strings.HasPrefix(js, "v1:") || len(js) < 60 {
		t.Errorf("jwtSecret stored as %q, want a sealed value", js)
	}

	// A default project has no description or site, and allows every origin.
	d = e.gql(tok, `mutation{createProject(input:{name:"Bare"}){project{description siteUrl allowedOrigins}}}`, nil).ok(t)
	if get(d, "createProject", "project", "description") != nil || get(d, "createProject", "project", "siteUrl") != nil {
		t.Errorf("got %v, want null description and siteUrl", d)
	}
	if o := get(d, "createProject", "project", "allowedOrigins").([]any); len(o) != 1 || o[0] != "*" {
		t.Errorf("allowedOrigins: got %v, want [*]", o)
	}
}

func TestCreateProjectRejects(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	for _, tc := range []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"empty name", map[string]any{"name": "  "}, "project name is required"},
		{"long name", map[string]any{"name": strings.Repeat("n", 101)}, "at most 100"},
		{"site not a URL", map[string]any{"name": "p", "siteUrl": "shop.example.com"}, "siteUrl must be an absolute http(s) URL"},
		{"site ftp", map[string]any{"name": "p", "siteUrl": "ftp://x.com"}, "siteUrl must be"},
		{"origins empty", map[string]any{"name": "p", "allowedOrigins": []string{}}, "allowedOrigins must not be empty"},
		{"origin with path", map[string]any{"name": "p", "allowedOrigins": []string{"https://a.com/app"}}, `"https://a.com/app" is not an origin`},
		{"origin bad host", map[string]any{"name": "p", "allowedOrigins": []string{"exa mple.com"}}, "is not an origin"},
		{"origin bad scheme", map[string]any{"name": "p", "allowedOrigins": []string{"ws://a.com"}}, "is not an origin"},
		{"malformed databaseUri", map[string]any{"name": "p", "databaseUri": "postgres://x"}, "invalid MongoDB connection string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.gql(tok, `mutation($in:CreateProjectInput!){createProject(input:$in){secretKey}}`, map[string]any{"in": tc.input}).
				fails(t, "BAD_USER_INPUT", tc.want)
		})
	}
	d := e.gql(tok, `{projects{id}}`, nil).ok(t)
	if n := len(get(d, "projects").([]any)); n != 0 {
		t.Errorf("got %d projects after refused creates, want 0", n)
	}
}

func TestUpdateProject(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p", "description": "old"})
	d := e.gql(tok, `mutation{updateProject(id:"`+p.ID+`",input:{name:"new",allowedOrigins:["https://a.example.com/"],description:""}){name description allowedOrigins siteUrl}}`, nil).ok(t)
	u := get(d, "updateProject").(map[string]any)
	if u["name"] != "new" || u["description"] != nil || u["siteUrl"] != nil {
		t.Errorf("got %v", u)
	}
	if o := u["allowedOrigins"].([]any); len(o) != 1 || o[0] != "https://a.example.com" {
		t.Errorf("allowedOrigins: got %v, want [https://a.example.com]", o)
	}
	e.gql(tok, `mutation{updateProject(id:"`+p.ID+`",input:{siteUrl:"nope"}){name}}`, nil).fails(t, "BAD_USER_INPUT", "siteUrl")
	e.gql(tok, `mutation{updateProject(id:"not-an-id",input:{name:"x"}){name}}`, nil).fails(t, "BAD_USER_INPUT", "invalid project id")
	e.gql(tok, `mutation{updateProject(id:"000000000000000000000000",input:{name:"x"}){name}}`, nil).fails(t, "NOT_FOUND", "project not found")
	d = e.gql(tok, `{project(id:"`+p.ID+`"){name}}`, nil).ok(t)
	if got := str(d, "project", "name"); got != "new" {
		t.Errorf("after a refused update the name is %q, want new", got)
	}
}

func TestRotateKey(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	ctx := context.Background()

	for _, k := range []string{p.SecretKey, p.PublishableKey} {
		if _, _, err := e.app.Projects.Authenticate(ctx, k); err != nil {
			t.Fatalf("key %s before rotation: %v", k[:8], err)
		}
	}
	newSK := str(e.gql(tok, `mutation{rotateKey(projectId:"`+p.ID+`",kind:SECRET)}`, nil).ok(t), "rotateKey")
	newPK := str(e.gql(tok, `mutation{rotateKey(projectId:"`+p.ID+`",kind:PUBLISHABLE)}`, nil).ok(t), "rotateKey")
	if !strings.HasPrefix(newSK, "sk_live_") || newSK == p.SecretKey {
		t.Errorf("new secret key %q", newSK)
	}
	if !strings.HasPrefix(newPK, "pk_live_") || newPK == p.PublishableKey {
		t.Errorf("new publishable key %q", newPK)
	}
	for _, old := range []string{p.SecretKey, p.PublishableKey} {
		_, _, err := e.app.Projects.Authenticate(ctx, old)
		if !errs.Is(err, errs.Unauthenticated) || errs.ClientMessage(err) != "API key is expired or invalid." {
			t.Errorf("old key %s…: got %v, want Unauthenticated %q", old[:8], err, "API key is expired or invalid.")
		}
	}
	for k, want := range map[string]projects.KeyKind{newSK: projects.Secret, newPK: projects.Publishable} {
		got, kind, err := e.app.Projects.Authenticate(ctx, k)
		if err != nil || got.ID.Hex() != p.ID || kind != want {
			t.Errorf("new key %s…: got %v %v %v, want project %s %s", k[:8], got, kind, err, p.ID, want)
		}
	}
	d := e.gql(tok, `{project(id:"`+p.ID+`"){publishableKey}}`, nil).ok(t)
	if got := str(d, "project", "publishableKey"); got != newPK {
		t.Errorf("project shows publishable key %q, want the new one", got)
	}
	if _, _, err := e.app.Projects.Authenticate(ctx, ""); errs.ClientMessage(err) != "API key not found" {
		t.Errorf("empty key: got %v", err)
	}
}

func TestBringYourOwnDatabase(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.DBTimeout = time.Second })
	tok := e.login()
	own := testdb.Name(t)
	uri := strings.TrimSuffix(testdb.URI(t), "/") + "/" + own

	d := e.gql(tok, `mutation($in:CreateProjectInput!){createProject(input:$in){project{id externalDatabase}}}`,
		map[string]any{"in": map[string]any{"name": "byo", "databaseUri": uri}}).ok(t)
	if get(d, "createProject", "project", "externalDatabase") != true {
		t.Fatalf("externalDatabase: got %v, want true", d)
	}
	id := str(d, "createProject", "project", "id")
	e.gql(tok, `mutation{defineCollection(projectId:"`+id+`",input:{name:"notes",fields:[{key:"title",type:String,unique:true}]}){name}}`, nil).ok(t)

	// The collection and its unique index live in the brought database.
	specs, err := testdb.Client(t).Database(own).Collection("notes").Indexes().ListSpecifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !hasIndex(specs, "ub_unique_title") {
		t.Errorf("indexes of %s.notes: %v, want ub_unique_title", own, specs)
	}
	if _, err := testdb.Client(t).Database(own).Collection("notes").InsertOne(context.Background(), bson.D{{Key: "title", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	d = e.gql(tok, `{project(id:"`+id+`"){collection(name:"notes"){documentCount}}}`, nil).ok(t)
	if n := get(d, "project", "collection", "documentCount"); n != float64(1) {
		t.Errorf("documentCount: got %v, want 1", n)
	}

	// Refused: nothing listens there.
	e.gql(tok, `mutation{createProject(input:{name:"x",databaseUri:"mongodb://127.0.0.1:1/db"}){secretKey}}`, nil).
		fails(t, "BAD_USER_INPUT", "databaseUri: cannot reach MongoDB at 127.0.0.1:1")
	e.gql(tok, `mutation{updateProject(id:"`+id+`",input:{databaseUri:"mongodb://127.0.0.1:1/db"}){id}}`, nil).
		fails(t, "BAD_USER_INPUT", "cannot reach MongoDB")

	// Moving back to the platform cluster creates the unique index there.
	d = e.gql(tok, `mutation{updateProject(id:"`+id+`",input:{databaseUri:""}){externalDatabase}}`, nil).ok(t)
	if get(d, "updateProject", "externalDatabase") != false {
		t.Errorf("after clearing databaseUri: %v", d)
	}
	pid, _ := bson.ObjectIDFromHex(id)
	specs, err = testdb.Client(t).Database(projects.DefaultDatabaseName(pid)).Collection("notes").Indexes().ListSpecifications(context.Background())
	if err != nil || !hasIndex(specs, "ub_unique_title") {
		t.Errorf("platform indexes: %v %v, want ub_unique_title", specs, err)
	}

	// The connection string never comes back.
	for _, b := range e.bodies {
		if strings.Contains(b, own) {
			t.Errorf("a response contains the database URI: %s", b)
		}
	}
}

func TestDeleteProject(t *testing.T) {
	e := newEnv(t)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "p"})
	e.gql(tok, `mutation{defineCollection(projectId:"`+p.ID+`",input:{name:"c",fields:[]}){name}}`, nil).ok(t)
	pid, _ := bson.ObjectIDFromHex(p.ID)
	dbName := projects.DefaultDatabaseName(pid)
	if dbs := testdb.Databases(t, dbName); len(dbs) != 1 {
		t.Fatalf("project database: got %v", dbs)
	}
	if d := e.gql(tok, `mutation{deleteProject(id:"`+p.ID+`")}`, nil).ok(t); d["deleteProject"] != true {
		t.Fatalf("deleteProject: %v", d)
	}
	if d := e.gql(tok, `{project(id:"`+p.ID+`"){id}}`, nil).ok(t); d["project"] != nil {
		t.Errorf("deleted project still readable: %v", d)
	}
	if dbs := testdb.Databases(t, dbName); len(dbs) != 0 {
		t.Errorf("project database still there: %v", dbs)
	}
	n, _ := testdb.Client(t).Database(e.cfg.PlatformDB).Collection("collections").CountDocuments(context.Background(), bson.D{{Key: "projectId", Value: pid}})
	if n != 0 {
		t.Errorf("%d collection definitions left", n)
	}
	if _, _, err := e.app.Projects.Authenticate(context.Background(), p.SecretKey); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("key of a deleted project: got %v, want Unauthenticated", err)
	}
	e.gql(tok, `mutation{deleteProject(id:"`+p.ID+`")}`, nil).fails(t, "NOT_FOUND", "project not found")
}

func hasIndex(specs []mongo.IndexSpecification, name string) bool {
	for _, s := range specs {
		if s.Name == name {
			return true
		}
	}
	return false
}
