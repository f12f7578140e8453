package query

import (
	"math"
	"net/url"
	"strings"
)

// Paging limits (§3.3).
const (
	DefaultLimit = 100 // page size when limit is absent, 0 or not a number
	MaxLimit     = 100 // the largest page size; larger limits are capped
	// maxPage keeps (page-1)*limit inside an int64.
	maxPage = 1 << 53
)

// parsePaging reads limit, page and skip as the original does, with
// JavaScript parseInt semantics ("20abc" is 20): limit defaults to 100 for
// absent, 0 or non-numeric values and is clamped to 1..100; page defaults
// to 1 and is at least 1; skip, an offset the original did not reserve,
// applies only when page is absent or empty and is at least 0.
func parsePaging(values url.Values) (limit, page, skip int64) {
	limit = DefaultLimit
	if n, ok := parseInt(values.Get("limit")); ok && n != 0 {
		limit = max(1, min(n, MaxLimit))
	}
	page = 1
	if p := values.Get("page"); p != "" {
		if n, ok := parseInt(p); ok && n > 1 {
			page = min(n, maxPage)
		}
		return limit, page, (page - 1) * limit
	}
	if n, ok := parseInt(values.Get("skip")); ok && n > 0 {
		skip = min(n, maxPage*MaxLimit)
		page = skip/limit + 1
	}
	return limit, page, skip
}

// parseInt is JavaScript's parseInt(s, 10): leading white space, an
// optional sign, then as many decimal digits as there are; ok is false
// when there are none (NaN). Values beyond int64 saturate.
func parseInt(s string) (n int64, ok bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f\u00a0\ufeff")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		ok = true
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, ok
}
