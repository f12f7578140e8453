package server_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/testdb"
)

// benchDocs is the size of the benchmark collection.
const benchDocs = 1000

// benchSetup makes a project with a "posts" collection of benchDocs
// documents and returns the environment, the secret key, the project's
// database name and one document id.
func benchSetup(b *testing.B) (*env, string, string, string) {
	b.Helper()
	e := newEnv(b)
	tok := e.login()
	p := e.createProject(tok, map[string]any{"name": "bench"})
	e.gql(tok, defineQ, map[string]any{"p": p.ID, "in": map[string]any{"name": "posts", "fields": []any{
		field("title", "String", "required", true), field("views", "Number"), field("tags", "Array", "items", map[string]any{"type": "String"}),
	}}}).ok(b)
	docs := make([]any, 0, 100)
	for i := range benchDocs {
		docs = append(docs, map[string]any{"title": "post", "views": i, "tags": []string{"a", "b"}})
		if len(docs) == 100 {
			if r := e.rest(http.MethodPost, "/api/data/posts/bulk", restReq{Key: p.SecretKey, Body: docs}); r.Status != 201 {
				b.Fatalf("seed: %d %s", r.Status, r.Body)
			}
			docs = docs[:0]
		}
	}
	var one struct {
		ID bson.ObjectID `bson:"_id"`
	}
	dbName := projectDB(b, p.ID)
	if err := testdb.Client(b).Database(dbName).Collection("posts").FindOne(context.Background(), bson.D{{Key: "views", Value: 500}}).Decode(&one); err != nil {
		b.Fatal(err)
	}
	return e, p.SecretKey, dbName, one.ID.Hex()
}

func httpGet(b *testing.B, client *http.Client, url, key string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("x-api-key", key)
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("status %d", res.StatusCode)
	}
}

// BenchmarkGetOne compares GET /api/data/posts/:id through the whole HTTP
// stack with the same findOne issued directly with the driver.
func BenchmarkGetOne(b *testing.B) {
	e, key, dbName, id := benchSetup(b)
	coll := testdb.Client(b).Database(dbName).Collection("posts")
	oid, _ := bson.ObjectIDFromHex(id)
	client := e.ts.Client()
	url := e.ts.URL + "/api/data/posts/" + id
	b.Run("http", func(b *testing.B) {
		for b.Loop() {
			httpGet(b, client, url, key)
		}
	})
	b.Run("driver", func(b *testing.B) {
		for b.Loop() {
			var d bson.D
			if err := coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetProjection(bson.D{{Key: "__v", Value: 0}})).Decode(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkList20 compares GET /api/data/posts?limit=20 (newest first, with
// the total the response carries) with the same find and count issued
// directly with the driver.
func BenchmarkList20(b *testing.B) {
	e, key, dbName, _ := benchSetup(b)
	coll := testdb.Client(b).Database(dbName).Collection("posts")
	client := e.ts.Client()
	url := e.ts.URL + "/api/data/posts?limit=20"
	b.Run("http", func(b *testing.B) {
		for b.Loop() {
			httpGet(b, client, url, key)
		}
	})
	b.Run("driver", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := coll.CountDocuments(ctx, bson.D{}); err != nil {
				b.Fatal(err)
			}
			cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(20))
			if err != nil {
				b.Fatal(err)
			}
			var docs []bson.D
			if err := cur.All(ctx, &docs); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
}
