// Package resolvers holds the hand-written resolvers of the admin GraphQL
// API. They read the admin from the context, call the operations and
// convert the results; they decide nothing themselves.
package resolvers

import (
	"context"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/admins"
	"github.com/urbackend/urbackend/analytics"
	"github.com/urbackend/urbackend/auth"
	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/webhooks"
)

// Resolver holds the dependencies of the admin resolvers.
type Resolver struct {
	AdminService      *admins.Service
	ProjectService    *projects.Service
	CollectionService *collections.Service
	Catalog           *catalog.Catalog
	DataService       *data.Service
	AuthService       *auth.Service
	// AnalyticsStore merges live and historical traffic across instances.
	AnalyticsStore *analytics.Store
	// Usage gives the current totals shown in analytics ticks.
	Usage Usage
	// WebhookService stores webhooks, pings and redelivers.
	WebhookService *webhooks.Service
	// FileService lists and deletes the projects' stored files.
	FileService *files.Service
	// PublicURL is the server's external base URL, for OAuth callback URLs
	// and files' public links.
	PublicURL string
	Logger    *slog.Logger
}

// admin returns the authenticated admin's id. Errors: Unauthenticated.
func admin(ctx context.Context) (bson.ObjectID, error) {
	id, ok := principal.Admin(ctx)
	if !ok {
		return bson.ObjectID{}, errs.New(errs.Unauthenticated, "admin authentication required: send Authorization: Bearer <token from adminLogin>")
	}
	return id, nil
}

func parseID(s, what string) (bson.ObjectID, error) {
	id, err := bson.ObjectIDFromHex(s)
	if err != nil {
		return bson.ObjectID{}, errs.New(errs.Invalid, "invalid %s id %q", what, s)
	}
	return id, nil
}

// project loads a project that the authenticated admin owns.
// Errors: Unauthenticated, Invalid, NotFound.
func (r *Resolver) project(ctx context.Context, projectID string) (*projects.Project, error) {
	owner, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID(projectID, "project")
	if err != nil {
		return nil, err
	}
	return r.ProjectService.Get(ctx, owner, id)
}
