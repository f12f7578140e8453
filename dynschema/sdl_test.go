package dynschema

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/projects"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type F = collections.Field

// snapshot returns a snapshot with the given collections.
func snapshot(colls ...*collections.Collection) *catalog.Snapshot {
	m := map[string]*collections.Collection{}
	for _, c := range colls {
		if c.RLS.Mode == "" {
			c.RLS = collections.DefaultRLS()
		}
		m[c.Name] = c
	}
	return &catalog.Snapshot{Project: &projects.Project{}, Collections: m}
}

func coll(name string, fields ...F) *collections.Collection {
	if fields == nil {
		fields = []F{}
	}
	return &collections.Collection{Name: name, Fields: fields}
}

// blogSnapshot has every field type, nested objects, object array items,
// refs (to users, to another collection, to itself), an odd name and a
// flexible collection.
func blogSnapshot() *catalog.Snapshot {
	return snapshot(
		coll("authors",
			F{Key: "name", Type: collections.String, Required: true},
			F{Key: "bio", Type: collections.String},
		),
		coll("blog-posts",
			F{Key: "title", Type: collections.String, Required: true, Unique: true},
			F{Key: "views", Type: collections.Number},
			F{Key: "published", Type: collections.Boolean},
			F{Key: "at", Type: collections.Date},
			F{Key: "author", Type: collections.Ref, Ref: "authors"},
			F{Key: "owner", Type: collections.Ref, Ref: "users"},
			F{Key: "parent", Type: collections.Ref, Ref: "blog-posts"},
			F{Key: "tags", Type: collections.Array, Items: &F{Type: collections.String}},
			F{Key: "scores", Type: collections.Array, Items: &F{Type: collections.Number}},
			F{Key: "editors", Type: collections.Array, Items: &F{Type: collections.Ref, Ref: "authors"}},
			F{Key: "anything", Type: collections.Array},
			F{Key: "links", Type: collections.Array, Items: &F{Type: collections.Object, Fields: []F{
				{Key: "url", Type: collections.String, Required: true},
				{Key: "clicks", Type: collections.Number},
			}}},
			F{Key: "meta", Type: collections.Object, Fields: []F{
				{Key: "seo", Type: collections.Object, Fields: []F{{Key: "title", Type: collections.String}}},
				{Key: "rating", Type: collections.Number, Required: true},
				{Key: "extra", Type: collections.Array},
			}},
		),
		coll("notes"),
	)
}

func TestGoldenSDL(t *testing.T) {
	cases := []struct {
		name string
		snap *catalog.Snapshot
	}{
		{"empty", snapshot()},
		{"blog", blogSnapshot()},
		{"names", snapshot(
			coll("blog_posts", F{Key: "title", Type: collections.String}),
			coll("userProfiles", F{Key: "user", Type: collections.Ref, Ref: "users"}, F{Key: "_private", Type: collections.Boolean}, F{Key: "or", Type: collections.String}),
		)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, m, err := build(tc.snap)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			got := m.sdl()
			// The built schema must hold every type the SDL declares.
			var b strings.Builder
			formatter.NewFormatter(&b).FormatSchema(s)
			if !strings.Contains(b.String(), "type Query") {
				t.Fatalf("formatted schema has no Query type:\n%s", b.String())
			}
			path := filepath.Join("testdata", tc.name+".graphqls")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("SDL differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestBuildNames(t *testing.T) {
	for _, name := range []string{"blog_posts", "blog-posts", "blogPosts"} {
		s, err := Build(snapshot(coll(name, F{Key: "title", Type: collections.String})))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Types["BlogPosts"] == nil {
			t.Errorf("%s: no type BlogPosts", name)
		}
		for _, f := range []string{"blogPosts", "blogPostsById", "blogPostsCount", "blogPostsPage"} {
			if s.Query.Fields.ForName(f) == nil {
				t.Errorf("%s: no Query.%s", name, f)
			}
		}
		for _, f := range []string{"insertBlogPosts", "insertManyBlogPosts", "updateBlogPosts", "replaceBlogPosts", "deleteBlogPosts"} {
			if s.Mutation.Fields.ForName(f) == nil {
				t.Errorf("%s: no Mutation.%s", name, f)
			}
		}
		if s.Subscription.Fields.ForName("blogPostsChanged") == nil {
			t.Errorf("%s: no Subscription.blogPostsChanged", name)
		}
	}
}

// TestGraphQLNamesMatch checks that every name collections reserves for a
// definition is what Build generates, so the clash checks at definition
// time cover the real schema.
func TestGraphQLNamesMatch(t *testing.T) {
	snap := blogSnapshot()
	s, err := Build(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Collections {
		types, roots := collections.GraphQLNames(c.Name, c.Fields)
		for _, n := range types {
			if s.Types[n] == nil && !strings.HasSuffix(n, "Filter") {
				t.Errorf("%s: reserved type %s is not generated", c.Name, n)
			}
		}
		for _, n := range roots {
			if s.Query.Fields.ForName(n) == nil && s.Mutation.Fields.ForName(n) == nil && s.Subscription.Fields.ForName(n) == nil {
				t.Errorf("%s: reserved root field %s is not generated", c.Name, n)
			}
		}
	}
	// A user's type exposes only the public profile.
	var got []string
	for _, f := range s.Types["User"].Fields {
		if !strings.HasPrefix(f.Name, "__") {
			got = append(got, f.Name)
		}
	}
	if diff := cmp.Diff(collections.UserPublicFields, got); diff != "" {
		t.Errorf("User fields (-want +got):\n%s", diff)
	}
}

// TestFileOperationsShadowed checks that a collection defined before the
// file operations' names were reserved keeps its names: the file
// operations it shadows are left out, the schema still builds.
func TestFileOperationsShadowed(t *testing.T) {
	cases := []struct {
		name          string
		snap          *catalog.Snapshot
		query, mutate []string // file fields present
		types         bool
	}{
		{"none", snapshot(coll("notes")), []string{"files"}, []string{"deleteFile", "uploadFile"}, true},
		{"files", snapshot(coll("files")), nil, []string{"deleteFile", "uploadFile"}, true},
		{"file", snapshot(coll("file")), nil, nil, false},
		{"upload", snapshot(coll("upload")), nil, []string{"deleteFile"}, false},
		{"uploadFile", snapshot(coll("upload_file")), []string{"files"}, []string{"deleteFile"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Build(tc.snap)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			var q, m []string
			// Each file field is told from a collection's by an argument.
			if fd := s.Query.Fields.ForName("files"); fd != nil && fd.Arguments.ForName("prefix") != nil {
				q = append(q, "files")
			}
			for f, arg := range map[string]string{"uploadFile": "file", "deleteFile": "path"} {
				if fd := s.Mutation.Fields.ForName(f); fd != nil && fd.Arguments.ForName(arg) != nil {
					m = append(m, f)
				}
			}
			slices.Sort(m)
			if diff := cmp.Diff(tc.query, q); diff != "" {
				t.Errorf("Query file fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.mutate, m); diff != "" {
				t.Errorf("Mutation file fields (-want +got):\n%s", diff)
			}
			if got := s.Types["Upload"] != nil && s.Types["Upload"].Kind == "SCALAR"; got != tc.types {
				t.Errorf("scalar Upload: got %v, want %v", got, tc.types)
			}
		})
	}
}
