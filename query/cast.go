package query

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
	"github.com/urbackend/urbackend/errs"
)

// kind is how a query-string value is converted before it is compared.
type kind int

const (
	kindString kind = iota
	kindNumber
	kindBoolean
	kindDate
	kindObjectID
)

// systemKinds are the fields every document has, whatever its schema.
var systemKinds = map[string]kind{
	"_id":       kindObjectID,
	"createdAt": kindDate,
	"updatedAt": kindDate,
	"__v":       kindNumber,
}

// lookup finds the declared field at a dotted path. Object fields are
// entered by name, Array fields through their items (a numeric segment
// such as "tags.0" addresses one element). many reports whether the path
// passes through an array. ok is false when the path is not declared.
func lookup(fields []collections.Field, path string) (f collections.Field, many, ok bool) {
	var cur *collections.Field
	for seg := range strings.SplitSeq(path, ".") {
		list := fields
		if cur != nil {
			switch cur.Type {
			case collections.Object:
				list = cur.Fields
			case collections.Array:
				if cur.Items == nil {
					return collections.Field{}, false, false
				}
				many = true
				if isIndex(seg) {
					cur = cur.Items
					continue
				}
				if cur.Items.Type != collections.Object {
					return collections.Field{}, false, false
				}
				list = cur.Items.Fields
			default:
				return collections.Field{}, false, false
			}
		}
		cur = nil
		for i := range list {
			if list[i].Key == seg {
				cur = &list[i]
				break
			}
		}
		if cur == nil {
			return collections.Field{}, false, false
		}
	}
	if cur == nil {
		return collections.Field{}, false, false
	}
	return *cur, many, true
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// kindAt is the conversion for values compared with the field at path:
// by the declared type (an Array by its item type, since equality on an
// array matches an element), ObjectID for "_id", dates for createdAt and
// updatedAt, and strings for everything undeclared (§3.3), which includes
// every field of a flexible collection.
func kindAt(fields []collections.Field, path string) kind {
	if k, ok := systemKinds[path]; ok {
		return k
	}
	f, _, ok := lookup(fields, path)
	if !ok {
		return kindString
	}
	t := f.Type
	if t == collections.Array {
		if f.Items == nil {
			return kindString
		}
		t = f.Items.Type
	}
	switch t {
	case collections.Number:
		return kindNumber
	case collections.Boolean:
		return kindBoolean
	case collections.Date:
		return kindDate
	case collections.Ref:
		return kindObjectID
	}
	return kindString
}

// Cast converts a string value, as it arrives in a query string, for
// comparison with the field at path of a collection with the given
// fields: Number → float64, Boolean → bool, Date → time.Time (UTC,
// millisecond precision), Ref and "_id" → bson.ObjectID, anything else →
// the string unchanged. A value that does not convert is an Invalid error.
func Cast(fields []collections.Field, path, value string) (any, error) {
	return castKind(kindAt(fields, path), path, value)
}

// castKind converts s; name (the query parameter or path) is used in the
// error message.
func castKind(k kind, name, s string) (any, error) {
	bad := func(want string) error {
		return errs.New(errs.Invalid, "Invalid value %s for %s; expected %s.", quote(s), quote(name), want)
	}
	switch k {
	case kindNumber:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, bad("a number")
		}
		return n, nil
	case kindBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes":
			return true, nil
		case "false", "0", "no":
			return false, nil
		}
		return nil, bad(`"true" or "false"`)
	case kindDate:
		t, ok := ParseDate(s)
		if !ok {
			return nil, bad("a date such as 2024-01-15 or 2024-01-15T10:30:00.000Z")
		}
		return t, nil
	case kindObjectID:
		id, err := bson.ObjectIDFromHex(s)
		if err != nil {
			return nil, bad("a 24-character hex ID")
		}
		return id, nil
	}
	return s, nil
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
	"2006-01",
	"2006",
	time.RFC1123,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
}

// ParseDate parses a date as JavaScript's Date and Mongoose accept the
// common forms: ISO 8601 (date only, date-time with or without zone and
// fraction; no zone means UTC), RFC 1123/2822, and an integer number of
// milliseconds since 1970 when it is too large to be a year. The result
// is UTC, truncated to milliseconds (BSON dates hold milliseconds).
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && (n >= 275761 || n < -271820) {
		return time.UnixMilli(n).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}
