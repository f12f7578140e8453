package resolvers

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/projects"
	"github.com/urbackend/urbackend/query"
)

// secretCaller is the admin acting on one of its projects with the secret
// key's rights. Errors: Unauthenticated, Invalid, NotFound.
func (r *Resolver) secretCaller(ctx context.Context, projectID string) (*principal.Caller, error) {
	p, err := r.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	snap, err := r.Catalog.ByID(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return &principal.Caller{Snapshot: snap, Key: projects.Secret}, nil
}

// plain turns a document into JSON-shaped values for the JSON scalar.
func plain(d data.Doc) (any, error) {
	raw, err := d.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func (r *Resolver) listDocuments(ctx context.Context, projectID, collection string, rawQuery *string) ([]any, int, error) {
	c, err := r.secretCaller(ctx, projectID)
	if err != nil {
		return nil, 0, err
	}
	col, err := r.DataService.Readable(c, collection)
	if err != nil {
		return nil, 0, err
	}
	values, err := url.ParseQuery(deref(rawQuery))
	if err != nil {
		return nil, 0, errs.New(errs.Invalid, "query must be a URL query string, like views_gt=10&sort=-createdAt")
	}
	l, err := query.ParseList(values, col.Fields)
	if err != nil {
		return nil, 0, err
	}
	res, err := r.DataService.List(ctx, c, collection, l)
	if err != nil {
		return nil, 0, err
	}
	items := make([]any, 0, len(res.Items))
	for _, d := range res.Items {
		v, err := plain(d)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, v)
	}
	return items, int(res.Total), nil
}

func asObject(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	return m, nil
}
