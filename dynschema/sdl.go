package dynschema

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/urbackend/urbackend/catalog"
	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// Build returns the GraphQL schema of a project (contract/GRAPHQL.md):
// for every data collection an object type, its Input, Patch, Filter,
// Sort, SortField, Page and Change types and its root fields, plus the
// auth mutations, me, the file operations and the shared scalars, enums
// and filters.
//
// A flexible collection (no declared fields) has an object type with _id,
// createdAt, updatedAt and data: JSON (the whole document in the REST
// wire form); its Input and Patch have one field, data: JSON!, the JSON
// object to store or to $set; it filters and sorts on _id and the
// timestamps only. A top-level field named and, or or not has no
// condition in its collection's Filter (those names combine filters).
//
// Errors: Invalid when the definitions do not make a valid schema (which
// collections.Define prevents).
func Build(snap *catalog.Snapshot) (*ast.Schema, error) {
	s, _, err := build(snap)
	return s, err
}

func build(snap *catalog.Snapshot) (*ast.Schema, *model, error) {
	m := newModel(snap)
	sdl := m.sdl()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "project.graphqls", Input: sdl})
	if err != nil {
		return nil, nil, errs.Wrap(errs.Invalid, err, fmt.Sprintf("the collections do not make a valid GraphQL schema: %v", err))
	}
	return s, m, nil
}

// sdlWriter accumulates SDL text.
type sdlWriter struct{ strings.Builder }

func (w *sdlWriter) line(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

func (w *sdlWriter) doc(text string) {
	w.line(`"""%s"""`, text)
}

// fieldDoc writes the description of the field that follows.
func (w *sdlWriter) fieldDoc(text string) {
	w.line(`  """%s"""`, text)
}

// common are the definitions every project's schema shares.
const common = `"""A date-time in RFC 3339 form with milliseconds, UTC (2024-01-15T10:30:00.000Z). Inputs also accept a date (2024-01-15) or milliseconds since 1970."""
scalar Time

"""Any JSON value: documents appear in the REST wire form (ids as 24-hex strings, dates as ISO strings)."""
scalar JSON

enum SortOrder {
  ASC
  DESC
}

"""The kind of a committed write."""
enum ChangeOp {
  INSERT
  UPDATE
  DELETE
}

"""Conditions on a String field; all given conditions must hold. regex is case-insensitive (RE2 syntax, at most 128 characters)."""
input StringFilter {
  eq: String
  ne: String
  in: [String]
  nin: [String]
  gt: String
  gte: String
  lt: String
  lte: String
  regex: String
  exists: Boolean
}

"""Conditions on a Number field."""
input FloatFilter {
  eq: Float
  ne: Float
  in: [Float]
  nin: [Float]
  gt: Float
  gte: Float
  lt: Float
  lte: Float
  exists: Boolean
}

"""Conditions on a Boolean field."""
input BooleanFilter {
  eq: Boolean
  ne: Boolean
  exists: Boolean
}

"""Conditions on a Date field."""
input TimeFilter {
  eq: Time
  ne: Time
  gt: Time
  gte: Time
  lt: Time
  lte: Time
  exists: Boolean
}

"""Conditions on an _id or a Ref field."""
input IDFilter {
  eq: ID
  ne: ID
  in: [ID]
  nin: [ID]
}

"""An end user's public profile."""
type User {
  _id: ID!
  username: String
  name: String
  avatarUrl: String
  createdAt: Time
  updatedAt: Time
}

"""What a sign-in hands out. The tokens are null when signUp found an unverified user with that e-mail and sent a new verification code instead."""
type AuthPayload {
  accessToken: String
  refreshToken: String
  expiresIn: String
  user: User
}
`

// sdl writes the whole schema.
func (m *model) sdl() string {
	w := &sdlWriter{}
	w.WriteString(common)
	if m.fileTypes {
		w.WriteByte('\n')
		w.WriteString(fileSDL)
	}
	for _, c := range m.colls {
		w.WriteByte('\n')
		m.writeCollection(w, c)
	}
	w.WriteByte('\n')
	w.line("type Query {")
	w.fieldDoc("The signed-in user (from the Authorization bearer token).")
	w.line("  me: User")
	m.writeFileQueries(w)
	for _, c := range m.colls {
		t, b := c.typ, c.base
		w.line("  %s(filter: %sFilter, sort: [%sSort!], limit: Int, skip: Int): [%s!]!", b, t, t, t)
		w.line("  %sById(id: ID!): %s", b, t)
		w.line("  %sCount(filter: %sFilter): Int!", b, t)
		w.line("  %sPage(filter: %sFilter, sort: [%sSort!], first: Int, after: String): %sPage!", b, t, t, t)
	}
	w.line("}")
	w.WriteByte('\n')
	w.line("type Mutation {")
	w.line("  signUp(email: String!, password: String!, name: String, username: String): AuthPayload!")
	w.line("  login(email: String!, password: String!): AuthPayload!")
	w.line("  refreshToken(refreshToken: String!): AuthPayload!")
	w.line("  logout(refreshToken: String): Boolean!")
	m.writeFileMutations(w)
	for _, c := range m.colls {
		t := c.typ
		w.line("  insert%s(doc: %sInput!): %s!", t, t, t)
		w.line("  insertMany%s(docs: [%sInput!]!): [%s!]!", t, t, t)
		w.line("  update%s(id: ID!, set: %sPatch!): %s!", t, t, t)
		w.line("  replace%s(id: ID!, doc: %sInput!): %s!", t, t, t)
		w.line("  delete%s(id: ID!): %s!", t, t)
	}
	w.line("}")
	if len(m.colls) > 0 {
		w.WriteByte('\n')
		w.line("type Subscription {")
		for _, c := range m.colls {
			w.line("  %sChanged(filter: %sFilter): %sChange!", c.base, c.typ, c.typ)
		}
		w.line("}")
	}
	return w.String()
}

// writeCollection writes a collection's own types.
func (m *model) writeCollection(w *sdlWriter, c *collInfo) {
	t := c.typ
	w.doc(fmt.Sprintf("A document of the %s collection.", c.name))
	w.line("type %s {", t)
	w.line("  _id: ID!")
	if c.flexible {
		w.fieldDoc("The whole document (a flexible collection declares no fields).")
		w.line("  data: JSON")
	}
	for _, f := range c.fields {
		w.line("  %s: %s", f.Key, m.outputType(t, f))
	}
	w.line("  createdAt: Time")
	w.line("  updatedAt: Time")
	w.line("}")
	w.WriteByte('\n')

	if c.flexible {
		w.line("input %sInput {", t)
		w.fieldDoc("The document, a JSON object.")
		w.line("  data: JSON!")
		w.line("}")
		w.WriteByte('\n')
		w.line("input %sPatch {", t)
		w.fieldDoc("The members to set, a JSON object (dotted paths allowed).")
		w.line("  data: JSON!")
		w.line("}")
	} else {
		m.writeInput(w, t+"Input", t, c.fields, true)
		w.WriteByte('\n')
		m.writePatch(w, t, c.fields)
	}
	w.WriteByte('\n')

	w.line("input %sFilter {", t)
	w.line("  and: [%sFilter!]", t)
	w.line("  or: [%sFilter!]", t)
	w.line("  not: %sFilter", t)
	w.line("  _id: IDFilter")
	for _, f := range c.fields {
		if ft, ok := m.filterType(t, f); ok && !logical[f.Key] {
			w.line("  %s: %s", f.Key, ft)
		}
	}
	w.line("  createdAt: TimeFilter")
	w.line("  updatedAt: TimeFilter")
	w.line("}")
	w.WriteByte('\n')

	w.line("input %sSort {", t)
	w.line("  field: %sSortField!", t)
	w.line("  order: SortOrder = ASC")
	w.line("}")
	w.WriteByte('\n')
	w.line("enum %sSortField {", t)
	for _, n := range sortFields(c) {
		w.line("  %s", n)
	}
	w.line("}")
	w.WriteByte('\n')

	w.line("type %sPage {", t)
	w.line("  items: [%s!]!", t)
	w.fieldDoc("The cursor to pass as after for the next page; null when the page is empty.")
	w.line("  endCursor: String")
	w.line("  hasNextPage: Boolean!")
	w.line("}")
	w.WriteByte('\n')

	w.line("type %sChange {", t)
	w.line("  op: ChangeOp!")
	w.line("  id: ID!")
	w.fieldDoc("The document after the write; null for deletes.")
	w.line("  doc: %s", t)
	w.line("}")
	m.writeNested(w, t, c.fields)
}

// logical are the members of a collection's Filter that combine filters;
// a top-level field of the same name cannot be filtered on here.
var logical = map[string]bool{"and": true, "or": true, "not": true}

// sortFields are the values of a collection's SortField enum: _id, the
// top-level scalar and Ref fields, and the timestamps.
func sortFields(c *collInfo) []string {
	out := []string{"_id"}
	for _, f := range c.fields {
		if f.Type.Primitive() || f.Type == collections.Ref {
			out = append(out, f.Key)
		}
	}
	return append(out, "createdAt", "updatedAt")
}

// writeNested writes the object, input, patch and filter types of the
// Object fields (and object Array items) below prefix.
func (m *model) writeNested(w *sdlWriter, prefix string, fields []collections.Field) {
	for _, f := range fields {
		sub, ok := nestedFields(f)
		if !ok {
			continue
		}
		n := prefix + collections.TypeName(f.Key)
		w.WriteByte('\n')
		w.line("type %s {", n)
		for _, g := range sub {
			w.line("  %s: %s", g.Key, m.outputType(n, g))
		}
		w.line("}")
		w.WriteByte('\n')
		m.writeInput(w, n+"Input", n, sub, true)
		w.WriteByte('\n')
		m.writePatch(w, n, sub)
		if m.hasFilter(n, sub) {
			w.WriteByte('\n')
			w.line("input %sFilter {", n)
			for _, g := range sub {
				if ft, ok := m.filterType(n, g); ok {
					w.line("  %s: %s", g.Key, ft)
				}
			}
			w.line("}")
		}
		m.writeNested(w, n, sub)
	}
}

func (m *model) writeInput(w *sdlWriter, name, prefix string, fields []collections.Field, full bool) {
	w.line("input %s {", name)
	for _, f := range fields {
		t := m.inputType(prefix, f, full)
		if full && f.Required {
			t += "!"
		}
		w.line("  %s: %s", f.Key, t)
	}
	w.line("}")
}

// writePatch writes prefix+"Patch": every field optional; nested objects
// patch member by member.
func (m *model) writePatch(w *sdlWriter, prefix string, fields []collections.Field) {
	m.writeInput(w, prefix+"Patch", prefix, fields, false)
}

// outputType is the GraphQL output type of field f of object type owner.
func (m *model) outputType(owner string, f collections.Field) string {
	switch f.Type {
	case collections.Object:
		return owner + collections.TypeName(f.Key)
	case collections.Array:
		if f.Items == nil {
			return "JSON"
		}
		it := *f.Items
		it.Key = f.Key
		return "[" + m.outputType(owner, it) + "]"
	case collections.Ref:
		if t, ok := m.refType(f.Ref); ok {
			return t
		}
		return "ID"
	}
	return scalarType(f.Type)
}

// inputType is the GraphQL input type of field f: full for Input types
// (nested objects as Input), else for Patch types (nested objects as
// Patch). Array items are always whole (Input).
func (m *model) inputType(owner string, f collections.Field, full bool) string {
	switch f.Type {
	case collections.Object:
		if full {
			return owner + collections.TypeName(f.Key) + "Input"
		}
		return owner + collections.TypeName(f.Key) + "Patch"
	case collections.Array:
		if f.Items == nil {
			return "JSON"
		}
		it := *f.Items
		it.Key = f.Key
		return "[" + m.inputType(owner, it, true) + "]"
	case collections.Ref:
		return "ID"
	}
	return scalarType(f.Type)
}

// filterType is the filter input of field f, if it can be filtered on.
func (m *model) filterType(owner string, f collections.Field) (string, bool) {
	switch f.Type {
	case collections.Object:
		n := owner + collections.TypeName(f.Key)
		return n + "Filter", m.hasFilter(n, f.Fields)
	case collections.Array:
		if f.Items == nil {
			return "", false
		}
		it := *f.Items
		it.Key = f.Key
		return m.filterType(owner, it)
	case collections.Ref:
		return "IDFilter", true
	}
	return scalarType(f.Type) + "Filter", true
}

// hasFilter reports whether the nested object type n has a filterable
// member (an input type needs at least one field).
func (m *model) hasFilter(n string, fields []collections.Field) bool {
	for _, f := range fields {
		if _, ok := m.filterType(n, f); ok {
			return true
		}
	}
	return false
}

func scalarType(t collections.FieldType) string {
	switch t {
	case collections.Number:
		return "Float"
	case collections.Boolean:
		return "Boolean"
	case collections.Date:
		return "Time"
	}
	return "String"
}
