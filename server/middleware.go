package server

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/urbackend/urbackend/admins"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/rest"
	"github.com/urbackend/urbackend/secret"
)

type requestIDKey struct{}

// requestID gives every request an id (X-Request-Id, echoed back) for logs.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = secret.Token(9)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestIDFrom returns the request id on ctx.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// logRequests logs one line per request: never the query string or
// headers, which may carry keys and tokens.
func logRequests(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
					slog.String("id", RequestIDFrom(r.Context())),
					slog.String("method", r.Method),
					slog.String("path", rest.LogPath(r.URL.Path)), // no upload tokens
					slog.Int("status", ww.Status()),
					slog.Duration("took", time.Since(start)),
				)
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// recoverPanics turns a panic into a logged 500 with the standard body.
func recoverPanics(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil || v == http.ErrAbortHandler {
					if v != nil {
						panic(v)
					}
					return
				}
				logger.ErrorContext(r.Context(), "panic", "id", RequestIDFrom(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"success":false,"error":"internal error","message":"internal error","code":500}`)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps request bodies, except those of the media types in
// except, which the handler caps itself.
func limitBody(n int64, except ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if r.Body != nil && !slices.Contains(except, mt) {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// adminAuth puts the admin named by a valid bearer token on the context. A
// missing or bad token leaves the request anonymous; resolvers then refuse
// everything but adminLogin.
func adminAuth(svc *admins.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok, ok := principal.Bearer(r.Header.Get("Authorization")); ok {
				if id, err := svc.Verify(tok); err == nil {
					r = r.WithContext(principal.WithAdmin(r.Context(), id))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
