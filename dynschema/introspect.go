package dynschema

import (
	"fmt"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
)

// introspect resolves the fields of the introspection types (__Schema,
// __Type, __Field, __InputValue, __EnumValue, __Directive) over gqlgen's
// introspection wrappers of the built schema.
func introspect(s *ast.Schema, objType string, parent any, field string, args map[string]any) (any, error) {
	deprecated, _ := args["includeDeprecated"].(bool)
	switch p := parent.(type) {
	case *introspection.Schema:
		switch field {
		case "description":
			return p.Description(), nil
		case "types":
			return typeList(p.Types()), nil
		case "queryType":
			return p.QueryType(), nil
		case "mutationType":
			return p.MutationType(), nil
		case "subscriptionType":
			return p.SubscriptionType(), nil
		case "directives":
			ds := p.Directives()
			out := make([]any, len(ds))
			for i := range ds {
				out[i] = &ds[i]
			}
			return out, nil
		}
	case *introspection.Type:
		return introspectType(p, field, deprecated)
	case *introspection.Field:
		switch field {
		case "name":
			return p.Name, nil
		case "description":
			return p.Description(), nil
		case "args":
			return inputValues(p.VisibleArgs(deprecated)), nil
		case "type":
			return p.Type, nil
		case "isDeprecated":
			return p.IsDeprecated(), nil
		case "deprecationReason":
			return p.DeprecationReason(), nil
		}
	case *introspection.InputValue:
		switch field {
		case "name":
			return p.Name, nil
		case "description":
			return p.Description(), nil
		case "type":
			return p.Type, nil
		case "defaultValue":
			return p.DefaultValue, nil
		case "isDeprecated":
			return p.IsDeprecated(), nil
		case "deprecationReason":
			return p.DeprecationReason(), nil
		}
	case *introspection.EnumValue:
		switch field {
		case "name":
			return p.Name, nil
		case "description":
			return p.Description(), nil
		case "isDeprecated":
			return p.IsDeprecated(), nil
		case "deprecationReason":
			return p.DeprecationReason(), nil
		}
	case *introspection.Directive:
		switch field {
		case "name":
			return p.Name, nil
		case "description":
			return p.Description(), nil
		case "locations":
			out := make([]any, len(p.Locations))
			for i, l := range p.Locations {
				out[i] = l
			}
			return out, nil
		case "args":
			return inputValues(p.VisibleArgs(deprecated)), nil
		case "isRepeatable":
			return p.IsRepeatable, nil
		}
	}
	return nil, fmt.Errorf("introspection: no field %s on %s", field, objType)
}

// introspectType resolves a __Type field. Lists that do not apply to a
// type's kind are null, as the specification says.
func introspectType(t *introspection.Type, field string, deprecated bool) (any, error) {
	kind := t.Kind()
	switch field {
	case "kind":
		return kind, nil
	case "name":
		return t.Name(), nil
	case "description":
		return t.Description(), nil
	case "specifiedByURL":
		return t.SpecifiedByURL(), nil
	case "fields":
		if kind != string(ast.Object) && kind != string(ast.Interface) {
			return nil, nil
		}
		fs := t.Fields(deprecated)
		out := make([]any, len(fs))
		for i := range fs {
			out[i] = &fs[i]
		}
		return out, nil
	case "interfaces":
		if kind != string(ast.Object) && kind != string(ast.Interface) {
			return nil, nil
		}
		return typeList(t.Interfaces()), nil
	case "possibleTypes":
		if kind != string(ast.Interface) && kind != string(ast.Union) {
			return nil, nil
		}
		return typeList(t.PossibleTypes()), nil
	case "enumValues":
		if kind != string(ast.Enum) {
			return nil, nil
		}
		vs := t.EnumValues(deprecated)
		out := make([]any, len(vs))
		for i := range vs {
			out[i] = &vs[i]
		}
		return out, nil
	case "inputFields":
		if kind != string(ast.InputObject) {
			return nil, nil
		}
		return inputValues(t.VisibleInputFields(deprecated)), nil
	case "ofType":
		return t.OfType(), nil
	case "isOneOf":
		if kind != string(ast.InputObject) {
			return nil, nil
		}
		return t.IsOneOf(), nil
	}
	return nil, fmt.Errorf("introspection: no field %s on __Type", field)
}

func typeList(ts []introspection.Type) []any {
	out := make([]any, len(ts))
	for i := range ts {
		out[i] = &ts[i]
	}
	return out
}

func inputValues(vs []introspection.InputValue) []any {
	out := make([]any, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	return out
}
