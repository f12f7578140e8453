package resolvers

import (
	"context"

	"github.com/urbackend/urbackend/files"
	"github.com/urbackend/urbackend/graph/model"
)

// listFiles is a page of a project's files, with their public links and
// the number of matching files. Errors: Unauthenticated, Invalid,
// NotFound, as files.List.
func (r *Resolver) listFiles(ctx context.Context, projectID string, prefix *string, limit, skip *int) (*model.FilePage, error) {
	c, err := r.secretCaller(ctx, projectID)
	if err != nil {
		return nil, err
	}
	o := files.ListOptions{Prefix: deref(prefix), Total: true}
	if limit != nil {
		o.Limit = int64(*limit)
	}
	if skip != nil {
		o.Skip = int64(*skip)
	}
	l, err := r.FileService.List(ctx, c, o)
	if err != nil {
		return nil, err
	}
	page := &model.FilePage{Items: make([]*model.File, len(l.Files)), Total: int(l.Total)}
	for i, f := range l.Files {
		page.Items[i] = &model.File{
			Path: f.Path, Name: f.Name, URL: files.URL(r.PublicURL, f.Path),
			Size: float64(f.Size), ContentType: f.ContentType, CreatedAt: f.UploadedAt,
		}
	}
	return page, nil
}

// deleteFile removes one file, named by path or public link, and reports
// whether there was one. Errors: Unauthenticated, Invalid, NotFound, as
// files.Delete.
func (r *Resolver) deleteFile(ctx context.Context, projectID, path string) (bool, error) {
	c, err := r.secretCaller(ctx, projectID)
	if err != nil {
		return false, err
	}
	return r.FileService.Delete(ctx, c, files.PathOf(r.PublicURL, path))
}

// storageUsage is what a project's confirmed files take. Errors:
// Unauthenticated, Invalid, NotFound, Internal.
func (r *Resolver) storageUsage(ctx context.Context, projectID string) (*model.StorageUsage, error) {
	c, err := r.secretCaller(ctx, projectID)
	if err != nil {
		return nil, err
	}
	u, err := r.FileService.UsageOf(ctx, c.Snapshot)
	if err != nil {
		return nil, err
	}
	return &model.StorageUsage{Bytes: float64(u.Bytes), Files: int(u.Files)}, nil
}
