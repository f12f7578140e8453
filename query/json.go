package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

// maxJSONDepth bounds how deeply DecodeJSON nests.
const maxJSONDepth = 256

// DecodeJSON decodes one JSON value keeping the order of object keys,
// which matters for aggregation ($sort on several fields) and keeps
// stored documents in the order they were sent. Objects become bson.D
// (a repeated key keeps its first position and its last value, as
// JavaScript's JSON.parse does), arrays []any, integers that fit int64
// become int64 and other numbers float64.
//
// Errors: Invalid "Invalid JSON format" for malformed input, trailing
// data or nesting deeper than 256 levels.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err == nil {
		if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
			err = errors.New("trailing data")
		}
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "Invalid JSON format")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := bson.D{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				d = setKey(d, k, v)
			}
			_, err := dec.Token() // '}'
			return d, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, errors.New("unexpected delimiter")
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := t.Int64(); err == nil {
				return n, nil
			}
		}
		return t.Float64()
	}
	return tok, nil // string, bool or nil
}

func setKey(d bson.D, k string, v any) bson.D {
	for i := range d {
		if d[i].Key == k {
			d[i].Value = v
			return d
		}
	}
	return append(d, bson.E{Key: k, Value: v})
}
