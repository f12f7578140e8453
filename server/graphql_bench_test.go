package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/testdb"
)

// list20Query is the GraphQL side of BenchmarkList20GraphQL: the page the
// REST list answers by default (newest first, 20 items, every field of
// the documents) and the total it carries, as postsCount.
const list20Query = `{
	posts(limit: 20, sort: [{field: createdAt, order: DESC}]) { _id title views tags createdAt updatedAt }
	postsCount
}`

// BenchmarkList20GraphQL compares one 20-item page of the benchmark
// collection (benchSetup: 1000 documents) through three paths on the same
// embedded database:
//
//   - graphql: POST /graphql with list20Query through the whole HTTP stack:
//     key check, parse (cached after the first run), validation,
//     complexity and depth limits, the list root field (one find sorted
//     createdAt desc, _id desc, limit 20) and the count root field (one
//     countDocuments), completion of the six selected fields of each
//     document and JSON encoding.
//   - rest: GET /api/data/posts?limit=20 (BenchmarkList20's http case):
//     key check, query parsing, one countDocuments for "total" and one
//     find with the same sort and limit, JSON encoding of every field.
//   - driver: the same countDocuments and find issued directly with the
//     driver, decoded into bson.D (BenchmarkList20's driver case).
//
// All three answer the same 20 documents (checked before timing) and the
// same total, so each does one count and one find.
func BenchmarkList20GraphQL(b *testing.B) {
	e, key, dbName, _ := benchSetup(b)
	coll := testdb.Client(b).Database(dbName).Collection("posts")
	client := e.ts.Client()
	gqlURL := e.ts.URL + "/graphql"
	restURL := e.ts.URL + "/api/data/posts?limit=20"
	gqlBody, _ := json.Marshal(map[string]any{"query": list20Query})

	// Both APIs answer the same page and total.
	var g struct {
		Data struct {
			Posts []struct {
				ID string `json:"_id"`
			} `json:"posts"`
			PostsCount int `json:"postsCount"`
		} `json:"data"`
	}
	if err := json.Unmarshal(benchPost(b, client, gqlURL, key, gqlBody), &g); err != nil {
		b.Fatal(err)
	}
	var r struct {
		Data struct {
			Items []struct {
				ID string `json:"_id"`
			} `json:"items"`
			Total int `json:"total"`
		} `json:"data"`
	}
	if err := json.Unmarshal(benchGet(b, client, restURL, key), &r); err != nil {
		b.Fatal(err)
	}
	gIDs, rIDs := []string{}, []string{}
	for _, p := range g.Data.Posts {
		gIDs = append(gIDs, p.ID)
	}
	for _, it := range r.Data.Items {
		rIDs = append(rIDs, it.ID)
	}
	if len(gIDs) != 20 || !slices.Equal(gIDs, rIDs) || g.Data.PostsCount != benchDocs || r.Data.Total != benchDocs {
		b.Fatalf("the APIs disagree: graphql %v (count %d), rest %v (total %d)", gIDs, g.Data.PostsCount, rIDs, r.Data.Total)
	}

	b.Run("graphql", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchPost(b, client, gqlURL, key, gqlBody)
		}
	})
	b.Run("rest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, client, restURL, key)
		}
	})
	b.Run("driver", func(b *testing.B) {
		b.ReportAllocs()
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

// benchGet sends GET url with the API key and returns the 200 body.
func benchGet(b *testing.B, client *http.Client, url, key string) []byte {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("x-api-key", key)
	return benchSend(b, client, req)
}

// benchPost posts a GraphQL request body with the API key and returns the
// 200 body, failing on GraphQL errors.
func benchPost(b *testing.B, client *http.Client, url, key string, body []byte) []byte {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", key)
	raw := benchSend(b, client, req)
	if bytes.Contains(raw, []byte(`"errors"`)) {
		b.Fatalf("GraphQL errors: %s", raw)
	}
	return raw
}

func benchSend(b *testing.B, client *http.Client, req *http.Request) []byte {
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	return raw
}
