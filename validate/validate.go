// Package validate checks documents against a collection's declared fields
// (contract/REST.md §3.9) and turns them into BSON ready to store: Insert
// (full: required fields, defaults, empty arrays), InsertMany (§3.8) and
// Update (partial, for $set). It is pure: no database, no transport.
//
// Inputs are decoded JSON: objects as map[string]any, bson.M or bson.D
// (whose order is kept), arrays as []any or bson.A, numbers as float64,
// json.Number or Go integers. Outputs use go.mongodb.org/mongo-driver/v2/bson
// types: objects become bson.D (declared fields in schema order, then the
// others in input order, map keys sorted), arrays bson.A, numbers int32 when
// they are integers that fit (as the Node.js driver stores them) and float64
// otherwise, Date fields bson.DateTime, Ref fields bson.ObjectID.
//
// Messages are the contract's, e.g. "Field 'title' is required."; like the
// original, they name a nested field by its own key, an array element as
// "tags[0]". Field names starting with '$' are refused at every depth, as
// are names containing '.' except as update paths.
package validate

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// MaxBulk is the most documents one bulk insert may carry (§3.8).
const MaxBulk = 100

// Insert validates doc, a full document, against fields (§3.9 insert
// rules) and returns it ready to insert. A collection without fields is
// flexible: only names are checked and values converted. Top-level strings
// of declared String fields are trimmed; an absent or null field takes its
// default; an absent Array field becomes []; an optional unique field that
// is null or "" is left out, so the unique index ignores it.
//
// System fields: a client _id is kept when it is an ObjectID (24 hex
// digits), a client createdAt when it is a date (§3.2); updatedAt and __v
// are dropped, for the caller sets them. Errors: Invalid.
func Insert(fields []collections.Field, doc any) (bson.D, error) {
	in, ok := entries(doc)
	if !ok {
		return nil, errs.New(errs.Invalid, "Request body must be a JSON object.")
	}
	var id, created any
	rest := make([]entry, 0, len(in))
	for _, e := range in {
		switch e.key {
		case "_id":
			id = e.val
		case "createdAt":
			created = e.val
		case "updatedAt", "__v":
		default:
			rest = append(rest, e)
		}
	}
	out, err := object(fields, rest, "", true, true)
	if err != nil {
		return nil, err
	}
	if id != nil {
		oid, ok := objectID(id)
		if !ok {
			return nil, errs.New(errs.Invalid, "Field '_id' must be a valid ObjectId.")
		}
		out = append(bson.D{{Key: "_id", Value: oid}}, out...)
	}
	if created != nil {
		t, ok := parseDate(created)
		if !ok {
			return nil, fieldErr("createdAt", "must be a valid Date.")
		}
		out = append(out, bson.E{Key: "createdAt", Value: bson.NewDateTimeFromTime(t)})
	}
	return out, nil
}

// InsertMany validates a bulk-insert body (§3.8): a list of 1 to MaxBulk
// documents, each checked as by Insert; all or nothing. Errors: Invalid,
// with the indexes of every invalid document.
func InsertMany(fields []collections.Field, body any) ([]bson.D, error) {
	items, ok := array(body)
	switch {
	case !ok:
		return nil, errs.New(errs.Invalid, "Request body must be an array of objects")
	case len(items) == 0:
		return nil, errs.New(errs.Invalid, "Request body cannot be empty")
	case len(items) > MaxBulk:
		return nil, errs.New(errs.Invalid, "Maximum %d records allowed", MaxBulk)
	}
	out := make([]bson.D, len(items))
	var bad []string
	for i, item := range items {
		d, err := Insert(fields, item)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				return nil, err
			}
			bad = append(bad, strconv.Itoa(i))
			continue
		}
		out[i] = d
	}
	if len(bad) > 0 {
		return nil, errs.New(errs.Invalid, "Invalid records at index: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// UniqueKeys lists the top-level fields declared unique (§3.13), in
// schema order.
func UniqueKeys(fields []collections.Field) []string {
	var out []string
	for _, f := range fields {
		if f.Unique {
			out = append(out, trimJS(f.Key))
		}
	}
	return out
}

func fieldErr(name, rest string) error {
	return errs.New(errs.Invalid, "Field '%s' %s", name, rest)
}
