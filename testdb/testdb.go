// Package testdb gives tests a real database: one embedded FerretDB per test
// binary, started in TestMain, and a uniquely named database per test.
package testdb

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/embedded"
)

// The one instance of this test binary, set by Main before any test runs.
var (
	uri    string
	client *mongo.Client
	seq    atomic.Int64
)

// Main starts the embedded database in a temporary directory on a free
// loopback port, runs the tests and stops it. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "urbackend-testdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	db, err := embedded.Start(dir, "127.0.0.1:0", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer db.Close()
	uri = db.URI()
	client, err = mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer client.Disconnect(context.Background())
	return m.Run()
}

// URI is the connection string of the test database server.
func URI(t testing.TB) string {
	t.Helper()
	if uri == "" {
		t.Fatal("testdb: call testdb.Main from TestMain")
	}
	return uri
}

// Client is a driver client connected to the test database server.
func Client(t testing.TB) *mongo.Client {
	t.Helper()
	URI(t)
	return client
}

// Name returns a database name unique to this test; the database is
// dropped when the test ends.
func Name(t testing.TB) string {
	t.Helper()
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(clean) > 40 {
		clean = clean[:40]
	}
	name := fmt.Sprintf("t%d_%s", seq.Add(1), clean)
	t.Cleanup(func() { Drop(t, name) })
	return name
}

// Drop drops a database, reporting failure as a test error.
func Drop(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Client(t).Database(name).Drop(ctx); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// Databases lists the databases whose names start with prefix.
func Databases(t testing.TB, prefix string) []string {
	t.Helper()
	names, err := Client(t).ListDatabaseNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatalf("list databases: %v", err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
