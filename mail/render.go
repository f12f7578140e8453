package mail

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// placeholder matches {{{path}}} (raw) or {{path}} (escaped in HTML), with
// optional whitespace inside the braces. A path is dotted: user.name,
// items.0.
var placeholder = regexp.MustCompile(`\{\{\{\s*([a-zA-Z0-9_.-]+)\s*\}\}\}|\{\{\s*([a-zA-Z0-9_.-]+)\s*\}\}`)

// htmlEscaper escapes like the original service: & < > " '.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// RenderText fills the placeholders of a subject or text body from vars
// (REST.md §7.1): {{path}} and {{{path}}} both insert the value as is.
//
// A path names a key of vars, dotted for nested objects and array indexes
// (user.name, items.0); an unknown path inserts "". Strings whose key ends
// in "url" or "uri" (any case) are replaced by the normalised http(s) URL,
// or "" when they are not one. JSON values are formatted as JavaScript's
// String() would: numbers without a trailing ".0", arrays comma-joined,
// objects as "[object Object]", null as "". The template is scanned once:
// placeholders inside inserted values are not expanded. Text that is not a
// well-formed placeholder is left alone.
func RenderText(template string, vars map[string]any) string {
	return render(template, vars, false)
}

// RenderHTML is RenderText for an HTML body: {{path}} inserts the value
// HTML-escaped; {{{path}}} inserts it raw.
func RenderHTML(template string, vars map[string]any) string {
	return render(template, vars, true)
}

// Render is RenderText.
func Render(template string, vars map[string]any) string {
	return render(template, vars, false)
}

func render(template string, vars map[string]any, html bool) string {
	matches := placeholder.FindAllStringSubmatchIndex(template, -1)
	if len(matches) == 0 {
		return template
	}
	safe := sanitizeVar(vars, "")
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(template[last:m[0]])
		last = m[1]
		if m[2] >= 0 { // {{{raw}}}
			b.WriteString(stringify(lookup(safe, template[m[2]:m[3]])))
			continue
		}
		s := stringify(lookup(safe, template[m[4]:m[5]]))
		if html {
			s = htmlEscaper.Replace(s)
		}
		b.WriteString(s)
	}
	b.WriteString(template[last:])
	return b.String()
}

// lookup follows a dotted path through maps and slices; nil when absent.
func lookup(v any, path string) any {
	found := false
	for p := range strings.SplitSeq(path, ".") {
		if p == "" {
			continue
		}
		found = true
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[p]
			if !ok {
				return nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	if !found {
		return nil
	}
	return v
}

// stringify formats a variable as JavaScript's String() would for JSON
// values.
func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return jsNumber(x)
	case float32:
		return jsNumber(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = stringify(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	case interface{ String() string }:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	default:
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
}

// sanitizeVar copies v, replacing every string under a key ending in
// "url" or "uri" with safeURL of it. Array elements inherit their array's
// key. []string and map[string]string become []any and map[string]any.
func sanitizeVar(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sanitizeVar(e, k)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sanitizeVar(e, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sanitizeVar(e, key)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sanitizeVar(e, key)
		}
		return out
	case string:
		k := strings.ToLower(key)
		if strings.HasSuffix(k, "url") || strings.HasSuffix(k, "uri") {
			return safeURL(x)
		}
		return x
	default:
		return v
	}
}

// safeURL returns raw as a normalised absolute http or https URL, or "".
func safeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	u.Host = strings.ToLower(u.Host)
	if u.Path == "" {
		u.Path = "/"
		u.RawPath = ""
	}
	u.RawQuery = escapeQuery(u.RawQuery)
	return u.String()
}

// escapeQuery percent-encodes the bytes a URL query must not carry raw
// (as the WHATWG URL parser does), so the URL is safe inside an attribute.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
