package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/go-chi/chi/v5"

	"github.com/urbackend/urbackend/dashboard"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/gqlhttp"
	"github.com/urbackend/urbackend/graph"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/ratelimit"
	"github.com/urbackend/urbackend/resolvers"
	"github.com/urbackend/urbackend/rest"
)

// projectLimitFactor: one project may use this many clients' worth of the
// per-address limit.
const projectLimitFactor = 10

func (a *App) router(publicURL string) http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, recoverPanics(a.logger), logRequests(a.logger), countRequests(a.Analytics), rest.CaseInsensitivePaths)
	r.NotFound(rest.NotFound(a.logger))
	r.MethodNotAllowed(rest.NotFound(a.logger)) // the contract answers any unknown route, any method, with 404

	api := &rest.API{
		Catalog:        a.Catalog,
		Data:           a.Data,
		Collections:    a.Collections,
		Projects:       a.Projects,
		Auth:           a.Auth,
		Mailer:         a.Mailer,
		Files:          a.Files,
		PublicURL:      publicURL,
		RefreshTTL:     a.cfg.RefreshTokenTTL,
		SecureCookies:  strings.HasPrefix(publicURL, "https://"),
		Health:         a,
		IPLimiter:      ratelimit.New(a.cfg.RateLimitPerMinute, time.Minute, a.cfg.Now),
		ProjectLimiter: ratelimit.New(a.cfg.RateLimitPerMinute*projectLimitFactor, time.Minute, a.cfg.Now),
		TrustProxy:     a.cfg.TrustProxy,
		Logger:         a.logger,
		Now:            a.cfg.Now,
	}
	api.Mount(r)
	r.Get("/metrics", a.metricsHandler(a.cfg.MetricsToken))

	res := &resolvers.Resolver{
		WebhookService:    a.Webhooks,
		FileService:       a.Files,
		AdminService:      a.Admins,
		ProjectService:    a.Projects,
		CollectionService: a.Collections,
		AnalyticsStore:    a.AnalyticsStore,
		Catalog:           a.Catalog,
		DataService:       a.Data,
		AuthService:       a.Auth,
		Usage:             usage{a},
		PublicURL:         publicURL,
		Logger:            a.logger,
	}
	admin := gqlhttp.New(graph.NewExecutableSchema(graph.Config{Resolvers: res}), gqlhttp.Options{
		Logger:   a.logger,
		InitFunc: a.adminWebsocketInit,
	})
	r.With(limitBody(a.cfg.MaxBodyBytes), adminAuth(a.Admins)).Handle("/admin/graphql", adminPlayground(admin))
	// The same limiter instances as REST: one budget whichever door.
	// Multipart requests carry files; the multipart transport caps them.
	r.With(limitBody(a.cfg.MaxBodyBytes, "multipart/form-data")).Handle("/graphql", a.projectGraphQL(api))
	// The admin web app; it answers /dashboard itself with a redirect to /dashboard/.
	r.Handle("/dashboard*", dashboard.Handler())
	return r
}

// adminWebsocketInit authenticates an admin websocket from the
// Authorization entry of its connection_init payload (or the upgrade
// request's header, already on the context).
func (a *App) adminWebsocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	h := payload.Authorization()
	if h == "" {
		if v, ok := payload["Authorization"].(string); ok {
			h = v
		}
	}
	if h == "" {
		if _, ok := principal.Admin(ctx); ok {
			return ctx, nil, nil
		}
		return ctx, nil, errs.New(errs.Unauthenticated, "admin authentication required")
	}
	tok, ok := principal.Bearer(h)
	if !ok {
		tok = h
	}
	id, err := a.Admins.Verify(tok)
	if err != nil {
		return ctx, nil, err
	}
	return principal.WithAdmin(ctx, id), nil, nil
}

// adminPlayground answers a browser's GET /admin/graphql with the
// playground (admin token field; run adminLogin to get one), and
// everything else with the admin API.
func adminPlayground(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gqlhttp.WantsPlayground(r) {
			gqlhttp.ServePlayground(w, gqlhttp.Playground{
				Title:   "urBackend admin GraphQL",
				Inputs:  []gqlhttp.PlaygroundInput{{ID: "token", Placeholder: "admin token (from adminLogin)", Header: "Authorization", Prefix: "Bearer "}},
				Example: "  # mutation { adminLogin(email: \"admin@urbackend.local\", password: \"…\") { token } }\n  projects { id name publishableKey collections { name documentCount } }",
				Storage: "ub-admin-graphql-",
			})
			return
		}
		api.ServeHTTP(w, r)
	})
}
