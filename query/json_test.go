package query

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     any
	}{
		{"order kept", `{"z":1,"a":2,"m":3}`, bson.D{{Key: "z", Value: int64(1)}, {Key: "a", Value: int64(2)}, {Key: "m", Value: int64(3)}}},
		{"numbers", `[1, -2, 1.5, 1e3, 9223372036854775808, 0]`, []any{int64(1), int64(-2), 1.5, 1000.0, 9223372036854775808.0, int64(0)}},
		{"scalars", `["s", true, false, null]`, []any{"s", true, false, nil}},
		{"nested", `{"p":[{"$sort":{"b":-1,"a":1}}]}`, bson.D{{Key: "p", Value: []any{
			bson.D{{Key: "$sort", Value: bson.D{{Key: "b", Value: int64(-1)}, {Key: "a", Value: int64(1)}}}},
		}}}},
		{"duplicate key keeps first place, last value", `{"a":1,"b":2,"a":3}`, bson.D{{Key: "a", Value: int64(3)}, {Key: "b", Value: int64(2)}}},
		{"empty object and array", `{"o":{},"a":[]}`, bson.D{{Key: "o", Value: bson.D{}}, {Key: "a", Value: []any{}}}},
		{"white space around", " \n{}\n ", bson.D{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeJSON(%s) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeJSON(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a":}`, `[1,]`, `{"a":1} {}`, `{"a":1}x`, `nul`, `1e999`,
		strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2),
	} {
		got, err := DecodeJSON([]byte(in))
		if err == nil {
			t.Errorf("DecodeJSON(%.20q) = %v, want error", in, got)
			continue
		}
		if !errs.Is(err, errs.Invalid) || errs.ClientMessage(err) != "Invalid JSON format" {
			t.Errorf("DecodeJSON(%.20q) error = %v (%v), want Invalid \"Invalid JSON format\"", in, err, errs.KindOf(err))
		}
	}
}
