package files

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/urbackend/urbackend/policy"
	"github.com/urbackend/urbackend/principal"
)

// Paging of List, as the data routes page (contract/REST.md §3.3).
const (
	DefaultListLimit = 100
	MaxListLimit     = 100
)

// MsgListFailed is the client message of a listing that failed.
const MsgListFailed = "Could not list files."

// ListOptions select a page of files.
type ListOptions struct {
	// Prefix keeps the files whose path starts with it, when it starts
	// with "<projectId>/"; any other prefix keeps the files whose name
	// (the uploader's file name) starts with it. Empty: every file.
	Prefix string
	// Limit is the page size: 0 means DefaultListLimit; it is capped to
	// 1..MaxListLimit. Skip (at least 0) files are passed over first.
	Limit, Skip int64
	// Total asks for the number of matching files too.
	Total bool
}

// Listing is a page of files, newest first.
type Listing struct {
	Files []*File
	// Total is the number of matching files (when asked for, else -1).
	Total int64
}

// List returns a page of the caller's project's files, newest first:
// confirmed files only, the ones a public link serves and usage counts.
// Errors: Forbidden (not a secret key), Internal "Could not list files.".
func (s *Service) List(ctx context.Context, c *principal.Caller, o ListOptions) (*Listing, error) {
	if err := policy.RequireSecret(c.Policy()); err != nil {
		return nil, err
	}
	pid, db := projectOf(c)
	filter := bson.D{{Key: "metadata.projectId", Value: pid.Hex()}, {Key: "metadata.confirmed", Value: true}}
	if re := prefixPattern(pid.Hex(), o.Prefix); re != "" {
		filter = append(filter, bson.E{Key: "filename", Value: bson.Regex{Pattern: re}})
	}
	limit := o.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	limit = max(1, min(limit, MaxListLimit))
	skip := max(o.Skip, 0)
	g := s.gridfsOf(db)
	cur, err := g.files.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "uploadDate", Value: -1}, {Key: "_id", Value: 1}}).
		SetSkip(skip).SetLimit(limit))
	if err != nil {
		return nil, internal(err, MsgListFailed, "list files of %s", pid.Hex())
	}
	var docs []fileDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, MsgListFailed, "list files of %s", pid.Hex())
	}
	out := &Listing{Files: make([]*File, len(docs)), Total: -1}
	for i := range docs {
		out.Files[i] = docs[i].file()
	}
	if o.Total {
		n, err := g.files.CountDocuments(ctx, filter)
		if err != nil {
			return nil, internal(err, MsgListFailed, "count files of %s", pid.Hex())
		}
		out.Total = n
	}
	return out, nil
}

// prefixPattern is the anchored pattern of ListOptions.Prefix ("" for
// none). Names never hold "/", so a prefix starting with the project's
// folder can only mean a path.
func prefixPattern(projectID, prefix string) string {
	switch {
	case prefix == "":
		return ""
	case strings.HasPrefix(prefix, projectID+"/"):
		return "^" + regexp.QuoteMeta(prefix)
	}
	return "^" + regexp.QuoteMeta(projectID) + "/[0-9a-f-]{36}_" + regexp.QuoteMeta(prefix)
}

// URL is the public link of a stored path on a server whose external base
// URL is publicURL: <publicURL>/files/<path>, each segment escaped.
func URL(publicURL, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return publicURL + "/files/" + strings.Join(segs, "/")
}

// PathOf returns the path a client named a file with: a path as stored,
// or its public link on publicURL.
func PathOf(publicURL, p string) string {
	if rest, ok := strings.CutPrefix(p, publicURL+"/files/"); ok && publicURL != "" {
		return rest
	}
	return p
}
