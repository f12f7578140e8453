package validate

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/collections"
)

// value checks a non-null v against f's type and converts it for storage.
// name is the field's name in messages, path its dotted path.
func value(f collections.Field, name string, v any, path string) (any, error) {
	switch f.Type {
	case collections.String:
		s, ok := v.(string)
		if !ok {
			return nil, fieldErr(name, "must be a String.")
		}
		if err := checkFormat(f.Format, name, s); err != nil {
			return nil, err
		}
		return s, nil
	case collections.Number:
		n, ok := number(v)
		if !ok {
			return nil, fieldErr(name, "must be a Number.")
		}
		return n, nil
	case collections.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fieldErr(name, "must be a Boolean.")
		}
		return b, nil
	case collections.Date:
		t, ok := parseDate(v)
		if !ok {
			return nil, fieldErr(name, "must be a valid Date.")
		}
		return bson.NewDateTimeFromTime(t), nil
	case collections.Ref:
		id, ok := objectID(v)
		if !ok {
			return nil, fieldErr(name, "must be a valid reference ID (ObjectId).")
		}
		return id, nil
	case collections.Object:
		in, ok := entries(v)
		if !ok {
			return nil, fieldErr(name, "must be an Object.")
		}
		return object(f.Fields, in, path, false, true)
	case collections.Array:
		items, ok := array(v)
		if !ok {
			return nil, fieldErr(name, "must be an Array.")
		}
		return arrayValue(f, name, items, path)
	}
	return plain(v, path) // a type this version does not know: keep as sent
}

// arrayValue checks each element as a non-required field of the items
// type named name[i]; without items, elements are kept as sent.
func arrayValue(f collections.Field, name string, items []any, path string) (bson.A, error) {
	out := make(bson.A, len(items))
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		var err error
		switch {
		case f.Items == nil:
			out[i], err = plain(item, p)
		case item == nil:
			out[i] = nil
		default:
			out[i], err = value(*f.Items, fmt.Sprintf("%s[%d]", name, i), item, p)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// objectID accepts an ObjectID or its 24-hex-digit string.
func objectID(v any) (bson.ObjectID, bool) {
	switch x := v.(type) {
	case bson.ObjectID:
		return x, true
	case string:
		id, err := bson.ObjectIDFromHex(x)
		return id, err == nil
	}
	return bson.ObjectID{}, false
}
