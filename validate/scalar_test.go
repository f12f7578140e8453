package validate

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestParseDate(t *testing.T) {
	const want = "2024-01-15T10:30:00Z"
	tests := []struct {
		in   any
		want string // "" when invalid
	}{
		{"2024-01-15T10:30:00.000Z", want},
		{"2024-01-15T10:30:00Z", want},
		{"2024-01-15T10:30:00.123456789Z", "2024-01-15T10:30:00.123Z"},
		{"2024-01-15T12:30:00+02:00", want},
		{"2024-01-15T12:30:00+0200", want},
		{"2024-01-15T05:30:00-05", want},
		{"2024-01-15T10:30:00", want},
		{"2024-01-15T10:30", want},
		{"2024-01-15T10:30Z", want},
		{"2024-01-15 10:30:00", want},
		{"2024-01-15 10:30:00 UTC", want},
		{"  2024-01-15T10:30:00Z ", want},
		{"2024-01-15", "2024-01-15T00:00:00Z"},
		{"2024-01", "2024-01-01T00:00:00Z"},
		{"2024", "2024-01-01T00:00:00Z"},
		{"Mon, 15 Jan 2024 10:30:00 GMT", want},
		{"Mon, 15 Jan 2024 10:30:00 +0000", want},
		{"Mon, 15 Jan 2024 05:30:00 EST", want},
		{"Mon, 15 Jan 2024 02:30:00 PST", want},
		{"15 Jan 2024 10:30:00 Z", want},
		{"15 Jan 2024 10:30 +0000", want},
		{"Mon, 15 Jan 2024 10:30 GMT", want},
		{"Mon Jan 15 2024 11:30:00 GMT+0100 (Central European Standard Time)", want},
		{"Mon Jan 15 2024 10:30:00 GMT+00:00", want},
		{"January 15, 2024 10:30:00", want},
		{"Jan 15, 2024", "2024-01-15T00:00:00Z"},
		{"2024/01/15", "2024-01-15T00:00:00Z"},
		{"1/15/2024", "2024-01-15T00:00:00Z"},
		{1705314600000.0, want},
		{json.Number("1705314600000"), want},
		{int64(1705314600000), want},
		{0.0, "1970-01-01T00:00:00Z"},
		{-1.0, "1969-12-31T23:59:59.999Z"},
		{time.Date(2024, 1, 15, 11, 30, 0, 0, time.FixedZone("x", 3600)), want},
		{bson.NewDateTimeFromTime(time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)), want},
		{"", ""},
		{"yesterday", ""},
		{"2024-13-01", ""},
		{"2024-02-30", ""},
		{"15/01/2024", ""},
		{"1705314600000", ""},
		{true, ""},
		{nil, ""},
		{8.64e15 + 1, ""},
		{math.NaN(), ""},
		{map[string]any{}, ""},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("parseDate(%#v): got %v, want invalid", tt.in, got)
			}
			continue
		}
		w, err := time.Parse(time.RFC3339Nano, tt.want)
		if err != nil {
			t.Fatal(err)
		}
		if !ok || !bson.NewDateTimeFromTime(got).Time().Equal(w) {
			t.Errorf("parseDate(%#v): got %v %v, want %v", tt.in, got, ok, w)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		in   any
		want any // nil when refused
	}{
		{5.0, int32(5)},
		{-0.0, int32(0)},
		{2147483647.0, int32(2147483647)},
		{2147483648.0, 2147483648.0},
		{-2147483649.0, -2147483649.0},
		{0.1, 0.1},
		{float32(2), int32(2)},
		{7, int32(7)},
		{int64(1) << 40, float64(int64(1) << 40)},
		{int32(-3), int32(-3)},
		{uint8(3), int32(3)},
		{json.Number("12"), int32(12)},
		{json.Number("1.5e3"), int32(1500)},
		{json.Number("9007199254740993"), 9007199254740992.0},
		{json.Number("1e400"), nil},
		{math.Inf(1), nil},
		{math.NaN(), nil},
		{"5", nil},
		{true, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		got, ok := number(tt.in)
		if tt.want == nil {
			if ok {
				t.Errorf("number(%#v): got %#v, want refused", tt.in, got)
			}
			continue
		}
		if !ok || !cmp.Equal(got, tt.want) {
			t.Errorf("number(%#v): got %#v %v, want %#v", tt.in, got, ok, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format, value string
		ok            bool
	}{
		{"email", "user@example.com", true},
		{"email", "first.last+tag@sub.example.co.uk", true},
		{"email", "user@example", false},
		{"email", "user@example.c", false},
		{"email", "user name@example.com", false},
		{"email", "user@example.com\n", false},
		{"url", "https://example.com", true},
		{"url", "http://sub.example.com:8080/path?q=1&r=[2]#frag", true},
		{"url", "https://example.com/a_b-c~d/%20", true},
		{"url", "https://localhost", false},
		{"url", "example.com", false},
		{"url", "https://exa mple.com", false},
		{"url", "https://example.com/a b", false},
		{"color", "#A0b1C2", true},
		{"color", "#fff", false},
		{"color", "A0B1C2", false},
		{"slug", "hello-world-2", true},
		{"slug", "hello--world", false},
		{"slug", "-hello", false},
		{"slug", "Hello", false},
		{"", "anything", true},
	}
	for _, tt := range tests {
		err := checkFormat(tt.format, "f", tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("checkFormat(%q, %q): got %v, want ok %v", tt.format, tt.value, err, tt.ok)
		}
	}
}
