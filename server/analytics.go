package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/projects"
)

// countRequests records every request that resolved a project in the
// analytics recorder: in memory, no database write.
func countRequests(rec *analytics.Recorder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ctx, slot := analytics.WithSlot(r.Context())
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			r = r.WithContext(ctx)
			defer func() {
				id, ok := slot.Project()
				if !ok {
					return
				}
				route := r.URL.Path
				if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
					route = rc.RoutePattern()
					// Name the collection, so the busiest routes are
					// also the busiest collections.
					if c := rc.URLParam("collection"); c != "" {
						route = strings.Replace(route, "{collection}", c, 1)
					}
				}
				rec.Record(analytics.Request{
					Project: id, Door: door(r), Method: r.Method, Route: route, Path: r.URL.Path,
					Status: ww.Status(), Latency: time.Since(start), BytesIn: r.ContentLength, BytesOut: int64(ww.BytesWritten()),
				})
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

func door(r *http.Request) analytics.Door {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/graphql") && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		return analytics.Websocket
	case strings.HasPrefix(p, "/graphql"):
		return analytics.GraphQL
	case strings.HasPrefix(p, "/api/userAuth"):
		return analytics.Auth
	case strings.HasPrefix(p, "/api/storage"), strings.HasPrefix(p, "/files"):
		return analytics.Storage
	}
	return analytics.REST
}

// usage computes the totals shown in analytics ticks through the
// operations that own them (counts of the project's collections and users,
// the stored files).
type usage struct{ app *App }

func (u usage) Usage(ctx context.Context, p *projects.Project) (storage, documents, users int64, err error) {
	snap, err := u.app.Catalog.ByID(ctx, p.ID)
	if err != nil {
		return 0, 0, 0, err
	}
	for name := range snap.Collections {
		n, err := u.app.Collections.Count(ctx, snap.Project, name)
		if err != nil {
			return 0, 0, 0, err
		}
		documents += n
	}
	if users, err = u.app.Collections.Count(ctx, snap.Project, collections.UsersCollection); err != nil {
		return 0, 0, 0, err
	}
	files, err := u.app.Files.UsageOf(ctx, snap)
	if err != nil {
		return 0, 0, 0, err
	}
	return files.Bytes, documents, users, nil
}

func (u usage) Subscriptions(p *projects.Project) int { return u.app.Events.ProjectSubscribers(p.ID) }
