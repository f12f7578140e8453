package resolvers

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/projects"
)

// webhookTarget loads a project the admin owns and parses a webhook id.
// Errors: Unauthenticated, Invalid, NotFound.
func (r *Resolver) webhookTarget(ctx context.Context, projectID, webhookID string) (*projects.Project, bson.ObjectID, error) {
	p, err := r.project(ctx, projectID)
	if err != nil {
		return nil, bson.ObjectID{}, err
	}
	id, err := parseID(webhookID, "webhook")
	if err != nil {
		return nil, bson.ObjectID{}, err
	}
	return p, id, nil
}

// deleteProjectWebhooks removes a deleted project's webhooks and their
// deliveries. The project is gone already, so a failure is only logged.
func (r *Resolver) deleteProjectWebhooks(ctx context.Context, projectID bson.ObjectID) {
	if r.WebhookService == nil {
		return
	}
	if err := r.WebhookService.DeleteProject(ctx, projectID); err != nil && r.Logger != nil {
		r.Logger.Warn("delete the webhooks of a deleted project", "project", projectID.Hex(), "err", err)
	}
}
