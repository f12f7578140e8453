package validate

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxDateMillis is the range of a JavaScript Date: ±8.64e15 ms from 1970.
const maxDateMillis = 8.64e15

// dateLayouts are the string forms a Date field accepts: ISO 8601 as
// JavaScript's Date parses it (date-only and zone-less forms are read as
// UTC), RFC 2822 and the output of Date.prototype.toString/toUTCString,
// and a few common English forms. Zones are rewritten to ±hhmm first.
var dateLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01",
	"2006",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"Mon Jan 2 2006 15:04:05 -0700",
	"Mon Jan 2 2006 15:04:05",
	"Mon Jan 2 2006",
	"Jan 2 2006 15:04:05",
	"Jan 2 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006",
	"January 2, 2006 15:04:05",
	"January 2, 2006",
	"2 January 2006",
	"2006/1/2 15:04:05",
	"2006/1/2",
	"1/2/2006 15:04:05",
	"1/2/2006",
}

var (
	zoneNameRE   = regexp.MustCompile(`\s*\([^()]*\)$`)
	gmtOffsetRE  = regexp.MustCompile(`(?i)\s(?:GMT|UTC|UT)([+-]\d\d):?(\d\d)$`)
	zoneAbbrevRE = regexp.MustCompile(`(?i)\s(GMT|UTC|UT|Z|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$`)
	zoneOffsets  = map[string]string{
		"GMT": "+0000", "UTC": "+0000", "UT": "+0000", "Z": "+0000",
		"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
		"MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
	}
)

// parseDate reads a Date field's value: a date string (see dateLayouts), a
// number of milliseconds since 1970 (as JavaScript's new Date(n)), or a
// time value. ok is false when v is not a date.
func parseDate(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		return parseDateString(x)
	case time.Time:
		return x, true
	case bson.DateTime:
		return x.Time(), true
	case bool:
		return time.Time{}, false
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return fromMillis(f)
	}
	n, ok := number(v)
	if !ok {
		return time.Time{}, false
	}
	switch x := n.(type) {
	case int32:
		return fromMillis(float64(x))
	case float64:
		return fromMillis(x)
	}
	return time.Time{}, false
}

func fromMillis(ms float64) (time.Time, bool) {
	if math.IsNaN(ms) || math.Abs(ms) > maxDateMillis {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(math.Trunc(ms))).UTC(), true
}

func parseDateString(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	s = zoneNameRE.ReplaceAllString(s, "")
	s = gmtOffsetRE.ReplaceAllString(s, " $1$2")
	if m := zoneAbbrevRE.FindStringSubmatch(s); m != nil && !isISO(s) {
		s = s[:len(s)-len(m[0])] + " " + zoneOffsets[strings.ToUpper(m[1])]
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// isISO reports an ISO 8601 date-time, whose trailing Z the layouts read.
func isISO(s string) bool {
	return len(s) > 10 && s[4] == '-' && (s[10] == 'T' || s[10] == 't')
}
