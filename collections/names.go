package collections

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/urbackend/urbackend/errs"
)

var collectionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,62}$`)

// UsersCollection holds a project's end users; it is managed by the auth
// API, never defined or written as a data collection.
const UsersCollection = "users"

// ValidateName checks a collection name: reserved names, characters, and
// that it maps to a GraphQL name. Errors: Invalid.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errs.New(errs.Invalid, "collection name is required")
	case strings.EqualFold(name, UsersCollection):
		return errs.New(errs.Invalid, "collection name %q is reserved: end users live there and are managed by the auth API", name)
	case strings.HasPrefix(name, "system."), strings.Contains(name, "$"):
		return errs.New(errs.Invalid, "collection name %q is reserved", name)
	case !collectionNameRE.MatchString(name):
		return errs.New(errs.Invalid, "collection name %q must start with a letter and contain only letters, digits, _ and - (at most 63)", name)
	case strings.HasPrefix(name, "fs.") || name == "fs":
		return errs.New(errs.Invalid, "collection name %q is reserved for file storage", name)
	}
	if TypeName(name) == "" {
		return errs.New(errs.Invalid, "collection name %q does not map to a GraphQL name", name)
	}
	return nil
}

// TypeName is the GraphQL object type of a collection: its words (split at
// _ and -) each with a capital first letter. blog_posts, blog-posts and
// blogPosts all give BlogPosts.
func TypeName(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' }) {
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// FieldBase is the base of a collection's root fields: its type name with a
// lower-case first letter (blogPosts).
func FieldBase(name string) string {
	t := []rune(TypeName(name))
	if len(t) == 0 {
		return ""
	}
	t[0] = unicode.ToLower(t[0])
	return string(t)
}

// Names built into every project's GraphQL schema.
var (
	reservedTypes = []string{
		"Query", "Mutation", "Subscription", "User", "AuthPayload", "ChangeOp", "SortOrder",
		"StringFilter", "FloatFilter", "BooleanFilter", "TimeFilter", "IDFilter",
		"Time", "JSON", "ID", "String", "Float", "Int", "Boolean", "Users",
	}
	reservedRootFields = []string{"me", "signUp", "login", "refreshToken", "logout", "users", "_service", "_entities"}
	// The file operations (File, Upload, files, uploadFile, deleteFile)
	// are not reserved: "files" is a common collection name in existing
	// urBackend projects, so a collection that takes one of those names
	// wins and the project's schema leaves out the clashing file
	// operation (dynschema), instead of refusing the collection.
)

// GraphQLNames lists every type and root field name the per-project
// GraphQL API generates for one collection definition.
func GraphQLNames(name string, fields []Field) (types, rootFields []string) {
	t, b := TypeName(name), FieldBase(name)
	types = []string{t, t + "Filter", t + "Sort", t + "SortField", t + "Page", t + "Input", t + "Patch", t + "Change"}
	var nested func(prefix string, fs []Field)
	nested = func(prefix string, fs []Field) {
		for _, f := range fs {
			obj := f.Fields
			if f.Type == Array && f.Items != nil && f.Items.Type == Object {
				obj = f.Items.Fields
			} else if f.Type != Object {
				continue
			}
			n := prefix + TypeName(f.Key)
			types = append(types, n, n+"Input", n+"Patch", n+"Filter")
			nested(n, obj)
		}
	}
	nested(t, fields)
	rootFields = []string{b, b + "ById", b + "Count", b + "Page", "insert" + t, "insertMany" + t,
		"update" + t, "replace" + t, "delete" + t, b + "Changed"}
	return types, rootFields
}

// checkGraphQLNames refuses a definition whose generated GraphQL names clash
// with built-in names, with each other, or with another collection's.
func checkGraphQLNames(name string, fields []Field, others []*Collection) error {
	types, roots := GraphQLNames(name, fields)
	owner := map[string]string{}
	for _, r := range reservedTypes {
		owner["type "+r] = ""
	}
	for _, r := range reservedRootFields {
		owner["field "+r] = ""
	}
	for _, o := range others {
		if o.Name == name {
			continue
		}
		ot, or := GraphQLNames(o.Name, o.Fields)
		for _, n := range ot {
			owner["type "+n] = o.Name
		}
		for _, n := range or {
			owner["field "+n] = o.Name
		}
	}
	mine := map[string]bool{}
	check := func(kind, n string) error {
		k := kind + " " + n
		if mine[k] {
			return errs.New(errs.Invalid, "collection %q: GraphQL %s name %q would be generated twice; rename a field", name, kind, n)
		}
		mine[k] = true
		if o, ok := owner[k]; ok {
			if o == "" {
				return errs.New(errs.Invalid, "collection %q maps to GraphQL %s name %q, which is reserved", name, kind, n)
			}
			return errs.New(errs.Invalid, "collection %q maps to GraphQL %s name %q, which collection %q already uses", name, kind, n, o)
		}
		return nil
	}
	for _, n := range types {
		if err := check("type", n); err != nil {
			return err
		}
	}
	for _, n := range roots {
		if err := check("field", n); err != nil {
			return err
		}
	}
	return nil
}
