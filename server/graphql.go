package server

import (
	"context"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/dynschema"
	"github.com/urbackend/urbackend/projects"
)

// projectGraphQL is the per-project GraphQL API served at /graphql: the
// schema built from each project's collections, over the same data and
// auth operations as REST, behind the same rate limiters (limits).
func (a *App) projectGraphQL(limits dynschema.RateLimits) http.Handler {
	h := dynschema.NewHandler(dynschema.Options{
		Catalog:                       a.Catalog,
		Deps:                          dynschema.Deps{Data: a.Data, Auth: a.Auth, Subscriber: dynschema.BusSubscriber{Bus: a.Events}, Files: a.Files, PublicURL: a.publicURL},
		Logger:                        a.logger,
		Now:                           a.cfg.Now,
		TrustProxy:                    a.cfg.TrustProxy,
		Limits:                        limits,
		MaxSubscriptionsPerConnection: a.cfg.WSMaxSubscriptionsPerConnection,
		MaxConnectionsPerProject:      a.cfg.WSMaxConnectionsPerProject,
		KeepAliveInterval:             a.cfg.WSKeepAliveInterval,
	})
	a.graphql = h
	return h
}

// invalidator tells the catalog, and then the per-project GraphQL cache,
// of every change to a project or its collections made on this
// instance. Changes made elsewhere reach the GraphQL cache through the
// catalog and the handler's sweep.
type invalidator struct{ a *App }

var _ projects.Invalidator = invalidator{}

func (i invalidator) Invalidate(ctx context.Context, projectID bson.ObjectID) {
	i.a.Catalog.Invalidate(ctx, projectID)
	if i.a.graphql != nil {
		i.a.graphql.Evict(projectID)
	}
}
