package collections

import (
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/urbackend/urbackend/errs"
)

// FieldType is the declared type of a field.
type FieldType string

// The field types.
const (
	String  FieldType = "String"
	Number  FieldType = "Number"
	Boolean FieldType = "Boolean"
	Date    FieldType = "Date"
	Object  FieldType = "Object"
	Array   FieldType = "Array"
	Ref     FieldType = "Ref"
)

// ParseFieldType accepts a type name with any capitalisation ("string",
// "String", "STRING").
func ParseFieldType(s string) (FieldType, bool) {
	for _, t := range []FieldType{String, Number, Boolean, Date, Object, Array, Ref} {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// Primitive reports whether values of t are scalars that can be unique or
// have a default.
func (t FieldType) Primitive() bool { return t == String || t == Number || t == Boolean || t == Date }

// MaxDepth is how deeply fields may nest: a top-level field is at depth 1,
// so an Object may appear at depths 1 and 2.
const MaxDepth = 3

// Field is one declared field. Items describes an Array's elements (Key is
// empty there); Fields describes an Object's members.
type Field struct {
	Key      string    `bson:"key" json:"key"`
	Type     FieldType `bson:"type" json:"type"`
	Required bool      `bson:"required" json:"required"`
	Unique   bool      `bson:"unique" json:"unique"`
	Ref      string    `bson:"ref,omitempty" json:"ref,omitempty"`
	Default  any       `bson:"default,omitempty" json:"default,omitempty"`
	Format   string    `bson:"format,omitempty" json:"format,omitempty"`
	Items    *Field    `bson:"items,omitempty" json:"items,omitempty"`
	Fields   []Field   `bson:"fields,omitempty" json:"fields,omitempty"`
}

// Formats a String field may declare.
var Formats = []string{"email", "url", "color", "slug"}

// System fields every document has; they cannot be declared.
var systemFields = map[string]bool{"_id": true, "createdAt": true, "updatedAt": true}

var fieldKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// validateFields checks fields at the given depth (1 = top level); path is
// the dotted prefix for messages. refs collects every referenced collection.
func validateFields(fields []Field, depth int, path string, refs map[string]string) error {
	seen := map[string]bool{}
	for i := range fields {
		f := &fields[i]
		f.Key = strings.TrimSpace(strings.TrimPrefix(f.Key, "\uFEFF"))
		full := path + f.Key
		switch {
		case f.Key == "":
			return errs.New(errs.Invalid, "field name is required (field %d%s)", i+1, inPath(path))
		case depth == 1 && systemFields[f.Key]:
			return errs.New(errs.Invalid, "field %q is a system field and cannot be declared", full)
		case strings.HasPrefix(f.Key, "__"):
			return errs.New(errs.Invalid, "field %q: names starting with __ are reserved", full)
		case !fieldKeyRE.MatchString(f.Key):
			return errs.New(errs.Invalid, "field %q: a field name starts with a letter or _ and has only letters, digits and _ (at most 64)", full)
		case f.Key == "true" || f.Key == "false" || f.Key == "null":
			return errs.New(errs.Invalid, "field %q: this name is reserved in GraphQL", full)
		case seen[f.Key]:
			return errs.New(errs.Invalid, "field %q is declared twice", full)
		}
		seen[f.Key] = true
		if err := validateField(f, depth, full, refs); err != nil {
			return err
		}
	}
	return nil
}

func inPath(path string) string {
	if path == "" {
		return ""
	}
	return " of " + strings.TrimSuffix(path, ".")
}

func validateField(f *Field, depth int, full string, refs map[string]string) error {
	t, ok := ParseFieldType(string(f.Type))
	if !ok {
		return errs.New(errs.Invalid, "field %q: unknown type %q (use String, Number, Boolean, Date, Object, Array or Ref)", full, f.Type)
	}
	f.Type = t
	if f.Unique {
		if depth != 1 || !t.Primitive() {
			return errs.New(errs.Invalid, "field %q: unique is only supported for top-level String, Number, Boolean and Date fields", full)
		}
	}
	if f.Ref != "" && t != Ref {
		return errs.New(errs.Invalid, "field %q: ref is only allowed on Ref fields", full)
	}
	if len(f.Fields) > 0 && t != Object {
		return errs.New(errs.Invalid, "field %q: fields are only allowed on Object fields", full)
	}
	if f.Items != nil && t != Array {
		return errs.New(errs.Invalid, "field %q: items are only allowed on Array fields", full)
	}
	if f.Format != "" {
		if t != String || !slices.Contains(Formats, f.Format) {
			return errs.New(errs.Invalid, "field %q: format is one of email, url, color, slug and only for String fields", full)
		}
	}
	if err := validateDefault(f, full); err != nil {
		return err
	}
	switch t {
	case Ref:
		f.Ref = strings.TrimSpace(f.Ref)
		if f.Ref == "" {
			return errs.New(errs.Invalid, "field %q: a Ref field needs ref, the name of the collection it points to", full)
		}
		refs[full] = f.Ref
	case Object:
		if depth >= MaxDepth {
			return errs.New(errs.Invalid, "field %q: nesting depth exceeded (fields nest at most %d levels)", full, MaxDepth)
		}
		if len(f.Fields) == 0 {
			return errs.New(errs.Invalid, "field %q: an Object field needs fields", full)
		}
		return validateFields(f.Fields, depth+1, full+".", refs)
	case Array:
		if f.Items == nil {
			return nil // an array of any JSON values
		}
		it := f.Items
		it.Key = ""
		itemType, ok := ParseFieldType(string(it.Type))
		if !ok || itemType == Array {
			return errs.New(errs.Invalid, "field %q: items.type must be String, Number, Boolean, Date, Object or Ref", full)
		}
		it.Type = itemType
		if it.Required || it.Unique || it.Default != nil {
			return errs.New(errs.Invalid, "field %q: items take only type, ref, format and fields", full)
		}
		if itemType == Object && depth >= MaxDepth {
			return errs.New(errs.Invalid, "field %q: nesting depth exceeded (fields nest at most %d levels)", full, MaxDepth)
		}
		return validateField(it, depth, full+"[]", refs)
	}
	return nil
}

func validateDefault(f *Field, full string) error {
	if f.Default == nil {
		return nil
	}
	bad := errs.New(errs.Invalid, "field %q: the default must be a %s", full, f.Type)
	if f.Required {
		return errs.New(errs.Invalid, "field %q: a required field cannot have a default", full)
	}
	switch f.Type {
	case String:
		if _, ok := f.Default.(string); !ok {
			return bad
		}
	case Number:
		n, ok := toFloat(f.Default)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return bad
		}
		f.Default = n
	case Boolean:
		if _, ok := f.Default.(bool); !ok {
			return bad
		}
	default:
		return errs.New(errs.Invalid, "field %q: defaults are only supported on String, Number and Boolean fields", full)
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// uniqueKeys lists the top-level unique fields.
func uniqueKeys(fields []Field) []string {
	var out []string
	for _, f := range fields {
		if f.Unique {
			out = append(out, f.Key)
		}
	}
	return out
}

// refTargets returns every collection the fields point to, with the field
// path that points there.
func refTargets(fields []Field) map[string]string {
	refs := map[string]string{}
	var walk func(fs []Field, path string)
	walk = func(fs []Field, path string) {
		for _, f := range fs {
			full := path + f.Key
			switch {
			case f.Type == Ref:
				refs[full] = f.Ref
			case f.Type == Object:
				walk(f.Fields, full+".")
			case f.Type == Array && f.Items != nil:
				if f.Items.Type == Ref {
					refs[full+"[]"] = f.Items.Ref
				}
				walk(f.Items.Fields, full+"[].")
			}
		}
	}
	walk(fields, "")
	return refs
}

// FieldSpec is a field as JSON clients describe it: POST /api/schemas
// ("name", a type in any case) and the admin API's JSON items ("key").
type FieldSpec struct {
	Name     string      `json:"name,omitempty"`
	Key      string      `json:"key,omitempty"`
	Type     string      `json:"type"`
	Required bool        `json:"required,omitempty"`
	Unique   bool        `json:"unique,omitempty"`
	Ref      string      `json:"ref,omitempty"`
	Default  any         `json:"default,omitempty"`
	Format   string      `json:"format,omitempty"`
	Items    *FieldSpec  `json:"items,omitempty"`
	Fields   []FieldSpec `json:"fields,omitempty"`
}

// Field converts the description; Define validates the result.
func (f FieldSpec) Field() Field {
	key := f.Key
	if key == "" {
		key = f.Name
	}
	typ := FieldType(f.Type)
	if t, ok := ParseFieldType(f.Type); ok {
		typ = t
	}
	out := Field{Key: key, Type: typ, Required: f.Required, Unique: f.Unique, Ref: f.Ref, Default: f.Default, Format: f.Format}
	for _, s := range f.Fields {
		out.Fields = append(out.Fields, s.Field())
	}
	if f.Items != nil {
		it := f.Items.Field()
		out.Items = &it
	}
	return out
}
