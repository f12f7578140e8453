package server

import (
	"net/http"

	"github.com/urbackend/urbackend/dynschema"
)

// projectGraphQL is the per-project GraphQL API served at /graphql: the
// schema built from each project's collections, over the same data and
// auth operations as REST.
func (a *App) projectGraphQL() http.Handler {
	return dynschema.NewHandler(dynschema.Options{
		Catalog:    a.Catalog,
		Deps:       dynschema.Deps{Data: a.Data, Auth: a.Auth, Subscriber: dynschema.BusSubscriber{Bus: a.Events}},
		Logger:     a.logger,
		Now:        a.cfg.Now,
		TrustProxy: a.cfg.TrustProxy,
	})
}
