package dynschema

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
)

// The model is what the executor knows about the generated schema beyond
// the *ast.Schema: which collection each type and root field stands for,
// and which declared field each object field reads.

// userType is the GraphQL type of the users collection: its public
// profile only.
const userType = "User"

// collInfo is one data collection of the schema.
type collInfo struct {
	name     string // collection name (blog-posts)
	typ      string // object type (BlogPosts)
	base     string // root field base (blogPosts)
	fields   []collections.Field
	flexible bool // no declared fields: documents are any JSON object
}

// objKind tells what an object type's values are.
type objKind int

const (
	objDoc    objKind = iota // a collection document (bson.D)
	objNested                // the value of an Object field (bson.D)
	objUser                  // a user's public profile (bson.D)
	objPage                  // a cursor page (*page)
	objChange                // a subscription event (*change)
	objAuth                  // an auth payload (*authPayload)
	objFile                  // a stored file (*fileValue)
)

// objInfo describes one object type of the schema.
type objInfo struct {
	kind objKind
	coll *collInfo
	// fields are the declared fields of a document or nested object, by
	// key (= GraphQL field name).
	fields map[string]collections.Field
}

// rootKind is what a root field does.
type rootKind int

const (
	rootList rootKind = iota
	rootByID
	rootCount
	rootPage
	rootInsert
	rootInsertMany
	rootUpdate
	rootReplace
	rootDelete
	rootChanged
	rootMe
	rootSignUp
	rootLogin
	rootRefresh
	rootLogout
	rootFiles
	rootUploadFile
	rootDeleteFile
)

// reads reports whether the root field reads its collection (so the RLS
// read check of the field middleware applies).
func (k rootKind) reads() bool {
	return k == rootList || k == rootByID || k == rootCount || k == rootPage || k == rootChanged
}

type rootField struct {
	kind rootKind
	coll *collInfo // nil for the auth and file fields
}

// model is the executor's map of a built schema.
type model struct {
	colls   []*collInfo          // sorted by name
	byName  map[string]*collInfo // collection name → info
	objects map[string]*objInfo  // object type name → info
	roots   map[ast.Operation]map[string]rootField
	// fileTypes tells that the schema has the Upload and File types.
	fileTypes bool
}

// newModel maps a project's collections to GraphQL names. The users
// collection is never a data collection here.
func newModel(snap *catalog.Snapshot) *model {
	m := &model{
		byName:  map[string]*collInfo{},
		objects: map[string]*objInfo{},
		roots: map[ast.Operation]map[string]rootField{
			ast.Query:        {"me": {kind: rootMe}},
			ast.Mutation:     {"signUp": {kind: rootSignUp}, "login": {kind: rootLogin}, "refreshToken": {kind: rootRefresh}, "logout": {kind: rootLogout}},
			ast.Subscription: {},
		},
	}
	m.objects[userType] = &objInfo{kind: objUser, fields: map[string]collections.Field{}}
	m.objects["AuthPayload"] = &objInfo{kind: objAuth}
	names := make([]string, 0, len(snap.Collections))
	for name := range snap.Collections {
		if !strings.EqualFold(name, collections.UsersCollection) && collections.TypeName(name) != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		c := snap.Collections[name]
		ci := &collInfo{name: name, typ: collections.TypeName(name), base: collections.FieldBase(name), fields: c.Fields, flexible: len(c.Fields) == 0}
		m.colls = append(m.colls, ci)
		m.byName[name] = ci
	}
	for _, ci := range m.colls {
		m.objects[ci.typ] = &objInfo{kind: objDoc, coll: ci, fields: fieldMap(ci.fields)}
		m.objects[ci.typ+"Page"] = &objInfo{kind: objPage, coll: ci}
		m.objects[ci.typ+"Change"] = &objInfo{kind: objChange, coll: ci}
		m.addNested(ci, ci.typ, ci.fields)
		t, b := ci.typ, ci.base
		for f, k := range map[string]rootKind{b: rootList, b + "ById": rootByID, b + "Count": rootCount, b + "Page": rootPage} {
			m.roots[ast.Query][f] = rootField{kind: k, coll: ci}
		}
		for f, k := range map[string]rootKind{"insert" + t: rootInsert, "insertMany" + t: rootInsertMany, "update" + t: rootUpdate, "replace" + t: rootReplace, "delete" + t: rootDelete} {
			m.roots[ast.Mutation][f] = rootField{kind: k, coll: ci}
		}
		m.roots[ast.Subscription][b+"Changed"] = rootField{kind: rootChanged, coll: ci}
	}
	m.addFiles()
	return m
}

// addNested registers the object types of Object fields and of Array items
// that are objects, named prefix + the field's type name.
func (m *model) addNested(ci *collInfo, prefix string, fields []collections.Field) {
	for _, f := range fields {
		sub, ok := nestedFields(f)
		if !ok {
			continue
		}
		n := prefix + collections.TypeName(f.Key)
		m.objects[n] = &objInfo{kind: objNested, coll: ci, fields: fieldMap(sub)}
		m.addNested(ci, n, sub)
	}
}

// nestedFields returns the members of an Object field or of an Array
// field's object items.
func nestedFields(f collections.Field) ([]collections.Field, bool) {
	switch {
	case f.Type == collections.Object:
		return f.Fields, true
	case f.Type == collections.Array && f.Items != nil && f.Items.Type == collections.Object:
		return f.Items.Fields, true
	}
	return nil, false
}

func fieldMap(fields []collections.Field) map[string]collections.Field {
	out := make(map[string]collections.Field, len(fields))
	for _, f := range fields {
		out[f.Key] = f
	}
	return out
}

// refTarget is the collection a Ref field (or an Array of Ref) points to.
func refTarget(f collections.Field) (string, bool) {
	switch {
	case f.Type == collections.Ref:
		return f.Ref, true
	case f.Type == collections.Array && f.Items != nil && f.Items.Type == collections.Ref:
		return f.Items.Ref, true
	}
	return "", false
}

// refType is the GraphQL type of the documents of collection name.
func (m *model) refType(name string) (string, bool) {
	if name == collections.UsersCollection {
		return userType, true
	}
	if ci, ok := m.byName[name]; ok {
		return ci.typ, true
	}
	return "", false
}
