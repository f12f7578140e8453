package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/policy"
)

// secretOnly refuses publishable keys (§2.2).
func (a *API) secretOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := policy.RequireSecret(caller(r).Policy()); err != nil {
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// schemaField is a field as GET /api/schemas shows it (§4.1, §4.3).
type schemaField struct {
	Key      string        `json:"key"`
	Type     string        `json:"type"`
	Required bool          `json:"required"`
	Unique   bool          `json:"unique"`
	Ref      string        `json:"ref,omitempty"`
	Default  any           `json:"default,omitempty"`
	Format   string        `json:"format,omitempty"`
	Items    *schemaItems  `json:"items,omitempty"`
	Fields   []schemaField `json:"fields"`
}

type schemaItems struct {
	Type   string        `json:"type"`
	Ref    string        `json:"ref,omitempty"`
	Format string        `json:"format,omitempty"`
	Fields []schemaField `json:"fields,omitempty"`
}

func schemaFields(fs []collections.Field) []schemaField {
	out := make([]schemaField, 0, len(fs))
	for _, f := range fs {
		sf := schemaField{Key: f.Key, Type: string(f.Type), Required: f.Required, Unique: f.Unique, Ref: f.Ref, Default: f.Default, Format: f.Format, Fields: schemaFields(f.Fields)}
		if f.Items != nil {
			sf.Items = &schemaItems{Type: string(f.Items.Type), Ref: f.Items.Ref, Format: f.Items.Format}
			if len(f.Items.Fields) > 0 {
				sf.Items.Fields = schemaFields(f.Items.Fields)
			}
		}
		out = append(out, sf)
	}
	return out
}

func (a *API) getSchema(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	name := chi.URLParam(r, "collection")
	col, ok := c.Snapshot.Collections[name]
	if name == collections.UsersCollection {
		col, ok = collections.Users(), true
	}
	if !ok {
		a.fail(w, r, errs.New(errs.NotFound, "Schema/Collection not found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "Schema exists",
		"collection": map[string]any{
			"_id":   idOrEmpty(col),
			"name":  col.Name,
			"model": schemaFields(col.Fields),
			"rls":   col.RLS,
		},
	})
}

func (a *API) createSchema(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	body, ok := bodyFrom(r).(bson.D)
	if !ok {
		a.fail(w, r, errs.New(errs.Invalid, "Request body must be a JSON object."))
		return
	}
	raw, err := data.Doc(body).MarshalJSON()
	if err != nil {
		a.fail(w, r, errs.New(errs.Invalid, "Invalid JSON format"))
		return
	}
	var in struct {
		Name   *string                 `json:"name"`
		Fields []collections.FieldSpec `json:"fields"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		a.fail(w, r, errs.New(errs.Invalid, "Invalid input: %s", strings.TrimPrefix(err.Error(), "json: ")))
		return
	}
	if in.Name == nil {
		a.fail(w, r, errs.New(errs.Invalid, "Invalid input: expected string, received undefined"))
		return
	}
	if strings.TrimSpace(*in.Name) == "" {
		a.fail(w, r, errs.New(errs.Invalid, "Collection Name is required"))
		return
	}
	def := collections.Definition{Name: *in.Name, CreateOnly: true}
	for _, f := range in.Fields {
		def.Fields = append(def.Fields, f.Field())
	}
	col, err := a.Collections.Define(r.Context(), c.Snapshot.Project, def)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	names := []string{col.Name}
	for n := range c.Snapshot.Collections {
		if n != col.Name {
			names = append(names, n)
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"message": "Schema created successfully",
		"project": map[string]any{"_id": c.Snapshot.Project.ID.Hex(), "name": c.Snapshot.Project.Name, "collections": names},
	})
}

func idOrEmpty(c *collections.Collection) any {
	if c.ID.IsZero() {
		return nil
	}
	return c.ID.Hex()
}
