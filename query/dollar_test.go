package query

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/urbackend/urbackend/errs"
)

func TestRejectDollarKeys(t *testing.T) {
	deep := any("leaf")
	for range maxBodyDepth + 2 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		body any
		want string // "" means accepted
	}{
		{"nil", nil, ""},
		{"scalar", "x", ""},
		{"plain object", map[string]any{"title": "a", "n": 1.0}, ""},
		{"dotted key allowed", map[string]any{"meta.views": 105.0}, ""},
		{"dollar inside a key or value allowed", map[string]any{"price$": "$5", "a": []any{"$x"}}, ""},
		{"top level", map[string]any{"$set": map[string]any{"a": 1}}, `found "$set"`},
		{"nested object", map[string]any{"meta": map[string]any{"$gt": 1.0}}, `found "meta.$gt"`},
		{"in array", map[string]any{"items": []any{map[string]any{"ok": 1}, map[string]any{"$where": "x"}}}, `found "items[1].$where"`},
		{"array at top", []any{map[string]any{"a": 1}, map[string]any{"b": map[string]any{"$inc": 1}}}, `found "[1].b.$inc"`},
		{"deep", map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{[]any{map[string]any{"$x": 1}}}}}}, `found "a.b.c[0][0].$x"`},
		{"bson.D", bson.D{{Key: "a", Value: bson.D{{Key: "$ne", Value: 1}}}}, `found "a.$ne"`},
		{"bson.M", bson.M{"a": bson.A{bson.M{"$ne": 1}}}, `found "a[0].$ne"`},
		{"NUL in key", map[string]any{"a\x00b": 1}, `NUL byte (found "a\0b")`},
		{"NUL nested", map[string]any{"x": map[string]any{"\x00": 1}}, `NUL byte`},
		{"too deep", deep, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := RejectDollarKeys(tt.body)
			if tt.want == "" {
				if err != nil {
					t.Errorf("RejectDollarKeys() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("RejectDollarKeys() = nil, want error containing %q", tt.want)
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v (%v), want Invalid containing %q", err, errs.KindOf(err), tt.want)
			}
		})
	}
}
