package query

import (
	"net/url"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// Shape is how read documents are returned (§3.6; honoured on lists too,
// §3.3): a projection, whether to drop the metadata fields, and which Ref
// fields to populate.
type Shape struct {
	// Fields (fields=a,b) keeps only these paths (and "_id", which
	// MongoDB always includes); empty keeps every field. Paths under
	// another listed path are dropped.
	Fields []string
	// NoMeta (meta=false) drops createdAt, updatedAt, schemaVersion, __v.
	NoMeta bool
	// HideVersion drops __v; get-one does so by default, lists do not.
	HideVersion bool
	// Populate lists the Ref paths to resolve, in the order named.
	Populate []Populate
}

// Populate is one path whose ObjectID(s) are replaced by the referenced
// documents (§3.6).
type Populate struct {
	Path       string // dotted path as named by the client
	Collection string // the target collection (the field's ref)
	Many       bool   // the path holds several IDs: an Array of Ref, or a Ref inside an array
}

// metaFields are the fields meta=false removes.
var metaFields = []string{"createdAt", "updatedAt", "schemaVersion", "__v"}

// ParseGetOne parses the query string of GET /api/data/:c/:id: fields,
// meta and populate/expand (§3.6). Other parameters are ignored. __v is
// hidden, as the original does for get-one.
//
// Errors: Invalid for a bad field name, or a populate path that is not
// declared in the collection (a declared path that is not a Ref is
// silently skipped, as in the original).
func ParseGetOne(values url.Values, fields []collections.Field) (*Shape, error) {
	s, err := parseShape(values, fields, true)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func parseShape(values url.Values, fields []collections.Field, hideVersion bool) (Shape, error) {
	s := Shape{HideVersion: hideVersion, NoMeta: values.Get("meta") == "false"}
	names := splitParams(values["fields"])
	for _, p := range names {
		if err := ValidatePath(p); err != nil {
			return Shape{}, err
		}
	}
	s.Fields = topmost(names)
	pop := values["populate"]
	if _, ok := values["populate"]; !ok {
		pop = values["expand"]
	}
	for _, p := range splitParams(pop) {
		if err := ValidatePath(p); err != nil {
			return Shape{}, err
		}
		f, many, ok := lookup(fields, p)
		if !ok {
			return Shape{}, errs.New(errs.Invalid, "Cannot populate %s: it is not a field of this collection.", quote(p))
		}
		switch {
		case f.Type == collections.Ref:
			s.Populate = append(s.Populate, Populate{Path: p, Collection: f.Ref, Many: many})
		case f.Type == collections.Array && f.Items != nil && f.Items.Type == collections.Ref:
			s.Populate = append(s.Populate, Populate{Path: p, Collection: f.Items.Ref, Many: true})
		}
	}
	return s, nil
}

// splitParams joins repeated comma-separated parameters into a list of
// trimmed, non-empty, distinct items.
func splitParams(vals []string) []string {
	var out []string
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" && !slices.Contains(out, item) {
				out = append(out, item)
			}
		}
	}
	return out
}

// topmost drops every path under another listed path: MongoDB rejects a
// projection with both "a" and "a.b".
func topmost(paths []string) []string {
	var out []string
	for _, p := range paths {
		under := false
		for _, q := range paths {
			if q != p && strings.HasPrefix(p, q+".") {
				under = true
				break
			}
		}
		if !under {
			out = append(out, p)
		}
	}
	return out
}

// Projection is the MongoDB projection of s, or nil for whole documents.
// fields with meta=false is allowed (the original failed): the meta fields
// are left out of the inclusion list.
func (s *Shape) Projection() bson.D {
	if len(s.Fields) > 0 {
		d := bson.D{}
		for _, f := range s.Fields {
			if s.NoMeta && slices.Contains(metaFields, f) {
				continue
			}
			d = append(d, bson.E{Key: f, Value: 1})
		}
		if len(d) == 0 {
			d = bson.D{{Key: "_id", Value: 1}}
		}
		return d
	}
	if s.NoMeta {
		d := bson.D{}
		for _, f := range metaFields {
			d = append(d, bson.E{Key: f, Value: 0})
		}
		return d
	}
	if s.HideVersion {
		return bson.D{{Key: "__v", Value: 0}}
	}
	return nil
}
