package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/testdb"
	"github.com/urbackend/urbackend/usertoken"
)

// rlsFixture is one server with a project, two end users (alice and bob,
// ids are ObjectID hex strings as the auth API issues them) and a second
// project whose tokens must not count here.
type rlsFixture struct {
	e                *env
	admin            string
	p                project
	other            project
	alice, bob       string
	aliceTok, bobTok string
}

func newRLSFixture(t *testing.T) *rlsFixture {
	t.Helper()
	e := newEnv(t)
	f := &rlsFixture{e: e, admin: e.login(), alice: bson.NewObjectID().Hex(), bob: bson.NewObjectID().Hex()}
	f.p = e.createProject(f.admin, map[string]any{"name": "rls"})
	f.other = e.createProject(f.admin, map[string]any{"name": "other"})
	f.aliceTok = e.userToken(f.p.ID, f.alice)
	f.bobTok = e.userToken(f.p.ID, f.bob)
	return f
}

// define defines a collection of the fixture's project.
func (f *rlsFixture) define(t *testing.T, name string, rls map[string]any, fields ...any) {
	t.Helper()
	in := map[string]any{"name": name, "fields": append([]any{}, fields...)}
	if rls != nil {
		in["rls"] = rls
	}
	define(f.e, f.admin, f.p.ID, in).ok(t)
}

// rlsSetRLS changes a stored collection definition behind the admin API's
// back (to reach states it refuses, such as legacy modes) and drops the
// cached snapshot, as every change through the API does.
func (f *rlsFixture) setRLS(t *testing.T, name string, set bson.D) {
	t.Helper()
	pid, err := bson.ObjectIDFromHex(f.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := testdb.Client(t).Database(f.e.cfg.PlatformDB).Collection("collections").UpdateOne(ctx,
		bson.D{{Key: "projectId", Value: pid}, {Key: "name", Value: name}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		t.Fatal(err)
	}
	if res.MatchedCount != 1 {
		t.Fatalf("set rls of %s: matched %d definitions, want 1", name, res.MatchedCount)
	}
	f.e.app.Catalog.Invalidate(ctx, pid)
}

// seed inserts a document with the secret key and returns its id.
func (f *rlsFixture) seed(t *testing.T, coll string, doc map[string]any) string {
	t.Helper()
	r := f.e.rest(http.MethodPost, "/api/data/"+coll, restReq{Key: f.p.SecretKey, Body: doc})
	if r.Status != http.StatusCreated {
		t.Fatalf("seed %s: got %d %s, want 201", coll, r.Status, r.Body)
	}
	id := str(r.json(t), "_id")
	if id == "" {
		t.Fatalf("seed %s: no _id in %s", coll, r.Body)
	}
	return id
}

// stored reads a document straight from the project's database; nil when
// there is none.
func (f *rlsFixture) stored(t *testing.T, coll, id string) bson.M {
	t.Helper()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		t.Fatalf("stored %s: %v", id, err)
	}
	var doc bson.M
	err = testdb.Client(t).Database(projectDB(t, f.p.ID)).Collection(coll).FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&doc)
	if err != nil {
		return nil
	}
	return doc
}

// storedWhere returns the documents of a collection that match filter,
// straight from the database.
func (f *rlsFixture) storedWhere(t *testing.T, coll string, filter bson.D) []bson.M {
	t.Helper()
	cur, err := testdb.Client(t).Database(projectDB(t, f.p.ID)).Collection(coll).Find(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.M
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// badTokens are bearer tokens that must count as anonymous (§2.4): an
// expired one, another project's, one signed with HS384 or alg none with
// the right secret and claims, and garbage.
func (f *rlsFixture) badTokens(t *testing.T) []struct{ name, tok string } {
	t.Helper()
	sec := rlsJWTSecret(t, f.e, f.p.ID)
	expired, err := usertoken.Issue(sec, f.p.ID, f.alice, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The claims of a valid token, re-signed with other algorithms.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(f.aliceTok, claims); err != nil {
		t.Fatal(err)
	}
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, claims).SignedString(sec)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ name, tok string }{
		{"expired token", expired},
		{"other project token", f.e.userToken(f.other.ID, f.alice)},
		{"HS384 token", hs384},
		{"alg none token", none},
		{"garbage token", "not.a.jwt"},
	}
}

func rlsJWTSecret(t *testing.T, e *env, projectID string) []byte {
	t.Helper()
	id, err := bson.ObjectIDFromHex(projectID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.app.Projects.ByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := e.app.Projects.JWTSecret(p)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

// rlsSigned signs an HS256 token for the project with arbitrary claims.
func rlsSigned(t *testing.T, e *env, projectID string, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(rlsJWTSecret(t, e, projectID))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rlsDecode decodes a response body as any JSON value.
func rlsDecode(t *testing.T, r restResult) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

// rlsSortedIDs returns the sorted _id values of a list of documents.
func rlsSortedIDs(t *testing.T, items any) []string {
	t.Helper()
	list, ok := items.([]any)
	if !ok {
		t.Fatalf("got %T %v, want a list of documents", items, items)
	}
	ids := make([]string, 0, len(list))
	for _, it := range list {
		id := str(it, "_id")
		if id == "" {
			t.Fatalf("document without _id: %v", it)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func rlsSorted(ids []string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// rlsWantList checks a 200 list envelope holding exactly the documents
// ids, with total equal to their number.
func rlsWantList(t *testing.T, r restResult, ids ...string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("list: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	if b["success"] != true || b["message"] != "Data fetched successfully" {
		t.Fatalf("list: got envelope %s, want success and %q", r.Body, "Data fetched successfully")
	}
	if got, want := rlsSortedIDs(t, get(b, "data", "items")), rlsSorted(ids); !slices.Equal(got, want) {
		t.Fatalf("list: got ids %v, want %v", got, want)
	}
	if got := get(b, "data", "total"); got != float64(len(ids)) {
		t.Fatalf("list: got total %v, want %d", got, len(ids))
	}
}

// rlsWantCount checks the exact count body.
func rlsWantCount(t *testing.T, r restResult, n int) {
	t.Helper()
	want := map[string]any{"success": true, "data": map[string]any{"count": float64(n)}, "message": "Count fetched successfully."}
	if got := rlsDecode(t, r); r.Status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("count: got %d %s, want 200 %v", r.Status, r.Body, want)
	}
}

// rlsWantAggregate checks a 200 aggregate envelope holding exactly the
// documents ids.
func rlsWantAggregate(t *testing.T, r restResult, ids ...string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("aggregate: got %d %s, want 200", r.Status, r.Body)
	}
	b := r.json(t)
	if b["success"] != true || b["message"] != "Aggregation executed successfully." {
		t.Fatalf("aggregate: got envelope %s", r.Body)
	}
	if got, want := rlsSortedIDs(t, b["data"]), rlsSorted(ids); !slices.Equal(got, want) {
		t.Fatalf("aggregate: got ids %v, want %v", got, want)
	}
}

// rlsWantDoc checks that doc has exactly the fields of want plus the
// timestamps (and __v when version is set), with want's values.
func rlsWantDoc(t *testing.T, doc any, want map[string]any, version bool) {
	t.Helper()
	m, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("got %T %v, want a document", doc, doc)
	}
	meta := []string{"createdAt", "updatedAt"}
	if version {
		meta = append(meta, "__v")
	}
	for _, k := range meta {
		if _, ok := m[k]; !ok {
			t.Errorf("document %v: missing %s", m, k)
		}
	}
	for k, v := range m {
		if slices.Contains(meta, k) {
			continue
		}
		w, ok := want[k]
		if !ok {
			t.Errorf("document has %s = %v, want no such field (want %v)", k, v, want)
			continue
		}
		if !reflect.DeepEqual(v, w) {
			t.Errorf("field %s: got %v, want %v", k, v, w)
		}
	}
	for k, w := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("field %s missing, want %v (document %v)", k, w, m)
		}
	}
}

// auth is a restReq with a publishable or secret key and an optional
// Authorization header sent as is.
func rlsReq(key, authorization string, body any) restReq {
	rq := restReq{Key: key, Body: body}
	if authorization != "" {
		rq.Headers = map[string]string{"Authorization": authorization}
	}
	return rq
}

func rlsBearer(tok string) string {
	if tok == "" {
		return ""
	}
	return "Bearer " + tok
}

var rlsPipeline = map[string]any{"pipeline": []any{map[string]any{"$sort": map[string]any{"title": 1}}}}

// rlsReads are the four reads of §2.6, each with a refusal check.
func (f *rlsFixture) readRefused(t *testing.T, coll, id, key, authorization string, status int, msg string) {
	t.Helper()
	e := f.e
	for _, op := range []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"list", http.MethodGet, "/api/data/" + coll, nil},
		{"count", http.MethodGet, "/api/data/" + coll + "?count=true", nil},
		{"get one", http.MethodGet, "/api/data/" + coll + "/" + id, nil},
		{"aggregate", http.MethodPost, "/api/data/" + coll + "/aggregate", rlsPipeline},
	} {
		t.Run(op.name, func(t *testing.T) {
			e.rest(op.method, op.path, rlsReq(key, authorization, op.body)).wantError(t, status, msg)
		})
	}
}

// readAllowed checks the four reads of a collection: list, count and
// aggregate return exactly ids, get-one returns doc (whose _id must be
// among ids; nil skips it).
func (f *rlsFixture) readAllowed(t *testing.T, coll, key, authorization string, doc map[string]any, ids ...string) {
	t.Helper()
	e := f.e
	t.Run("list", func(t *testing.T) {
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/"+coll, rlsReq(key, authorization, nil)), ids...)
	})
	t.Run("count", func(t *testing.T) {
		rlsWantCount(t, e.rest(http.MethodGet, "/api/data/"+coll+"?count=true", rlsReq(key, authorization, nil)), len(ids))
	})
	if doc != nil {
		t.Run("get one", func(t *testing.T) {
			r := e.rest(http.MethodGet, "/api/data/"+coll+"/"+doc["_id"].(string), rlsReq(key, authorization, nil))
			if r.Status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", r.Status, r.Body)
			}
			rlsWantDoc(t, rlsDecode(t, r), doc, false)
		})
	}
	t.Run("aggregate", func(t *testing.T) {
		rlsWantAggregate(t, e.rest(http.MethodPost, "/api/data/"+coll+"/aggregate", rlsReq(key, authorization, rlsPipeline)), ids...)
	})
}

// TestRESTRLSRead covers every row of the RLS read table
// (contract/REST.md §2.6) with list, count, get one and aggregate, and
// the anonymous treatment of bad user tokens (§2.4).
func TestRESTRLSRead(t *testing.T) {
	f := newRLSFixture(t)
	e := f.e
	title := field("title", "String")
	f.define(t, "open", nil, title)
	f.define(t, "pub", map[string]any{"enabled": true, "mode": "PUBLIC_READ", "ownerField": "userId"}, title)
	f.define(t, "owo", map[string]any{"enabled": true, "mode": "OWNER_WRITE_ONLY", "ownerField": "userId"}, title)
	f.define(t, "priv", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, title)
	f.define(t, "privref", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "owner"}, title, field("owner", "Ref", "ref", "users"))
	f.define(t, "weird", map[string]any{"enabled": true, "mode": "PRIVATE", "ownerField": "userId"}, title)
	f.setRLS(t, "weird", bson.D{{Key: "rls.mode", Value: "team-only"}})

	// Two documents of alice's and one of bob's in every collection.
	type seeded struct{ a1, a2, b1 map[string]any }
	docs := map[string]seeded{}
	for _, c := range []string{"open", "pub", "owo", "priv", "weird"} {
		mk := func(title, owner string) map[string]any {
			d := map[string]any{"title": title, "userId": owner}
			d["_id"] = f.seed(t, c, d)
			return d
		}
		docs[c] = seeded{mk("a1", f.alice), mk("a2", f.alice), mk("b1", f.bob)}
	}
	ids := func(c string) []string {
		s := docs[c]
		return []string{s.a1["_id"].(string), s.a2["_id"].(string), s.b1["_id"].(string)}
	}
	priv := docs["priv"]
	missing := bson.NewObjectID().Hex()

	t.Run("read/1 sk private no token", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.SecretKey, "", priv.b1, ids("priv")...)
	})
	t.Run("read/1 sk user token ignored", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.SecretKey, rlsBearer(f.aliceTok), priv.b1, ids("priv")...)
	})
	t.Run("read/1 sk garbage token ignored", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.SecretKey, "Bearer garbage", priv.b1, ids("priv")...)
	})
	t.Run("read/1 sk unsupported mode ignored", func(t *testing.T) {
		f.readAllowed(t, "weird", f.p.SecretKey, "", docs["weird"].a1, ids("weird")...)
	})
	t.Run("read/1 sk missing collection", func(t *testing.T) {
		f.readRefused(t, "nope", missing, f.p.SecretKey, "", http.StatusNotFound, "Collection not found")
	})
	t.Run("read/1 sk id checked before collection", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/nope/not-an-id", restReq{Key: f.p.SecretKey}).wantError(t, http.StatusBadRequest, "Invalid ID format.")
	})

	t.Run("read/2 pk collection not defined", func(t *testing.T) {
		f.readRefused(t, "nope", missing, f.p.PublishableKey, rlsBearer(f.aliceTok), http.StatusNotFound, "Collection not found")
	})
	t.Run("read/2 pk collection checked before id", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/nope/not-an-id", restReq{Key: f.p.PublishableKey}).wantError(t, http.StatusNotFound, "Collection not found")
	})
	t.Run("read/2 pk collection name is case-sensitive", func(t *testing.T) {
		f.readRefused(t, "Priv", priv.a1["_id"].(string), f.p.PublishableKey, rlsBearer(f.aliceTok), http.StatusNotFound, "Collection not found")
	})

	t.Run("read/3 pk rls disabled no token", func(t *testing.T) {
		f.readAllowed(t, "open", f.p.PublishableKey, "", docs["open"].b1, ids("open")...)
	})
	t.Run("read/3 pk rls disabled with token", func(t *testing.T) {
		f.readAllowed(t, "open", f.p.PublishableKey, rlsBearer(f.aliceTok), docs["open"].b1, ids("open")...)
	})

	for _, c := range []string{"pub", "owo"} {
		mode := map[string]string{"pub": "public-read", "owo": "owner-write-only"}[c]
		t.Run("read/4 pk "+mode+" no token", func(t *testing.T) {
			f.readAllowed(t, c, f.p.PublishableKey, "", docs[c].b1, ids(c)...)
		})
		t.Run("read/4 pk "+mode+" other user's token", func(t *testing.T) {
			f.readAllowed(t, c, f.p.PublishableKey, rlsBearer(f.aliceTok), docs[c].b1, ids(c)...)
		})
		t.Run("read/4 pk "+mode+" expired token", func(t *testing.T) {
			f.readAllowed(t, c, f.p.PublishableKey, rlsBearer(f.badTokens(t)[0].tok), docs[c].b1, ids(c)...)
		})
	}

	const privateMsg = "Provide a valid user Bearer token for private reads."
	t.Run("read/5 pk private no token", func(t *testing.T) {
		f.readRefused(t, "priv", priv.a1["_id"].(string), f.p.PublishableKey, "", http.StatusUnauthorized, privateMsg)
	})
	t.Run("read/5 pk private non-bearer authorization", func(t *testing.T) {
		f.readRefused(t, "priv", priv.a1["_id"].(string), f.p.PublishableKey, "Basic "+f.aliceTok, http.StatusUnauthorized, privateMsg)
	})
	for _, bt := range f.badTokens(t) {
		t.Run("read/5 pk private "+bt.name, func(t *testing.T) {
			f.readRefused(t, "priv", priv.a1["_id"].(string), f.p.PublishableKey, rlsBearer(bt.tok), http.StatusUnauthorized, privateMsg)
		})
	}
	t.Run("read/5 pk private token without a user id", func(t *testing.T) {
		tok := rlsSigned(t, e, f.p.ID, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()})
		f.readRefused(t, "priv", priv.a1["_id"].(string), f.p.PublishableKey, rlsBearer(tok), http.StatusUnauthorized, privateMsg)
	})
	t.Run("read/5 pk private checked before id", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/priv/not-an-id", restReq{Key: f.p.PublishableKey}).wantError(t, http.StatusUnauthorized, privateMsg)
	})

	aliceIDs := []string{priv.a1["_id"].(string), priv.a2["_id"].(string)}
	t.Run("read/6 pk private valid token", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.PublishableKey, rlsBearer(f.aliceTok), priv.a1, aliceIDs...)
	})
	t.Run("read/6 pk private other user", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.PublishableKey, rlsBearer(f.bobTok), priv.b1, priv.b1["_id"].(string))
	})
	t.Run("read/6 pk private any case of bearer", func(t *testing.T) {
		f.readAllowed(t, "priv", f.p.PublishableKey, "bEaReR   "+f.aliceTok+"  ", priv.a2, aliceIDs...)
	})
	t.Run("read/6 pk private legacy _id claim", func(t *testing.T) {
		tok := rlsSigned(t, e, f.p.ID, jwt.MapClaims{"_id": f.alice, "exp": time.Now().Add(time.Hour).Unix()})
		f.readAllowed(t, "priv", f.p.PublishableKey, rlsBearer(tok), priv.a1, aliceIDs...)
	})
	t.Run("read/6 pk private legacy id claim", func(t *testing.T) {
		tok := rlsSigned(t, e, f.p.ID, jwt.MapClaims{"id": f.bob, "exp": time.Now().Add(time.Hour).Unix()})
		f.readAllowed(t, "priv", f.p.PublishableKey, rlsBearer(tok), priv.b1, priv.b1["_id"].(string))
	})
	t.Run("read/6 pk private user without documents", func(t *testing.T) {
		tok := e.userToken(f.p.ID, bson.NewObjectID().Hex())
		f.readAllowed(t, "priv", f.p.PublishableKey, rlsBearer(tok), nil)
	})
	t.Run("read/6 pk private get one of another user's document", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/priv/"+priv.b1["_id"].(string), rlsReq(f.p.PublishableKey, rlsBearer(f.aliceTok), nil)).
			wantError(t, http.StatusNotFound, "Document not found.")
	})
	t.Run("read/6 pk private get one of a missing document", func(t *testing.T) {
		e.rest(http.MethodGet, "/api/data/priv/"+missing, rlsReq(f.p.PublishableKey, rlsBearer(f.aliceTok), nil)).
			wantError(t, http.StatusNotFound, "Document not found.")
	})
	t.Run("read/6 pk private filter is AND-ed with the query", func(t *testing.T) {
		auth := rlsBearer(f.aliceTok)
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/priv?title=b1", rlsReq(f.p.PublishableKey, auth, nil)))
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/priv?title=a2", rlsReq(f.p.PublishableKey, auth, nil)), priv.a2["_id"].(string))
		rlsWantCount(t, e.rest(http.MethodGet, "/api/data/priv?count=true&title_in=a1,b1", rlsReq(f.p.PublishableKey, auth, nil)), 1)
		rlsWantList(t, e.rest(http.MethodGet, "/api/data/priv?userId="+f.bob, rlsReq(f.p.PublishableKey, auth, nil)))
	})
	t.Run("read/6 pk private aggregate cannot escape the filter", func(t *testing.T) {
		body := map[string]any{"pipeline": []any{map[string]any{"$match": map[string]any{"userId": f.bob}}}}
		rlsWantAggregate(t, e.rest(http.MethodPost, "/api/data/priv/aggregate", rlsReq(f.p.PublishableKey, rlsBearer(f.aliceTok), body)))
		count := map[string]any{"pipeline": []any{map[string]any{"$group": map[string]any{"_id": nil, "n": map[string]any{"$sum": 1}}}}}
		r := e.rest(http.MethodPost, "/api/data/priv/aggregate", rlsReq(f.p.PublishableKey, rlsBearer(f.aliceTok), count))
		want := map[string]any{"success": true, "data": []any{map[string]any{"_id": nil, "n": float64(2)}}, "message": "Aggregation executed successfully."}
		if got := rlsDecode(t, r); r.Status != http.StatusOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %d %s, want 200 %v", r.Status, r.Body, want)
		}
	})
	t.Run("read/6 pk private Ref owner field", func(t *testing.T) {
		// The owner is stored as an ObjectId when the owner field is a Ref
		// (§2.7 notes); the private filter must still match it.
		a := map[string]any{"title": "ra", "owner": f.alice}
		a["_id"] = f.seed(t, "privref", a)
		b := map[string]any{"title": "rb", "owner": f.bob}
		b["_id"] = f.seed(t, "privref", b)
		if got, ok := f.stored(t, "privref", a["_id"].(string))["owner"].(bson.ObjectID); !ok || got.Hex() != f.alice {
			t.Fatalf("stored owner: got %T %v, want ObjectId %s", f.stored(t, "privref", a["_id"].(string))["owner"], got, f.alice)
		}
		f.readAllowed(t, "privref", f.p.PublishableKey, rlsBearer(f.aliceTok), a, a["_id"].(string))
		f.readAllowed(t, "privref", f.p.PublishableKey, rlsBearer(f.bobTok), b, b["_id"].(string))
		e.rest(http.MethodGet, "/api/data/privref/"+b["_id"].(string), rlsReq(f.p.PublishableKey, rlsBearer(f.aliceTok), nil)).
			wantError(t, http.StatusNotFound, "Document not found.")
	})

	t.Run("read/7 pk unsupported mode no token", func(t *testing.T) {
		f.readRefused(t, "weird", docs["weird"].a1["_id"].(string), f.p.PublishableKey, "", http.StatusForbidden, "Unsupported RLS mode")
	})
	t.Run("read/7 pk unsupported mode valid token", func(t *testing.T) {
		f.readRefused(t, "weird", docs["weird"].a1["_id"].(string), f.p.PublishableKey, rlsBearer(f.aliceTok), http.StatusForbidden, "Unsupported RLS mode")
	})
}
