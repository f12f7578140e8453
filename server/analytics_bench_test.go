package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/analytics"
)

// BenchmarkCountRequests measures what the analytics middleware adds to a
// request: the slot on the context, the wrapped writer and one Record.
// Compare it with the ~2 ms of a get-one on the embedded database
// (BenchmarkGetOne).
func BenchmarkCountRequests(b *testing.B) {
	rec := analytics.NewRecorder(nil)
	project := bson.NewObjectID()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		analytics.SetProject(r.Context(), project)
		w.WriteHeader(http.StatusOK)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"without", inner}, {"with", countRequests(rec)(inner)}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/data/posts/1", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
