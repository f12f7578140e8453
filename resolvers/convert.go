package resolvers

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/graph/model"
	"github.com/urbackend/urbackend/projects"
)

var rlsModes = map[model.RLSMode]string{
	model.RLSModePublicRead:     collections.PublicRead,
	model.RLSModePrivate:        collections.Private,
	model.RLSModeOwnerWriteOnly: collections.OwnerWriteOnly,
}

func rlsModeOut(mode string) model.RLSMode {
	for k, v := range rlsModes {
		if v == mode {
			return k
		}
	}
	return model.RLSModePublicRead
}

func rlsIn(in *model.RLSInput) *collections.RLS {
	if in == nil {
		return nil
	}
	out := collections.DefaultRLS()
	out.Enabled = in.Enabled
	if in.Mode != nil {
		out.Mode = rlsModes[*in.Mode]
	}
	if in.OwnerField != nil {
		out.OwnerField = *in.OwnerField
	}
	if in.RequireAuthForWrite != nil {
		out.RequireAuthForWrite = *in.RequireAuthForWrite
	}
	return &out
}

func rlsOut(r collections.RLS) *model.Rls {
	return &model.Rls{Enabled: r.Enabled, Mode: rlsModeOut(r.Mode), OwnerField: r.OwnerField, RequireAuthForWrite: r.RequireAuthForWrite}
}

func fieldsIn(in []*model.FieldInput) ([]collections.Field, error) {
	out := make([]collections.Field, 0, len(in))
	for _, f := range in {
		cf := collections.Field{
			Key:      f.Key,
			Type:     collections.FieldType(f.Type),
			Required: deref(f.Required),
			Unique:   deref(f.Unique),
			Ref:      deref(f.Ref),
			Default:  f.Default,
			Format:   deref(f.Format),
		}
		if f.Fields != nil {
			sub, err := fieldsIn(f.Fields)
			if err != nil {
				return nil, err
			}
			cf.Fields = sub
		}
		if f.Items != nil {
			it, err := itemsIn(f.Key, f.Items)
			if err != nil {
				return nil, err
			}
			cf.Items = it
		}
		out = append(out, cf)
	}
	return out, nil
}

// itemsIn reads an Array's JSON item description, e.g. {"type":"String"},
// {"type":"Ref","ref":"posts"} or {"type":"Object","fields":[…]}.
func itemsIn(key string, v any) (*collections.Field, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, errs.New(errs.Invalid, "field %q: items must be an object like {\"type\": \"String\"}", key)
	}
	var it struct {
		Type   string                  `json:"type"`
		Ref    string                  `json:"ref"`
		Format string                  `json:"format"`
		Fields []collections.FieldSpec `json:"fields"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		return nil, errs.New(errs.Invalid, "field %q: items must be an object with type and optionally ref, format, fields: %s", key, jsonProblem(err))
	}
	f := &collections.Field{Type: collections.FieldType(it.Type), Ref: it.Ref, Format: it.Format}
	for _, sub := range it.Fields {
		f.Fields = append(f.Fields, sub.Field())
	}
	return f, nil
}

func jsonProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

func fieldsOut(fs []collections.Field) []*model.Field {
	out := make([]*model.Field, 0, len(fs))
	for _, f := range fs {
		mf := &model.Field{Key: f.Key, Type: model.FieldType(f.Type), Required: f.Required, Unique: f.Unique, Default: f.Default}
		if f.Ref != "" {
			mf.Ref = ptr(f.Ref)
		}
		if f.Format != "" {
			mf.Format = ptr(f.Format)
		}
		if f.Type == collections.Object {
			mf.Fields = fieldsOut(f.Fields)
		}
		if f.Items != nil {
			mf.Items = itemsOut(*f.Items)
		}
		out = append(out, mf)
	}
	return out
}

func itemsOut(it collections.Field) map[string]any {
	m := map[string]any{"type": string(it.Type)}
	if it.Ref != "" {
		m["ref"] = it.Ref
	}
	if it.Format != "" {
		m["format"] = it.Format
	}
	if len(it.Fields) > 0 {
		var fs []map[string]any
		for _, f := range it.Fields {
			fs = append(fs, fieldMap(f))
		}
		m["fields"] = fs
	}
	return m
}

func fieldMap(f collections.Field) map[string]any {
	m := map[string]any{"key": f.Key, "type": string(f.Type), "required": f.Required, "unique": f.Unique}
	if f.Ref != "" {
		m["ref"] = f.Ref
	}
	if f.Default != nil {
		m["default"] = f.Default
	}
	if f.Format != "" {
		m["format"] = f.Format
	}
	if f.Items != nil {
		m["items"] = itemsOut(*f.Items)
	}
	if len(f.Fields) > 0 {
		var fs []map[string]any
		for _, s := range f.Fields {
			fs = append(fs, fieldMap(s))
		}
		m["fields"] = fs
	}
	return m
}

func (r *Resolver) authSettingsOut(p *projects.Project) *model.AuthSettings {
	prov := func(name string, o projects.OAuthProvider) *model.OAuthProvider {
		return &model.OAuthProvider{
			Enabled:     o.Enabled,
			ClientID:    o.ClientID,
			CallbackURL: fmt.Sprintf("%s/api/userAuth/social/%s/callback", r.PublicURL, name),
		}
	}
	a := p.Auth
	return &model.AuthSettings{
		Enabled:                  a.Enabled,
		AllowPublicSignups:       a.AllowPublicSignups,
		RequireEmailVerification: a.RequireEmailVerification,
		Github:                   prov(projects.GitHub, a.GitHub),
		Google:                   prov(projects.Google, a.Google),
	}
}

func providerIn(in *model.OAuthProviderInput) *projects.OAuthProviderInput {
	if in == nil {
		return nil
	}
	return &projects.OAuthProviderInput{Enabled: in.Enabled, ClientID: in.ClientID, ClientSecret: in.ClientSecret}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
