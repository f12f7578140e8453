package rest

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/mailer"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/ratelimit"
)

// API is the urBackend-compatible REST API (contract/REST.md).
type API struct {
	Catalog     *catalog.Catalog
	Data        *data.Service
	Collections *collections.Service
	Projects    *projects.Service
	Auth        *auth.Service
	Mailer      *mailer.Service
	// Files stores project files (rest/storage.go); PublicURL is the base
	// of the signed upload URLs and public file links it hands out.
	Files     *files.Service
	PublicURL string
	// RefreshTTL and SecureCookies shape the refresh-token cookie.
	RefreshTTL    time.Duration
	SecureCookies bool
	// Health answers whether the database is reachable.
	Health Pinger
	// IPLimiter and ProjectLimiter are the safety-net rate limits (nil or
	// a zero limit: off).
	IPLimiter      *ratelimit.Limiter
	ProjectLimiter *ratelimit.Limiter
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry (one proxy in front).
	TrustProxy bool
	Logger     *slog.Logger
	Now        func() time.Time
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, a.Logger, err)
}

// Mount adds the REST routes under /api to r, and the public file links
// under /files.
func (a *API) Mount(r chi.Router) {
	if a.Now == nil {
		a.Now = time.Now
	}
	r.Route("/api", func(r chi.Router) {
		r.Use(middleware.StripSlashes, cors, a.ipLimit)
		r.Get("/health", Health(a.Health, a.Now))
		r.Get("/userAuth/social/{provider}/callback", a.socialCallback)
		a.mountStorageRaw(r) // multipart and signed-URL uploads: not JSON
		r.Group(func(r chi.Router) {
			r.Use(parseJSON, a.requireKey)
			r.Route("/data/{collection}", func(r chi.Router) {
				r.Get("/", a.list)
				r.Post("/", a.insert)
				r.Post("/bulk", a.insertMany)
				r.Post("/aggregate", a.aggregate)
				r.Get("/{id}", a.getOne)
				r.Put("/{id}", a.update)
				r.Patch("/{id}", a.update)
				r.Delete("/{id}", a.delete)
			})
			r.Route("/userAuth", a.mountUserAuth)
			r.With(a.secretOnly).Post("/mail/send", a.sendMail)
			r.With(a.projectLimit).Get("/schemas/{collection}", a.getSchema)
			r.With(a.projectLimit, a.secretOnly).Post("/schemas", a.createSchema)
			a.mountStorage(r)
		})
	})
	a.MountFiles(r)
}

func (a *API) sendMail(w http.ResponseWriter, r *http.Request) {
	body, ok := bodyFrom(r).(bson.D)
	if !ok {
		a.fail(w, r, errs.New(errs.Invalid, "Request body must be a JSON object."))
		return
	}
	res, err := a.Mailer.Send(r.Context(), caller(r), body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope{true, res, "Mail sent successfully."})
}
