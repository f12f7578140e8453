package rest

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/data"
	"github.com/urbackend/urbackend/principal"
	"github.com/urbackend/urbackend/query"
)

// envelope is the success shape of list, count, bulk and aggregate.
type envelope struct {
	Success bool   `json:"success"`
	Data    any    `json:"data"`
	Message string `json:"message"`
}

func caller(r *http.Request) *principal.Caller {
	c, _ := principal.CallerFrom(r.Context())
	return c
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	c, name := caller(r), chi.URLParam(r, "collection")
	// Policy refusals come before query errors (contract §1.9).
	col, err := a.Data.Readable(c, name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := query.ParseList(r.URL.Query(), col.Fields)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if l.Count {
		n, err := a.Data.Count(r.Context(), c, name, l)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{true, map[string]int64{"count": n}, "Count fetched successfully."})
		return
	}
	res, err := a.Data.List(r.Context(), c, name, l)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items := res.Items
	if items == nil {
		items = []data.Doc{}
	}
	var body any
	if res.CursorMode {
		body = struct {
			Items      []data.Doc `json:"items"`
			Total      int64      `json:"total"`
			Cursor     string     `json:"cursor"`
			NextCursor *string    `json:"nextCursor"`
			Limit      int64      `json:"limit"`
		}{items, res.Total, res.Cursor, res.NextCursor, res.Limit}
	} else {
		body = struct {
			Items []data.Doc `json:"items"`
			Total int64      `json:"total"`
			Page  int64      `json:"page"`
			Limit int64      `json:"limit"`
		}{items, res.Total, res.Page, res.Limit}
	}
	writeJSON(w, http.StatusOK, envelope{true, body, "Data fetched successfully"})
}

func (a *API) getOne(w http.ResponseWriter, r *http.Request) {
	c, name := caller(r), chi.URLParam(r, "collection")
	var sh *query.Shape
	if col, ok := c.Snapshot.Collections[name]; ok {
		var err error
		if sh, err = query.ParseGetOne(r.URL.Query(), col.Fields); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	doc, err := a.Data.Get(r.Context(), c, name, chi.URLParam(r, "id"), sh)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (a *API) insert(w http.ResponseWriter, r *http.Request) {
	doc, err := a.Data.Insert(r.Context(), caller(r), chi.URLParam(r, "collection"), bodyFrom(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, doc)
}

func (a *API) insertMany(w http.ResponseWriter, r *http.Request) {
	n, err := a.Data.InsertMany(r.Context(), caller(r), chi.URLParam(r, "collection"), bodyFrom(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{true, map[string]int{"insertedCount": n}, "Bulk insert successful"})
}

func (a *API) update(w http.ResponseWriter, r *http.Request) {
	doc, err := a.Data.Update(r.Context(), caller(r), chi.URLParam(r, "collection"), chi.URLParam(r, "id"), bodyFrom(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool     `json:"success"`
		Message string   `json:"message"`
		Data    data.Doc `json:"data"`
	}{true, "Updated", doc})
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := a.Data.Delete(r.Context(), caller(r), chi.URLParam(r, "collection"), id); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
		ID      string `json:"id"`
	}{true, "Document deleted", id})
}

func (a *API) aggregate(w http.ResponseWriter, r *http.Request) {
	var pipeline any
	if d, ok := bodyFrom(r).(bson.D); ok {
		for _, e := range d {
			if e.Key == "pipeline" {
				pipeline = e.Value
			}
		}
	}
	docs, err := a.Data.Aggregate(r.Context(), caller(r), chi.URLParam(r, "collection"), pipeline)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if docs == nil {
		docs = []data.Doc{}
	}
	writeJSON(w, http.StatusOK, envelope{true, docs, "Aggregation executed successfully."})
}
